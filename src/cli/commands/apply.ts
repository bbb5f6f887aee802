// `ioasform apply [FILE] [--auto-approve]`: FILE is a layout (plan, confirm, apply) or a plan saved
// by `plan -out` (applied as is, refused when stale). Exit 0 applied, 1 error or failed and fully
// rolled back, 3 failed and the rollback is incomplete (the state needs attention).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { planFor } from '../../apply/make.js';
import type { ApplyReport } from '../../apply/apply.js';
import type { Session, WorkResult } from '../../apply/session.js';
import { hostFacts, runSteps, withSession } from '../../apply/session.js';
import { basisOf } from '../../apply/store.js';
import { decodePlan, encodePlan } from '../../plan/encode.js';
import { planFileProblem } from '../plan-file-schema.js';
import type { Plan } from '../../plan/plan.js';
import type { Step } from '../../model/step.js';
import { planHasChanges, staleReason } from '../../plan/plan.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { memlockView, renderApplyReport, renderPredictedFailure, writePlan } from '../plan-view.js';
import { readMemlockLimit } from '../../apply/host-profile.js';
import type { GlobalOptions } from './common.js';
import { confirm, exitCodeForApply, progress, reportRecovery, sessionOptions, styleFor, warnAttention, runWithGlobals } from './common.js';
import { loadLayoutOrReport } from './plan.js';
import { remoteApply } from './remote.js';

export interface ApplyOptions {
  readonly autoApprove?: boolean;
}

type Outcome = { readonly kind: 'no-changes' } | { readonly kind: 'declined' } | { readonly kind: 'ran'; readonly report: ApplyReport; readonly verb: 'Apply' | 'Destroy' };

/** A saved plan is JSON with a formatVersion; anything else is taken as a layout. */
export async function readSavedPlan(file: string): Promise<{ plan: Plan } | { error: string } | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { error: `cannot read ${file}: ${(e as Error).message}` };
  }
  // A layout may be written in JSON too (YAML is a superset); a plan is the JSON with formatVersion.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || !('formatVersion' in parsed)) return null;
  const decoded = decodePlan(text);
  if (decoded.ok) {
    const problem = planFileProblem(parsed);
    if (problem) return { error: `${file} is not a valid plan file: ${problem}` };
  }
  return decoded.ok ? { plan: decoded.plan } : { error: `${file}: ${decoded.message}` };
}

type Approved = { readonly kind: 'no-changes' } | { readonly kind: 'declined' } | { readonly kind: 'approved'; readonly steps: readonly Step[] };

/**
 * Plans (or takes the saved plan), prints it and asks. Only the steps leave this function: the
 * rest of the plan (its changes with their attribute rows, the desired layout) is not needed by
 * the run, and at 100k entries it is ~100 MB that would otherwise stay alive through the apply.
 */
async function planAndApprove(
  session: Session,
  io: CliIo,
  makePlan: (session: Session) => Promise<WorkResult<Plan>>,
  options: { autoApprove: boolean; saved: boolean; verb: string },
): Promise<WorkResult<Approved>> {
  const made = await makePlan(session);
  if (!made.ok) return made;
  const plan = made.value;
  const st = styleFor(io);
  if (!planHasChanges(plan)) {
    writePlan(plan, st, { calls: false, ...memlockView(plan, readMemlockLimit) }, io.stdout);
    return { ok: true, value: { kind: 'no-changes' } };
  }
  if (!options.saved) {
    writePlan(plan, st, { calls: false, ...memlockView(plan, readMemlockLimit) }, io.stdout);
    if (!options.autoApprove) {
      if (!io.isTTY || process.stdin.isTTY !== true) {
        return { ok: false, error: { code: 'NEEDS_APPROVAL', message: `not a terminal, so nobody can confirm: pass --auto-approve to ${options.verb} without asking` } };
      }
      if (!(await confirm(io, `\nDo you want to ${options.verb}?`))) return { ok: true, value: { kind: 'declined' } };
    }
  }
  return { ok: true, value: { kind: 'approved', steps: plan.steps } };
}

/**
 * Plans (or takes the saved plan), asks, and runs it in one locked session. `makePlan` is called
 * once; it should not keep the layout it plans from (see applyCommand), so that only the steps
 * are alive while they run.
 */
export async function runPlanned(
  session: Session,
  io: CliIo,
  makePlan: (session: Session) => Promise<WorkResult<Plan>>,
  options: { autoApprove: boolean; saved: boolean; verb: string },
): Promise<WorkResult<Outcome>> {
  warnAttention(session.state.body, io);
  const approved = await planAndApprove(session, io, makePlan, options);
  if (!approved.ok) return approved;
  if (approved.value.kind !== 'approved') return { ok: true, value: approved.value };
  const steps = approved.value.steps;
  const bar = progress(io);
  // Ctrl-C (or a polite kill) stops before the next call and rolls back, instead of leaving a
  // half-applied target and a stale lock behind.
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const ran = await runSteps(session, steps, options.verb === 'destroy' ? 'destroy' : 'apply', bar.onEvent, () => stop);
    if (!ran.ok) return ran;
    return { ok: true, value: { kind: 'ran', report: ran.report, verb: options.verb === 'destroy' ? 'Destroy' : 'Apply' } };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar.stop();
  }
}

export function printOutcome(outcome: Outcome, io: CliIo): number {
  if (outcome.kind === 'no-changes') return 0;
  if (outcome.kind === 'declined') {
    io.stderr('Cancelled: nothing was changed.\n');
    return 1;
  }
  const text = renderApplyReport(outcome.report, styleFor(io), outcome.verb);
  if (outcome.report.outcome === 'applied') io.stdout(text);
  else io.stderr(text);
  return exitCodeForApply(outcome.report.outcome);
}

export async function applyCommand(file: string, options: ApplyOptions, globals: GlobalOptions, io: CliIo): Promise<number> {
  if (globals.agent) return remoteApply(file, options, globals, io);
  const read = await readSavedPlan(file);
  if (read && 'error' in read) {
    io.stderr(`Error: ${read.error}\n`);
    return 1;
  }
  // Held in variables the planning callback empties: the layout and a saved plan are needed
  // only until the plan is made, not through the run (runPlanned).
  let saved = read;
  let layout = saved ? null : await loadLayoutOrReport(file, io);
  if (!saved && !layout) return 1;
  const isSaved = saved !== null;
  const result = await withSession(sessionOptions(globals, 'apply'), (session) =>
    runPlanned(
      session,
      io,
      async (s): Promise<WorkResult<Plan>> => {
        const desired = layout;
        layout = null;
        if (saved) {
          const savedPlan = saved;
          saved = null;
          const stale = staleReason(savedPlan.plan, basisOf(s.state), hostFacts(s.options.backend, s.state.body));
          if (stale) return { ok: false, error: { code: 'PLAN_STALE', message: `saved plan is stale: ${stale}. Run \`ioasform plan\` again.` } };
          // The file carries both the desired layout and the calls. Re-deriving the plan from its
          // layout against the same state must give the very same document; otherwise the file
          // was edited and the state would record a layout the calls did not build.
          const again = await planFor(s, savedPlan.plan.desired, savedPlan.plan.layoutFile);
          if (!again.ok || encodePlan(again.plan) !== encodePlan(savedPlan.plan)) {
            return { ok: false, error: { code: 'PLAN_TAMPERED', message: `saved plan ${file} does not match what its own layout plans against the current state: the file was edited after \`ioasform plan -out\`. Run \`ioasform plan\` again.` } };
          }
          return { ok: true, value: savedPlan.plan };
        }
        const made = await planFor(s, desired!, file);
        if (!made.ok) return { ok: false, error: { code: made.code, message: made.wouldFail ? renderPredictedFailure(made.wouldFail).trimEnd() : made.message } };
        return { ok: true, value: made.plan };
      },
      { autoApprove: options.autoApprove === true, saved: isSaved, verb: 'apply' },
    ),
  );
  reportRecovery(result.recovery ?? null, io);
  if (!result.ok) {
    io.stderr(`Error: ${result.error.message}\n`);
    return 1;
  }
  return printOutcome(result.value, io);
}

export function registerApply(program: Command, ctx: CommandContext): void {
  program
    .command('apply')
    .description('make the target match a layout (plans first and asks on a terminal), or run a plan saved with `plan -out`')
    .argument('<file>', 'a layout file (YAML) or a saved plan file')
    .option('--auto-approve', 'do not ask for confirmation (required when not on a terminal)')
    .addHelpText('after', '\nExamples:\n  $ ioasform apply examples/dpdk-appliance.yaml\n  $ ioasform plan -out dp.plan examples/dpdk-appliance.yaml && ioasform apply dp.plan\n  $ ioasform apply --auto-approve examples/test-lab.yaml\n\nExit codes: 0 applied (or no changes), 1 error or failed and rolled back, 3 failed and rollback incomplete.\n')
    .action(async (file: string, options: ApplyOptions, command: Command) => {
      await runWithGlobals(ctx, command, (globals) => applyCommand(file, options, globals, ctx.io));
    });
}
