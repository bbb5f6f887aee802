// `ioasform force-unlock ID`: remove a lock left behind (e.g. by a killed apply), only if it
// carries ID, so a lock taken since by someone else is never removed by mistake.
import type { Command } from 'commander';
import { forceUnlock } from '../../state/lock.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import type { GlobalOptions } from './common.js';
import { runWithGlobals } from './common.js';

export async function forceUnlockCommand(id: string, globals: GlobalOptions, io: CliIo): Promise<number> {
  const result = await forceUnlock(globals.state, id);
  if (!result.ok) {
    io.stderr(`Error: ${result.error.message}\n`);
    return 1;
  }
  const h = result.holder;
  io.stdout(`Removed lock ${h.id} (pid ${h.pid} on ${h.host}, "${h.operation}" since ${h.time}). The next plan or apply finishes any interrupted apply first.\n`);
  return 0;
}

export function registerForceUnlock(program: Command, ctx: CommandContext): void {
  program
    .command('force-unlock')
    .description('remove the state lock with the given ID (printed by the command that found it stale)')
    .argument('<id>', 'the lock ID')
    .addHelpText('after', '\nExample:\n  $ ioasform force-unlock 0f3c9a52-1d2e-4c41-9a55-5b1e8f6b2a10\n')
    .action(async (id: string, _options: object, command: Command) => {
      await runWithGlobals(ctx, command, (globals) => forceUnlockCommand(id, globals, ctx.io));
    });
}
