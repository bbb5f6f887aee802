// Opens the backend a command runs on, from the recorded state: the simulator is restored from the
// snapshot stored in the state file (the simulated kernel lives there); the kernel backend needs
// the holder agent, which does not exist yet, so it is refused with a clear message.
import { openSimulator } from '../backends/sim/index.js';
import type { BackendKind, StateBody } from '../model/recorded.js';
import type { UapiContext } from '../model/uapi.js';
import type { MemoryHolder } from './holder.js';
import { simHolder } from './holder.js';
import type { RunnerEnv } from './runner.js';

export interface Target {
  readonly kind: BackendKind;
  readonly env: RunnerEnv;
  /** The body with the backend's own persistent part (the simulated kernel) put in. */
  snapshot(body: StateBody): StateBody;
  close(): Promise<void>;
}

export interface OpenTargetOptions {
  /** Wraps the uapi context (failure injection in tests). */
  readonly wrap?: (ctx: UapiContext) => UapiContext;
  readonly holder?: MemoryHolder;
}

export type OpenTargetResult = { readonly ok: true; readonly target: Target } | { readonly ok: false; readonly code: string; readonly message: string };

export const KERNEL_NEEDS_AGENT =
  'the kernel backend needs the ioasform holder agent (a long-lived process that owns the iommufd fd and the memory regions the mappings point into); it is not available in this version. Use --backend sim.';

export function openTarget(kind: BackendKind, body: StateBody, options: OpenTargetOptions = {}): OpenTargetResult {
  if (kind === 'kernel') return { ok: false, code: 'KERNEL_NEEDS_AGENT', message: KERNEL_NEEDS_AGENT };
  let sim;
  try {
    sim = body.sim ? openSimulator({ state: body.sim as never }) : openSimulator();
  } catch (e) {
    return { ok: false, code: 'STATE_BAD_SIM', message: `the simulated kernel in the state file cannot be restored: ${(e as Error).message}` };
  }
  const ctx = options.wrap ? options.wrap(sim) : sim;
  return {
    ok: true,
    target: {
      kind,
      env: { ctx, holder: options.holder ?? simHolder },
      snapshot: (b) => ({ ...b, sim: sim.snapshot() }),
      close: async () => sim.close(),
    },
  };
}
