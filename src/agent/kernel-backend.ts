// The kernel backend an agent holds: the /dev/iommu fd (openKernel) and the backing memory.
import { KernelUnavailableError, openKernel } from '../backends/kernel/kernel.js';
import type { OpenedBackend } from './backend.js';

export async function openKernelBackend(): Promise<OpenedBackend> {
  try {
    const ctx = openKernel();
    ctx.close();
  } catch (e) {
    if (e instanceof KernelUnavailableError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
  return { ok: false, code: 'KERNEL_HOLDER_MISSING', message: 'this build has no kernel memory holder yet (branch ktarget); use --backend sim' };
}
