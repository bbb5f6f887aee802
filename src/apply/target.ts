// Opens the backend a command runs on. Two cases:
// - a backend held by a long-lived process (the holder agent: the kernel's /dev/iommu fd and the
//   backing memory, or an agent's in-memory simulator) is passed in as `held` and used as is;
// - otherwise the simulator is restored from the snapshot stored in the state file (the simulated
//   kernel lives there). The kernel backend without a holder is refused with a clear message,
//   because every kernel object dies when the process that opened /dev/iommu exits.
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
  /**
   * null: the backend lives in the state file (the simulator restored from it), so a commit
   * records it and a crash leaves it as of the last commit. A string: a held backend, which
   * lives in a process and dies with it; the string names that backend instance.
   */
  readonly instance: string | null;
  close(): Promise<void>;
}

/** A backend that outlives one command: owned by the holder agent, never closed by a session. */
export interface HeldBackend {
  readonly kind: BackendKind;
  readonly ctx: UapiContext;
  readonly holder: MemoryHolder;
  /** Adds the backend's own persistent part to a body before it is committed (or returns it as is). */
  snapshot(body: StateBody): StateBody;
  /**
   * Names this backend instance (e.g. the agent's pid and start time). It must change whenever the
   * kernel objects may have died (a new /dev/iommu fd). Default: this process (pid + start time).
   */
  readonly instance?: string;
}

/** This process, as a backend instance name: a held backend dies with it. */
export const PROCESS_INSTANCE = `pid ${process.pid} started ${new Date(Math.round(performance.timeOrigin)).toISOString()}`;

export interface OpenTargetOptions {
  /** Wraps the uapi context (failure injection in tests). */
  readonly wrap?: (ctx: UapiContext) => UapiContext;
  readonly holder?: MemoryHolder;
  /** Run on this backend instead of one restored from the state file. */
  readonly held?: HeldBackend;
}

export type OpenTargetResult = { readonly ok: true; readonly target: Target } | { readonly ok: false; readonly code: string; readonly message: string };

export const KERNEL_NEEDS_AGENT =
  'the kernel backend needs the ioasform holder agent (a long-lived process that owns the iommufd fd and the memory regions the mappings point into, because every kernel object dies with the fd). Start one with `ioasform agent --socket PATH` and pass --agent PATH, or use --backend sim.';

export function openTarget(kind: BackendKind, body: StateBody, options: OpenTargetOptions = {}): OpenTargetResult {
  const held = options.held;
  if (held) {
    if (held.kind !== kind) return { ok: false, code: 'STATE_OTHER_BACKEND', message: `the state records the ${kind} backend but the held backend is ${held.kind}` };
    return {
      ok: true,
      target: {
        kind,
        env: { ctx: options.wrap ? options.wrap(held.ctx) : held.ctx, holder: options.holder ?? held.holder },
        snapshot: (b) => held.snapshot(b),
        instance: held.instance ?? PROCESS_INSTANCE,
        // The holder owns the backend's lifetime; a session only borrows it.
        close: async () => {},
      },
    };
  }
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
      instance: null,
      close: async () => sim.close(),
    },
  };
}
