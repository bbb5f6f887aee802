// `ioasform show [--json]`: the recorded state (what ioasform last put on the target).
import type { Command } from 'commander';
import { withSession } from '../../apply/session.js';
import { encodeJson } from '../../plan/encode.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { renderState } from '../plan-view.js';
import type { GlobalOptions } from './common.js';
import { readGlobals, reportRecovery, sessionOptions } from './common.js';

export const SHOW_FORMAT_VERSION = 1;

export async function showCommand(options: { json?: boolean }, globals: GlobalOptions, io: CliIo): Promise<number> {
  const result = await withSession(sessionOptions(globals, 'show'), async (session) => ({ ok: true, value: session.state }));
  reportRecovery(result.recovery ?? null, io);
  if (!result.ok) {
    io.stderr(`Error: ${result.error.message}\n`);
    return 1;
  }
  const { envelope, body } = result.value;
  if (options.json) {
    // The simulated kernel is internal: the document shows what ioasform recorded.
    const { sim: _sim, ...recorded } = body;
    io.stdout(encodeJson({ formatVersion: SHOW_FORMAT_VERSION, lineage: envelope?.lineage ?? null, serial: envelope?.serial ?? null, state: envelope ? recorded : null }));
  } else {
    io.stdout(renderState(body, envelope));
  }
  return 0;
}

export function registerShow(program: Command, ctx: CommandContext): void {
  program
    .command('show')
    .description('print the recorded state: memory regions, IOASes with kernel ids, every area with its IOVA')
    .option('--json', 'print the state as JSON (bigints as "0x…")')
    .addHelpText('after', '\nExamples:\n  $ ioasform show\n  $ ioasform --state lab.state.json show --json\n')
    .action(async (options: { json?: boolean }, command: Command) => {
      const globals = readGlobals(command);
      if (!globals.ok) {
        ctx.io.stderr(`Error: ${globals.message}\n`);
        return ctx.setExitCode(1);
      }
      ctx.setExitCode(await showCommand(options, globals.globals, ctx.io));
    });
}
