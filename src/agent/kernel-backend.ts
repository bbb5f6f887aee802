// The kernel backend an agent holds: one /dev/iommu context and the memory holder that owns the
// regions (openKernelHeld, src/apply/kernel-held.ts). Closing it unmaps the regions and closes the
// fd, which destroys every IOAS on it.
import { openKernelHeld } from '../apply/kernel-held.js';
import type { StateBody } from '../model/recorded.js';
import type { HandoverFd, OpenedBackend } from './backend.js';

export async function openKernelBackend(): Promise<OpenedBackend> {
  const opened = openKernelHeld();
  if (!opened.ok) return opened;
  const held = opened.backend;
  // openKernelHeld's backend is the HeldBackend itself; its snapshot leaves the body as it is, so
  // the state keeps no simulator snapshot for the kernel (`sim: null`): plans are dry-run on a
  // simulator rebuilt from the record (replayOnSimulator, src/apply/replay.ts), and the drift
  // check compares the kernel with that same rebuild.
  return {
    ok: true,
    backend: {
      held,
      handoverFds: (body) => handoverList(body, held.iommufdFd(), held.regionFds(), held.ctx.deviceFds()),
      close: () => void held.close(),
    },
  };
}

/**
 * What a kernel agent hands over, in SCM_RIGHTS order: the iommufd, the regions in the order the
 * state declares them (anonymous memory has no fd to pass), then the bound devices in the state's
 * (name) order. A VMM or dataplane receiving the iommufd drives each device through its cdev fd,
 * already bound to that iommufd (dev id) and attached (HWPT id).
 */
export function handoverList(body: StateBody, iommufd: number, regionFds: ReadonlyMap<string, number>, deviceFds: ReadonlyMap<number, number>): HandoverFd[] {
  const list: HandoverFd[] = [{ kind: 'iommufd', fd: iommufd }];
  for (const m of body.memory) list.push({ kind: 'memory', name: m.name, size: m.size, fd: regionFds.get(m.name) ?? null });
  for (const d of body.devices ?? []) list.push({ kind: 'device', name: d.name, devId: d.devId, ioas: d.ioas, ptId: d.ptId, fd: deviceFds.get(d.devId) ?? null });
  return list;
}
