// The kernel backend an agent holds: one /dev/iommu context and the memory holder that owns the
// regions (openKernelHeld, src/apply/kernel-held.ts). Closing it unmaps the regions and closes the
// fd, which destroys every IOAS on it.
import { openKernelHeld } from '../apply/kernel-held.js';
import type { HandoverFd, OpenedBackend } from './backend.js';
import { shadowed } from './shadow.js';

export async function openKernelBackend(log: (line: string) => void = () => undefined): Promise<OpenedBackend> {
  const opened = openKernelHeld();
  if (!opened.ok) return opened;
  const held = opened.backend;
  const mirror = shadowed(held.ctx, (method, kernel, shadow) => log(`warning: the kernel answered ${method} with ${kernel}, its model (the shadow simulator) with ${shadow}; the next plan's drift check shows the difference`));
  return {
    ok: true,
    backend: {
      held: { kind: 'kernel', ctx: mirror.ctx, holder: held.holder, snapshot: mirror.snapshot },
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
