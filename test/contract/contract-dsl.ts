// A tiny data language for uapi contract cases: each case is a list of steps, each step one
// UapiContext call (or the TEST-kernel ADD_RESERVED op) with the errno code it must return and,
// optionally, outputs it must produce. Steps can save outputs under a name for later steps,
// which is how selftests that use kernel-chosen IOVAs are transcribed without guessing values.
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  type DeviceMethod,
  type IovaRange,
  type UapiMethod,
} from '../../src/model/uapi.js';

export const PAGE = 4096n;
export const U64 = (1n << 64n) - 1n;
/** A user VA whose lowest set bit is 2^40 (like the selftests' hugepage-aligned buffer). */
export const BUF = 0x7f0000000000n;
export const R = IOMMU_IOAS_MAP_READABLE;
export const W = IOMMU_IOAS_MAP_WRITEABLE;
export const RW = R | W;
export const FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;
export const GET = IOMMU_OPTION_OP_GET;
export const SET = IOMMU_OPTION_OP_SET;
export const RLIMIT = IOMMU_OPTION_RLIMIT_MODE;
export const HUGE = IOMMU_OPTION_HUGE_PAGES;

export type Vars = Record<string, bigint | number>;
export type Op = UapiMethod | DeviceMethod | 'addReserved';
/** The capabilities a case needs from the backend under test. */
export type Need = 'reserved' | 'testKernel' | 'notTestKernel' | 'capSysResource' | 'noCapSysResource' | 'device';

export interface Step {
  readonly op: Op;
  /** The call's arguments, or a function of outputs saved by earlier steps. */
  readonly args: object | ((vars: Vars) => object);
  /** 'OK' or the errno name. */
  readonly expect: string;
  /** Outputs that must match exactly (bigint/number/array equality). */
  readonly out?: Record<string, unknown>;
  /** Save outputs: variable name -> output field. */
  readonly save?: Record<string, string>;
  /** An extra assertion on the result; returns a failure message or null. */
  readonly check?: (result: Record<string, unknown>, vars: Vars) => string | null;
}

export interface ContractCase {
  readonly name: string;
  readonly needs?: readonly Need[];
  readonly steps: readonly Step[];
}

type Args = object | ((vars: Vars) => object);

function step(op: Op, args: Args, expect: string, extra: Partial<Step> = {}): Step {
  return { op, args, expect, ...extra };
}

/** A successful call, optionally with exact outputs. */
export function ok(op: Op, args: Args, out?: Record<string, unknown>, extra: Partial<Step> = {}): Step {
  return step(op, args, 'OK', out === undefined ? extra : { out, ...extra });
}

/** A call that must fail with `code`. */
export function fails(code: string, op: Op, args: Args, out?: Record<string, unknown>): Step {
  return step(op, args, code, out === undefined ? {} : { out });
}

// ---- argument builders (plain objects, the exact UapiContext argument shapes) ----------------

export const alloc = (flags = 0) => ({ flags });
export const destroy = (id: number) => ({ id });
export const autoMap = (ioasId: number, userVa: bigint, length: bigint, flags = RW, iova = 0n) => ({
  flags,
  ioasId,
  userVa,
  length,
  iova,
});
export const fixedMap = (ioasId: number, userVa: bigint, length: bigint, iova: bigint, flags = FIXED | RW) => ({
  flags,
  ioasId,
  userVa,
  length,
  iova,
});
export const unmap = (ioasId: number, iova: bigint, length: bigint) => ({ ioasId, iova, length });
export const copy = (a: { flags: number; dst: number; src: number; length: bigint; dstIova?: bigint; srcIova: bigint }) => ({
  flags: a.flags,
  dstIoasId: a.dst,
  srcIoasId: a.src,
  length: a.length,
  dstIova: a.dstIova ?? 0n,
  srcIova: a.srcIova,
});
export const allow = (ioasId: number, ranges: readonly IovaRange[]) => ({ ioasId, ranges });
export const iovaRanges = (ioasId: number, numIovas: number) => ({ ioasId, numIovas });
export const option = (optionId: number, op: number, objectId: number, val64: bigint) => ({ optionId, op, objectId, val64 });
export const reserved = (ioasId: number, start: bigint, last: bigint) => ({ ioasId, start, last });
export const range = (start: bigint, last: bigint): IovaRange => ({ start, last });
/** deviceBind: the runner fills in the device under test (caps.device: its cdev and profile). */
export const bind = () => ({});
export const attach = (devId: number, ptId: number) => ({ devId, ptId });
export const devId = (id: number) => ({ devId: id });

/** ffs-style check used by the selftests: iova % (1 << (ffs(length) - 1)) == 0. */
export function alignedToLengthLowBit(iovaVar: string, length: bigint): Step['check'] {
  const low = length & -length;
  return (result) => {
    const iova = result.iova as bigint;
    return iova % low === 0n ? null : `iova ${iova.toString(16)} of ${iovaVar} not aligned to ${low.toString(16)}`;
  };
}
