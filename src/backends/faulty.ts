// Failure injection for tests and drills: wraps a UapiContext so that its Nth call (1-based,
// counting every ioctl method) answers a chosen errno without reaching the backend, exactly as a
// failing kernel call that changed nothing.
import type { DeviceMethod, UapiContext, UapiMethod, UapiResult } from '../model/uapi.js';
import { errnoName } from '../model/uapi.js';

export interface FaultPlan {
  /** Which calls fail, 1-based (one number or several, e.g. a forward call and an undo call). */
  readonly failCall: number | readonly number[];
  readonly errno: number;
}

export interface FaultyContext extends UapiContext {
  /** How many calls were made so far. */
  readonly calls: () => number;
}

const METHODS: readonly UapiMethod[] = ['destroy', 'ioasAlloc', 'ioasAllowIovas', 'ioasIovaRanges', 'ioasMap', 'ioasCopy', 'ioasUnmap', 'option'];
/** Wrapped (and counted) only when the inner backend has them. */
const DEVICE_METHODS: readonly DeviceMethod[] = ['deviceBind', 'deviceAttach', 'deviceDetach', 'deviceUnbind', 'deviceInfo'];

/** A call counter that several wrappers (uapi context, memory holder) can share. */
export interface CallCounter {
  n: number;
}

export function withFault(inner: UapiContext, fault: FaultPlan, counter: CallCounter = { n: 0 }): FaultyContext {
  const failing = new Set(typeof fault.failCall === 'number' ? [fault.failCall] : fault.failCall);
  const wrapped: Record<string, unknown> = {
    calls: () => counter.n,
    close: () => inner.close(),
  };
  const present = DEVICE_METHODS.filter((method) => typeof inner[method] === 'function');
  for (const method of [...METHODS, ...present]) {
    wrapped[method] = (args: never): unknown => {
      counter.n += 1;
      if (failing.has(counter.n)) {
        const failed: UapiResult = { errno: fault.errno, code: errnoName(fault.errno) };
        return failed;
      }
      return (inner[method] as (a: never) => unknown).call(inner, args);
    };
  }
  return wrapped as unknown as FaultyContext;
}
