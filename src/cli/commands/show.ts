// `ioasform show [--json]`: the recorded state (what ioasform last put on the target).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadState } from '../../apply/store.js';
import { KERNEL_NEEDS_AGENT } from '../../apply/target.js';
import { journalPathFor } from '../../state/paths.js';
import { encodeJson } from '../../plan/encode.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { renderTextMap, stateToIovaMap } from '../../graph/index.js';
import { renderState } from '../plan-view.js';
import type { GlobalOptions } from './common.js';
import { runWithGlobals } from './common.js';
import { remoteShow } from './remote.js';

export const SHOW_FORMAT_VERSION = 1;

export interface ShowOptions {
  readonly json?: boolean;
  /** false with --no-map: leave out the text IOVA map. */
  readonly map?: boolean;
}

export async function showCommand(options: ShowOptions, globals: GlobalOptions, io: CliIo): Promise<number> {
  if (globals.agent) return remoteShow(options, globals, io);
  // Reading needs no lock (the state file is replaced atomically), so `show` works during an apply.
  if (globals.backend === 'kernel') {
    io.stderr(`Error: ${KERNEL_NEEDS_AGENT}\n`);
    return 1;
  }
  const loaded = await loadState(globals.state, globals.backend);
  if (!loaded.ok) {
    io.stderr(`Error: ${loaded.message}\n`);
    return 1;
  }
  if (existsSync(journalPathFor(globals.state))) {
    io.stderr('Note: an apply journal exists: an apply is running, or was interrupted and the next plan/apply will finish its undo.\n');
  }
  const { envelope, body } = loaded.state;
  if (options.json) {
    // The simulated kernel is internal: the document shows what ioasform recorded.
    const { sim: _sim, ...recorded } = body;
    io.stdout(encodeJson({ formatVersion: SHOW_FORMAT_VERSION, lineage: envelope?.lineage ?? null, serial: envelope?.serial ?? null, state: envelope ? recorded : null }));
  } else {
    io.stdout(renderState(body, envelope));
    // The compact IOVA map per IOAS, under the listing, at the IOVAs the kernel actually chose.
    if (options.map !== false && body.ioas.length > 0) io.stdout(`\nIOVA map:\n${renderTextMap(stateToIovaMap(body), { color: io.color })}`);
  }
  return 0;
}

export function registerShow(program: Command, ctx: CommandContext): void {
  program
    .command('show')
    .description('print the recorded state: memory regions, IOASes with kernel ids, every area with its IOVA')
    .option('--json', 'print the state as JSON (bigints as "0x…")')
    .option('--no-map', 'leave out the text IOVA map under the listing')
    .addHelpText('after', '\nExamples:\n  $ ioasform show\n  $ ioasform --state lab.state.json show --json\n  $ ioasform show --no-map\n')
      .action(async (options: ShowOptions, command: Command) => {
      await runWithGlobals(ctx, command, (globals) => showCommand(options, globals, ctx.io));
    });
}
