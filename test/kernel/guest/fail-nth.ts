// Fault injection for the guest tests: the kernel's fail-nth (CONFIG_FAULT_INJECTION,
// fail_iommufd) armed on this task for exactly one uapi call of a wrapped context. Shared by the
// rollback sweeps of held.guest.ts and devices-agent.guest.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { UapiContext } from '../../../src/model/uapi.js';

export const FAIL_NTH = `/proc/self/task/${process.pid}/fail-nth`;
export const haveFailNth = existsSync(FAIL_NTH) && existsSync('/sys/kernel/debug/fail_iommufd');

/** Stops the kernel logging a stack trace per injected fault (the sweeps inject hundreds). */
export function quietFailIommufd(): void {
  if (haveFailNth) writeFileSync('/sys/kernel/debug/fail_iommufd/verbose', '0');
}

export interface Armed {
  /** The uapi call (1-based, through the wrapped context) to arm the fault for. */
  readonly at: number;
  n: number;
  /** What call `at` did: its method, its errno, and whether the armed fault fired in it. */
  seen?: { method: string; errno: number; code: string; fired: boolean };
}

/**
 * Arms fail-nth=1 on this task right before call `armed.at` and disarms it right after: the first
 * fault point that call reaches fails (fail-nth counts only fault points, and this kernel has no
 * failslab, so nothing else on the thread consumes it). Node runs the ioctls on its main thread,
 * whose tid is the pid.
 */
export function failNthAt(armed: Armed): (ctx: UapiContext) => UapiContext {
  return (ctx) =>
    new Proxy(ctx, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || prop === 'close') return value;
        return async (args: unknown) => {
          const n = ++armed.n;
          if (n !== armed.at) return (value as (a: unknown) => unknown).call(target, args);
          writeFileSync(FAIL_NTH, '1');
          const result = (await (value as (a: unknown) => unknown).call(target, args)) as { errno: number; code: string };
          const left = readFileSync(FAIL_NTH, 'utf8').trim();
          if (left !== '0') writeFileSync(FAIL_NTH, '0');
          armed.seen = { method: String(prop), errno: result.errno, code: result.code, fired: left === '0' };
          return result;
        };
      },
    });
}
