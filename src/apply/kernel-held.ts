// The real kernel as a HeldBackend: one /dev/iommu context and the memory holder that owns the
// regions its mappings point into, kept alive together by a long-lived process (the holder agent,
// or a test running in-process). Closing it frees everything: the regions are unmapped and the
// iommufd fd is closed, which destroys every IOAS and mapping on it.
import { KernelUnavailableError, openKernel, type KernelContext, type KernelOptions } from '../backends/kernel/kernel.js';
import { loadNative } from '../backends/kernel/native.js';
import type { StateBody } from '../model/recorded.js';
import { kernelHolder, type HeldRegion, type KernelHolder } from './kernel-holder.js';
import type { HeldBackend } from './target.js';

export interface KernelHeldBackend extends HeldBackend {
  readonly kind: 'kernel';
  readonly ctx: KernelContext;
  readonly holder: KernelHolder;
  /** The iommufd fd (for a hand-over over SCM_RIGHTS); -1 after close. */
  iommufdFd(): number;
  /** The fds of the memfd/hugetlb/file regions by region name (for a hand-over). */
  regionFds(): ReadonlyMap<string, number>;
  regions(): readonly HeldRegion[];
  /** Unmaps every region, then closes the iommufd fd. Safe to call twice. */
  close(): { readonly errors: readonly { name: string; errno: number }[] };
}

export type OpenKernelHeldResult =
  | { readonly ok: true; readonly backend: KernelHeldBackend }
  | { readonly ok: false; readonly code: string; readonly message: string };

export function openKernelHeld(options: KernelOptions = {}): OpenKernelHeldResult {
  let ctx: KernelContext;
  try {
    ctx = openKernel(options);
  } catch (e) {
    if (e instanceof KernelUnavailableError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
  // openKernel succeeded, so the addon is loaded.
  const loaded = loadNative();
  if (!loaded.ok) return { ok: false, code: 'ADDON_MISSING', message: loaded.reason };
  const holder = kernelHolder(loaded.addon);
  let closed = false;
  const backend: KernelHeldBackend = {
    kind: 'kernel',
    ctx,
    holder,
    // The kernel's objects live in the kernel, not in the state file: the body is stored as is.
    snapshot: (body: StateBody) => body,
    iommufdFd: () => (closed ? -1 : ctx.fd),
    regionFds: () => holder.regionFds(),
    regions: () => holder.regions(),
    close() {
      if (closed) return { errors: [] };
      closed = true;
      const errors = holder.releaseAll();
      ctx.close();
      return { errors };
    },
  };
  return { ok: true, backend };
}
