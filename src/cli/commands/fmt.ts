// `ioasform fmt FILE...`: rewrite layouts in canonical form (key order, indentation), keeping
// comments and the author's spelling of values. `--check` changes nothing and exits 1 when a
// file is not canonical, for CI.

import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatLayoutText } from '../../config/format.js';
import { readLayoutText } from '../../config/load.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { renderDiagnostics } from '../render.js';

export interface FmtOptions {
  readonly check?: boolean;
}

export async function formatFiles(files: readonly string[], options: FmtOptions, io: CliIo): Promise<number> {
  let exitCode = 0;
  for (const file of files) {
    const read = await readLayoutText(file);
    if ('diagnostic' in read) {
      io.stderr(renderDiagnostics([read.diagnostic], { color: io.color }));
      exitCode = 1;
      continue;
    }
    const formatted = formatLayoutText(read.text, file);
    if (formatted.text === undefined) {
      io.stderr(renderDiagnostics(formatted.diagnostics, { color: io.color, sources: new Map([[file, read.text]]) }));
      io.stderr(`${file}: not formatted (fix the YAML first)\n`);
      exitCode = 1;
      continue;
    }
    if (formatted.text === read.text) continue;
    if (options.check) {
      io.stdout(`${file}: would reformat\n`);
      exitCode = 1;
    } else {
      await writeFile(file, formatted.text, 'utf8');
      io.stdout(`${file}: formatted\n`);
    }
  }
  return exitCode;
}

export function registerFmt(program: Command, ctx: CommandContext): void {
  program
    .command('fmt')
    .description('rewrite layout files in canonical form, keeping comments')
    .argument('<files...>', 'layout files (YAML)')
    .option('--check', 'change nothing; exit 1 if any file is not in canonical form')
    .addHelpText('after', '\nExamples:\n  $ ioasform fmt examples/*.yaml\n  $ ioasform fmt --check examples/*.yaml   # in CI\n')
    .action(async (files: string[], options: FmtOptions) => ctx.setExitCode(await formatFiles(files, options, ctx.io)));
}
