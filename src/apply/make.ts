// Plan making as the commands need it: the pure planner, then IOVA prediction on a simulator
// restored from the recorded state.
import type { Layout } from '../model/layout.js';
import { makePlan } from '../plan/plan.js';
import type { Plan } from '../plan/plan.js';
import type { PredictedFailure } from './predict.js';
import { predict } from './predict.js';
import type { Session } from './session.js';
import { hostFacts } from './session.js';
import { basisOf } from './store.js';

export type PlanOutcome =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly wouldFail?: PredictedFailure };

export async function planFor(session: Session, desired: Layout, layoutFile: string | null): Promise<PlanOutcome> {
  const made = makePlan({ desired, recorded: session.state.body, basis: basisOf(session.state), host: hostFacts(session.options.backend), layoutFile });
  if (!made.ok) return { ok: false, code: made.error.code, message: made.error.message };
  const predicted = await predict(made.plan, session.state.body);
  if (!predicted.ok) {
    if (predicted.failure === null) return { ok: false, code: 'PREDICT_FAILED', message: predicted.message };
    return { ok: false, code: 'PLAN_WOULD_FAIL', message: `the plan would fail: ${predicted.failure.call} ${predicted.failure.code}`, wouldFail: predicted.failure };
  }
  return { ok: true, plan: predicted.plan };
}
