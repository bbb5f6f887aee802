// The backend an agent holds for its whole life. On `sim` it is an in-memory simulator restored
// from the agent's state file (the simulated kernel lives there, so a restarted sim agent carries
// on where the last one stopped). On `kernel` it is the /dev/iommu fd and the backing memory,
// which die with the process that holds them.
import { openSimulator } from '../backends/sim/index.js';
import { simHolder } from '../apply/holder.js';
import type { HeldBackend } from '../apply/target.js';
import type { BackendKind, StateBody } from '../model/recorded.js';

/** One fd a handover passes, in SCM_RIGHTS order. */
export type HandoverFd =
  | { readonly kind: 'iommufd'; readonly fd: number }
  | { readonly kind: 'memory'; readonly name: string; readonly size: bigint; readonly fd: number | null }
  /** A bound VFIO device: its cdev fd, bound to the iommufd passed with it (dev id and HWPT id valid there). */
  | { readonly kind: 'device'; readonly name: string; readonly devId: number; readonly ioas: string; readonly ptId: number; readonly fd: number | null };

export interface AgentBackend {
  readonly held: HeldBackend;
  /** The fds a handover passes (iommufd first), or null when the backend has none (the simulator). */
  handoverFds(body: StateBody): HandoverFd[] | null;
  close(): void;
}

export type OpenedBackend = { readonly ok: true; readonly backend: AgentBackend } | { readonly ok: false; readonly code: string; readonly message: string };

export function openSimBackend(body: StateBody): OpenedBackend {
  let sim;
  try {
    sim = body.sim ? openSimulator({ state: body.sim as never }) : openSimulator();
  } catch (e) {
    return { ok: false, code: 'STATE_BAD_SIM', message: `the simulated kernel in the agent's state cannot be restored: ${(e as Error).message}` };
  }
  const held: HeldBackend = { kind: 'sim', ctx: sim, holder: simHolder, snapshot: (b) => ({ ...b, sim: sim.snapshot() }) };
  return { ok: true, backend: { held, handoverFds: () => null, close: () => sim.close() } };
}

/** Filled in by the kernel holder (src/agent/kernel-backend.ts); kept as a seam so sim-only hosts load nothing native. */
export type KernelBackendOpener = () => Promise<OpenedBackend>;

export async function openAgentBackend(kind: BackendKind, body: StateBody, openKernelBackend: KernelBackendOpener): Promise<OpenedBackend> {
  return kind === 'sim' ? openSimBackend(body) : openKernelBackend();
}
