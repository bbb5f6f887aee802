// The kernel backend an agent holds: one /dev/iommu context and the memory holder that owns the
// regions (openKernelHeld, src/apply/kernel-held.ts). Closing it unmaps the regions and closes the
// fd, which destroys every IOAS on it.
import { openKernelHeld } from '../apply/kernel-held.js';
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
      // In the order the state declares the regions; anonymous memory has no fd to pass.
      handoverFds: (body) => {
        const fds = held.regionFds();
        const list: HandoverFd[] = [{ kind: 'iommufd', fd: held.iommufdFd() }];
        for (const m of body.memory) list.push({ kind: 'memory', name: m.name, size: m.size, fd: fds.get(m.name) ?? null });
        return list;
      },
      close: () => void held.close(),
    },
  };
}
