// THE uapi contract suite: one set of data-driven cases that every UapiContext backend must pass
// (the simulator here; the real-kernel backend inside the QEMU VM later). It uses only
// UapiContext methods, awaits every result (remote backends may be async), and opens a fresh
// context per case (object IDs restart at 1) that it always closes.
//
// Cases come from two tables: the kernel selftests transcribed (cases-selftest.ts) and one case
// per rule of the spec (cases-rules.ts, named `rule.<section>.<rule>`), including the
// allocator's worked examples. A case that needs something the backend lacks (a TEST kernel
// for ADD_RESERVED, CAP_SYS_RESOURCE, ...) is skipped with the reason in its title.
import { describe, expect, it } from 'vitest';
import type { DeviceProfile } from '../../src/model/device-profile.js';
import type { Awaitable, UapiContext, UapiResult } from '../../src/model/uapi.js';
import { deviceCases } from './cases-devices.js';
import { ruleCases } from './cases-rules.js';
import { selftestCases } from './cases-selftest.js';
import type { ContractCase, Need, Step, Vars } from './contract-dsl.js';

export interface ContractCaps {
  /** The caller has CAP_SYS_RESOURCE. */
  readonly capSysResource: boolean;
  /** The backend is (or models) a CONFIG_IOMMUFD_TEST kernel. */
  readonly testKernel: boolean;
  /** IOMMU_TEST_OP_ADD_RESERVED with an inclusive range, when the backend can do it. */
  readonly addReserved?: (ctx: UapiContext, ioasId: number, start: bigint, last: bigint) => Awaitable<UapiResult>;
  /**
   * A VFIO device behind an IOMMU whose domain matches `profile` (the simulator models it; in the
   * VM a real e1000e behind intel-iommu), and user memory that pins: device cases set the vars
   * `buf` (a backed buffer of at least 2 MiB) and `unbacked` (a VA with nothing mapped there).
   */
  readonly device?: {
    readonly path: string;
    readonly profile: DeviceProfile;
    readonly bufferVa: bigint;
    readonly unbackedVa: bigint;
  };
}

export const allContractCases: readonly ContractCase[] = [...selftestCases, ...ruleCases, ...deviceCases];

function missingNeed(need: Need, caps: ContractCaps): string | null {
  switch (need) {
    case 'reserved':
      return caps.addReserved === undefined ? 'needs IOMMU_TEST_OP_ADD_RESERVED' : null;
    case 'testKernel':
      return caps.testKernel ? null : 'needs a CONFIG_IOMMUFD_TEST kernel';
    case 'notTestKernel':
      return caps.testKernel ? 'needs a kernel without CONFIG_IOMMUFD_TEST' : null;
    case 'capSysResource':
      return caps.capSysResource ? null : 'needs CAP_SYS_RESOURCE';
    case 'noCapSysResource':
      return caps.capSysResource ? 'needs a caller without CAP_SYS_RESOURCE' : null;
    case 'device':
      return caps.device === undefined ? 'needs a VFIO device' : null;
  }
}

function describeStep(index: number, step: Step, args: object): string {
  const shown = JSON.stringify(args, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
  return `step ${index} ${step.op}(${shown})`;
}

async function call(ctx: UapiContext, caps: ContractCaps, step: Step, args: object): Promise<Record<string, unknown>> {
  if (step.op === 'addReserved') {
    const a = args as { ioasId: number; start: bigint; last: bigint };
    return (await caps.addReserved!(ctx, a.ioasId, a.start, a.last)) as unknown as Record<string, unknown>;
  }
  const method = ctx[step.op] as ((a: object) => Awaitable<object>) | undefined;
  if (method === undefined) return { errno: 95, code: 'EOPNOTSUPP' }; // an optional device method the backend lacks
  const full = step.op === 'deviceBind' && caps.device ? { path: caps.device.path, profile: caps.device.profile, ...args } : args;
  return (await method.call(ctx, full)) as Record<string, unknown>;
}

/** Runs one case on a fresh context; throws (via expect) on the first deviation. */
export async function runContractCase(ctx: UapiContext, caps: ContractCaps, testCase: ContractCase): Promise<void> {
  const vars: Vars = caps.device ? { buf: caps.device.bufferVa, unbacked: caps.device.unbackedVa } : {};
  for (const [index, step] of testCase.steps.entries()) {
    const args = typeof step.args === 'function' ? step.args(vars) : step.args;
    const where = describeStep(index, step, args);
    const result = await call(ctx, caps, step, args);
    expect(result.code, where).toBe(step.expect);
    expect(result.errno === 0, `${where}: errno/code consistency`).toBe(step.expect === 'OK');
    for (const [key, value] of Object.entries(step.out ?? {})) {
      expect(result[key], `${where}: output ${key}`).toEqual(value);
    }
    for (const [name, field] of Object.entries(step.save ?? {})) {
      vars[name] = result[field] as bigint | number;
    }
    if (step.check !== undefined) expect(step.check(result, vars), where).toBeNull();
  }
}

export function describeUapiContract(
  backendName: string,
  open: () => UapiContext | Promise<UapiContext>,
  caps: ContractCaps,
  cases: readonly ContractCase[] = allContractCases,
): void {
  describe(`uapi contract on ${backendName}`, () => {
    for (const testCase of cases) {
      const missing = (testCase.needs ?? []).map((n) => missingNeed(n, caps)).find((m) => m !== null);
      if (missing !== undefined && missing !== null) {
        it.skip(`${testCase.name} (${missing})`, () => {});
        continue;
      }
      it(testCase.name, async () => {
        const ctx = await open();
        try {
          await runContractCase(ctx, caps, testCase);
        } finally {
          await ctx.close();
        }
      });
    }
  });
}
