// `ioasform destroy [--auto-approve]`: plan the removal of everything the state records (the
// options stay as they are) and apply it, with the same journal and rollback as apply.
import type { Command } from 'commander';
import { planFor } from '../../apply/make.js';
import { withSession } from '../../apply/session.js';
import { EMPTY_LAYOUT } from '../../model/layout.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { renderPredictedFailure } from '../plan-view.js';
import { printOutcome, runPlanned } from './apply.js';
import type { GlobalOptions } from './common.js';
import { remoteDestroy } from './remote.js';
import { reportRecovery, sessionOptions, runWithGlobals } from './common.js';

export async function destroyCommand(options: { autoApprove?: boolean }, globals: GlobalOptions, io: CliIo): Promise<number> {
  if (globals.agent) return remoteDestroy(options, globals, io);
  const result = await withSession(sessionOptions(globals, 'destroy'), (session) =>
    runPlanned(
      session,
      io,
      async (s) => {
        // Keep the recorded rlimit mode: destroying must not need an extra option change.
        const made = await planFor(s, { ...EMPTY_LAYOUT, options: s.state.body.options }, null);
        if (!made.ok) return { ok: false, error: { code: made.code, message: made.wouldFail ? renderPredictedFailure(made.wouldFail).trimEnd() : made.message } };
        return { ok: true, value: made.plan };
      },
      { autoApprove: options.autoApprove === true, saved: false, verb: 'destroy' },
    ),
  );
  reportRecovery(result.recovery ?? null, io);
  if (!result.ok) {
    io.stderr(`Error: ${result.error.message}\n`);
    return 1;
  }
  return printOutcome(result.value, io);
}

export function registerDestroy(program: Command, ctx: CommandContext): void {
  program
    .command('destroy')
    .description('unmap, destroy and release everything the state records')
    .option('--auto-approve', 'do not ask for confirmation (required when not on a terminal)')
    .addHelpText('after', '\nExamples:\n  $ ioasform destroy\n  $ ioasform --state lab.state.json destroy --auto-approve\n')
    .action(async (options: { autoApprove?: boolean }, command: Command) => {
      await runWithGlobals(ctx, command, (globals) => destroyCommand(options, globals, ctx.io));
    });
}
