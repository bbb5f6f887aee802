// `ioasform validate FILE...`: parse, schema-check and semantically check layouts.
// Exit 0 when every file is valid (warnings allowed), 1 otherwise.

import type { Command } from 'commander';
import { loadLayoutFile } from '../../config/load.js';
import { hasErrors, type Diagnostic } from '../../diagnostics.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { renderDiagnostics, summarize } from '../render.js';

export interface ValidateOptions {
  readonly json?: boolean;
}

export async function validateFiles(files: readonly string[], options: ValidateOptions, io: CliIo): Promise<number> {
  const results: { file: string; diagnostics: readonly Diagnostic[]; text?: string }[] = [];
  for (const file of files) {
    const loaded = await loadLayoutFile(file);
    results.push({ file, diagnostics: loaded.diagnostics, ...(loaded.text !== undefined ? { text: loaded.text } : {}) });
  }
  const valid = results.every((r) => !hasErrors(r.diagnostics));

  if (options.json) {
    const view = {
      valid,
      files: results.map((r) => ({ file: r.file, valid: !hasErrors(r.diagnostics), diagnostics: r.diagnostics })),
    };
    io.stdout(`${JSON.stringify(view, null, 2)}\n`);
    return valid ? 0 : 1;
  }

  for (const r of results) {
    if (r.diagnostics.length > 0) {
      const sources = new Map(r.text !== undefined ? [[r.file, r.text]] : []);
      io.stderr(renderDiagnostics(r.diagnostics, { color: io.color, sources }));
    }
    const verdict = hasErrors(r.diagnostics) ? 'invalid' : 'valid';
    const line = `${r.file}: ${verdict} (${summarize(r.diagnostics)})\n`;
    if (hasErrors(r.diagnostics)) io.stderr(line);
    else io.stdout(line);
  }
  return valid ? 0 : 1;
}

export function registerValidate(program: Command, ctx: CommandContext): void {
  program
    .command('validate')
    .description('check layout files: YAML, schema and semantic rules; print every problem found')
    .argument('<files...>', 'layout files (YAML)')
    .option('--json', 'print the diagnostics as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  $ ioasform validate examples/*.yaml\n  $ ioasform validate --json my-layout.yaml\n')
    .action(async (files: string[], options: ValidateOptions) => ctx.setExitCode(await validateFiles(files, options, ctx.io)));
}
