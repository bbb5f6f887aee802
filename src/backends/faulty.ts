// Failure injection for tests and drills: wraps a UapiContext so that its Nth call (1-based,
// counting every ioctl method) answers a chosen errno without reaching the backend, exactly as a
// failing kernel call that changed nothing.
import type { UapiContext, UapiMethod, UapiResult } from '../model/uapi.js';
import { errnoName } from '../model/uapi.js';

export interface FaultPlan {
  /** Which call fails, 1-based. */
  readonly failCall: number;
  readonly errno: number;
}

export interface FaultyContext extends UapiContext {
  /** How many calls were made so far. */
  readonly calls: () => number;
}

const METHODS: readonly UapiMethod[] = ['destroy', 'ioasAlloc', 'ioasAllowIovas', 'ioasIovaRanges', 'ioasMap', 'ioasCopy', 'ioasUnmap', 'option'];

export function withFault(inner: UapiContext, fault: FaultPlan): FaultyContext {
  let count = 0;
  const wrapped: Record<string, unknown> = {
    calls: () => count,
    close: () => inner.close(),
  };
  for (const method of METHODS) {
    wrapped[method] = (args: never): unknown => {
      count += 1;
      if (count === fault.failCall) {
        const failed: UapiResult = { errno: fault.errno, code: errnoName(fault.errno) };
        return failed;
      }
      return (inner[method] as (a: never) => unknown).call(inner, args);
    };
  }
  return wrapped as unknown as FaultyContext;
}
