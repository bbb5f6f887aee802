// Failure injection that only injects what the kernel can really answer at that call (spec §16):
// the Nth call (counting uapi calls and memory-holder calls together, like src/backends/faulty.ts)
// fails with an errno chosen from the ones its ioctl can return for reasons outside the plan's
// control (memory pressure, races, copy-out faults). Two flavours:
// - 'clean': the call fails and changed nothing (ENOMEM on an allocation, EBUSY on a race, …);
// - 'after-effect': the kernel did the work and then failed the copy-out with EFAULT (MAP, COPY,
//   UNMAP, IOAS_ALLOC are the calls whose copy-out comes after the change; ALLOC undoes its object
//   itself, the others do not — spec §16).
import type { MemoryHolder } from '../../src/apply/holder.js';
import { simHolder } from '../../src/apply/holder.js';
import type { UapiContext, UapiMethod, UapiResult } from '../../src/model/uapi.js';
import { ERRNO, errnoName } from '../../src/model/uapi.js';
import type { Injection } from './random-layout.js';

/** Errnos each call can return with nothing changed, for causes a correct plan cannot rule out. */
export const CLEAN_ERRNOS: Readonly<Record<UapiMethod | 'holder', readonly number[]>> = {
  ioasAlloc: [ERRNO.ENOMEM, ERRNO.EBUSY],
  destroy: [ERRNO.EBUSY],
  ioasAllowIovas: [ERRNO.ENOMEM, ERRNO.EADDRINUSE],
  ioasIovaRanges: [ERRNO.EFAULT, ERRNO.EMSGSIZE],
  ioasMap: [ERRNO.ENOMEM, ERRNO.EFAULT, ERRNO.ENOSPC],
  ioasCopy: [ERRNO.ENOMEM, ERRNO.ENOSPC, ERRNO.EPERM],
  ioasUnmap: [ERRNO.EBUSY, ERRNO.ENOENT],
  option: [ERRNO.EBUSY, ERRNO.EPERM],
  holder: [ERRNO.ENOMEM],
};

const METHODS: readonly UapiMethod[] = ['destroy', 'ioasAlloc', 'ioasAllowIovas', 'ioasIovaRanges', 'ioasMap', 'ioasCopy', 'ioasUnmap', 'option'];

/** The calls whose EFAULT copy-out comes after a change the kernel keeps (spec §16). */
export const EFFECT_THEN_EFAULT: readonly UapiMethod[] = ['ioasMap', 'ioasCopy', 'ioasUnmap'];

export interface KernelFault {
  readonly failCall: number;
  /** Index into the call's errno list (taken modulo its length), so generators need not know the call. */
  readonly pick: number;
  readonly kind: 'clean' | 'after-effect';
}

/** What was injected, filled in when the failing call happens (null: the apply never got there). */
export interface Injected {
  method: UapiMethod | 'holder' | null;
  errno: number | null;
}

export function kernelFault(fault: KernelFault): Injection & { readonly injected: Injected } {
  let n = 0;
  const injected: Injected = { method: null, errno: null };
  const hit = (method: UapiMethod | 'holder'): number | null => {
    n += 1;
    if (n !== fault.failCall) return null;
    const list = CLEAN_ERRNOS[method];
    const errno = fault.kind === 'after-effect' ? ERRNO.EFAULT : list[fault.pick % list.length]!;
    injected.method = method;
    injected.errno = errno;
    return errno;
  };
  const wrap = (inner: UapiContext): UapiContext => {
    const wrapped: Record<string, unknown> = { close: () => inner.close() };
    for (const method of METHODS) {
      wrapped[method] = (args: never): unknown => {
        const errno = hit(method);
        const call = (): unknown => (inner[method] as (a: never) => unknown).call(inner, args);
        if (errno === null) return call();
        if (fault.kind === 'after-effect' && EFFECT_THEN_EFAULT.includes(method)) call();
        const failed: UapiResult = { errno, code: errnoName(errno) };
        return failed;
      };
    }
    return wrapped as unknown as UapiContext;
  };
  const holder: MemoryHolder = {
    create: async (region, existing) => {
      const errno = hit('holder');
      return errno === null ? simHolder.create(region, existing) : { ok: false, errno, code: errnoName(errno) };
    },
    release: async (region, userVa) => {
      const errno = hit('holder');
      return errno === null ? simHolder.release(region, userVa) : { ok: false, errno, code: errnoName(errno) };
    },
  };
  return { wrap, holder, injected };
}
