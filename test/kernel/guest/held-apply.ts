// An apply on the kernel held in-process (`openKernelHeld`, no agent), as the CLI's session makes
// it: plan against the recorded state, then run the steps through the applier. Shared by the
// guest files that sweep faults in-process (fail-nth is per task, so an agent cannot be used).
import type { ApplyReport } from '../../../src/apply/apply.js';
import type { KernelHeldBackend } from '../../../src/apply/kernel-held.js';
import { planFor } from '../../../src/apply/make.js';
import { runSteps, withSession } from '../../../src/apply/session.js';
import { loadState } from '../../../src/apply/store.js';
import type { Layout } from '../../../src/model/layout.js';
import type { StateBody } from '../../../src/model/recorded.js';
import type { UapiContext } from '../../../src/model/uapi.js';
import type { Plan } from '../../../src/plan/plan.js';

/** Plans `desired` against the state at `path` and applies it; `wrap` sees every uapi call. */
export async function applyOnHeld(
  path: string,
  backend: KernelHeldBackend,
  desired: Layout,
  wrap?: (ctx: UapiContext) => UapiContext,
  operation: 'apply' | 'destroy' = 'apply',
): Promise<{ plan: Plan; report: ApplyReport }> {
  const options = { statePath: path, backend: 'kernel' as const, operation: 'apply', lockTimeoutMs: 0, targetOptions: { held: backend, ...(wrap ? { wrap } : {}) } };
  const r = await withSession(options, async (s) => {
    const made = await planFor(s, desired, null);
    if (!made.ok) return { ok: false as const, error: { code: 'PLAN', message: JSON.stringify(made, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v)) } };
    const ran = await runSteps(s, made.plan.steps, operation);
    return ran.ok ? { ok: true as const, value: { plan: made.plan, report: ran.report } } : ran;
  });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** The state body recorded at `path`. */
export async function recordedBody(path: string): Promise<StateBody> {
  const loaded = await loadState(path, 'kernel');
  if (!loaded.ok) throw new Error(loaded.message);
  return loaded.state.body;
}
