// IOVA prediction: dry-runs a plan's steps through the step runner on a throw-away simulator
// restored from the recorded state, so the plan can show the IOVA the kernel will pick for every
// automatic mapping and copy, and say so up front when a call would fail.
import type { StateBody } from '../model/recorded.js';
import type { Step } from '../model/step.js';
import type { Change } from '../plan/diff.js';
import type { Plan } from '../plan/plan.js';
import { errnoMeaning } from './errno-meaning.js';
import { replayOnSimulator } from './replay.js';
import { runTableStep } from './runner.js';
import { openTarget } from './target.js';
import { WorkingTable } from './working-table.js';

export interface PredictedFailure {
  readonly index: number;
  readonly step: Step;
  readonly call: string;
  readonly code: string;
  readonly meaning: string;
}

export type PredictResult =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly failure: PredictedFailure }
  | { readonly ok: false; readonly failure: null; readonly message: string };

export async function predict(plan: Plan, body: StateBody): Promise<PredictResult> {
  // Prediction always runs on a simulator, also for kernel plans: the recorded state says what
  // the kernel holds, and the simulator allocates IOVAs exactly as the kernel does.
  // A kernel state stores no simulator snapshot: rebuild one from what it records.
  let sim: unknown = body.sim;
  if (!sim && body.ioas.length > 0) {
    const replayed = replayOnSimulator(body);
    if (!replayed.ok) return { ok: false, failure: null, message: replayed.message };
    sim = replayed.sim.snapshot();
    replayed.sim.close();
  }
  const opened = openTarget('sim', { ...body, sim: sim ?? null });
  if (!opened.ok) return { ok: false, failure: null, message: opened.message };
  const { target } = opened;
  const table = WorkingTable.from(body);
  const steps: Step[] = [];
  const predicted = new Map<string, bigint>();
  try {
    for (let i = 0; i < plan.steps.length; i++) {
      const step = plan.steps[i]!;
      const run = await runTableStep(target.env, table, step);
      if (!run.ok) {
        return { ok: false, failure: { index: i, step, call: run.call, code: run.code, meaning: run.message ?? errnoMeaning(step.op, run.code) } };
      }
      if ((step.op === 'map' || step.op === 'copy') && run.output.op === step.op && step.iova === null) {
        const iova = run.output.areas[0]?.iova;
        if (iova !== undefined) {
          predicted.set(step.address, iova);
          steps.push({ ...step, predictedIova: iova });
          continue;
        }
      }
      steps.push(step);
    }
  } finally {
    await target.close();
  }
  const changes: Change[] = plan.changes.map((c) => {
    const iova = predicted.get(c.address);
    return iova !== undefined && (c.action === 'create' || c.action === 'replace') ? { ...c, predictedIova: iova } : c;
  });
  return { ok: true, plan: { ...plan, steps, changes } };
}
