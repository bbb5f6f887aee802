// `ioasform plan LAYOUT [--out FILE] [--json] [--calls] [--detailed-exitcode]`: what apply would
// do. Exit codes are always "detailed": 0 no changes, 2 changes present, 1 error.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { readMemlockLimit } from '../../apply/host-profile.js';
import { planFor } from '../../apply/make.js';
import { withSession } from '../../apply/session.js';
import { loadLayoutFile } from '../../config/load.js';
import { hasErrors } from '../../diagnostics.js';
import type { Layout } from '../../model/layout.js';
import { encodePlan } from '../../plan/encode.js';
import type { Plan } from '../../plan/plan.js';
import { planHasChanges } from '../../plan/plan.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { memlockView, renderPredictedFailure, writePlan } from '../plan-view.js';
import { renderDiagnostics } from '../render.js';
import { remotePlan } from './remote.js';
import type { GlobalOptions } from './common.js';
import { reportRecovery, sessionOptions, styleFor, warnAttention, runWithGlobals } from './common.js';

export interface PlanOptions {
  readonly out?: string;
  readonly json?: boolean;
  readonly calls?: boolean;
  readonly detailedExitcode?: boolean;
}

/** Loads a layout file, printing its diagnostics; null when it has errors. */
export async function loadLayoutOrReport(file: string, io: CliIo): Promise<Layout | null> {
  const loaded = await loadLayoutFile(file);
  if (loaded.diagnostics.length > 0) {
    const sources = new Map(loaded.text !== undefined ? [[file, loaded.text]] : []);
    io.stderr(renderDiagnostics(loaded.diagnostics, { color: io.color, sources }));
  }
  if (hasErrors(loaded.diagnostics) || !loaded.layout) return null;
  return loaded.layout;
}

export async function planCommand(file: string, options: PlanOptions, globals: GlobalOptions, io: CliIo): Promise<number> {
  if (globals.agent) return remotePlan(file, options, globals, io);
  const layout = await loadLayoutOrReport(file, io);
  if (!layout) return 1;
  const result = await withSession(sessionOptions(globals, 'plan'), async (session) => {
    warnAttention(session.state.body, io);
    const made = await planFor(session, layout, file);
    if (!made.ok) return { ok: false, error: { code: made.code, message: made.wouldFail ? renderPredictedFailure(made.wouldFail).trimEnd() : made.message } };
    return { ok: true, value: made.plan };
  });
  reportRecovery(result.recovery ?? null, io);
  if (!result.ok) {
    io.stderr(`Error: ${result.error.message}\n`);
    return 1;
  }
  const plan: Plan = result.value;
  if (options.json) io.stdout(encodePlan(plan));
  else writePlan(plan, styleFor(io), { calls: options.calls === true, ...memlockView(plan, readMemlockLimit) }, io.stdout);
  if (options.out) {
    await writeFile(options.out, encodePlan(plan));
    if (!options.json) io.stdout(`\nSaved the plan to ${options.out}. To perform exactly these actions, run:\n  ioasform apply ${options.out}\n`);
  }
  return planHasChanges(plan) ? 2 : 0;
}

export function registerPlan(program: Command, ctx: CommandContext): void {
  program
    .command('plan')
    .description('show the ordered iommufd calls that would make the target match a layout (exit 0: no changes, 2: changes, 1: error)')
    .argument('<layout>', 'layout file (YAML)')
    .option('-o, --out <file>', 'save the plan to FILE for `ioasform apply FILE` (also spelled -out FILE)')
    .option('--json', 'print the plan document (schema/plan.schema.json) instead of text')
    .option('--calls', 'also print the ordered call list with predicted IOVAs')
    .option('--detailed-exitcode', 'accepted for Terraform users; ioasform always exits 2 when there are changes')
    .addHelpText('after', '\nExamples:\n  $ ioasform plan examples/dpdk-appliance.yaml\n  $ ioasform plan --calls -out dp.plan examples/dpdk-appliance.yaml && ioasform apply dp.plan\n\nExit codes: 0 no changes, 2 changes present, 1 error.\n')
    .action(async (file: string, options: PlanOptions, command: Command) => {
      await runWithGlobals(ctx, command, (globals) => planCommand(file, options, globals, ctx.io));
    });
}
