// Encoding and decoding of the iommufd uapi structs (include/uapi/linux/iommufd.h, Linux 6.12)
// as little-endian bytes, with the offsets of spec §2. This is the only module that knows the
// byte layout; the native addon only moves bytes. Every u64 is a bigint. Every encoder sets
// `size` to the 6.12 struct size and leaves each `__reserved` field zero. Given a
// StructScratch, an encoder writes into it instead of a fresh buffer (see below).
import type {
  DestroyArgs,
  IoasAllocArgs,
  IoasAllocOut,
  IoasCopyArgs,
  IoasCopyOut,
  IoasMapArgs,
  IoasMapOut,
  IoasUnmapArgs,
  IoasUnmapOut,
  IovaRange,
  OptionArgs,
  OptionOut,
} from '../../model/uapi.js';

/** sizeof() of each struct in the 6.12 uapi (spec §1.1, §2). */
export const STRUCT_SIZE = {
  destroy: 8,
  ioasAlloc: 12,
  iovaRange: 16,
  ioasIovaRanges: 32,
  ioasAllowIovas: 24,
  ioasMap: 40,
  ioasCopy: 40,
  ioasUnmap: 24,
  option: 24,
  testCmd: 72,
} as const;

/** Offset of the user pointer `allowed_iovas` in iommu_ioas_iova_ranges and iommu_ioas_allow_iovas. */
export const ALLOWED_IOVAS_OFFSET = 16;

/**
 * Reusable zeroed memory for the structs (or arrays) of one context's calls. An ioctl is
 * synchronous and its outputs are decoded before the next call starts, so one buffer can serve
 * every call of a context; a fresh ArrayBuffer and DataView per call were most of openKernel's
 * per-call cost (bench/README.md, "kernel micro-benchmark").
 */
export class StructScratch {
  readonly capacity: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(capacity: number) {
    this.capacity = capacity;
    const buffer = new ArrayBuffer(capacity);
    this.#bytes = new Uint8Array(buffer);
    this.#view = new DataView(buffer);
  }

  /** The first `size` bytes, zeroed, and a view of the whole buffer (same offsets); valid until the next take. */
  take(size: number): { bytes: Uint8Array; view: DataView } {
    if (size > this.capacity) throw new RangeError(`a ${size}-byte struct does not fit a ${this.capacity}-byte scratch buffer`);
    this.#bytes.fill(0, 0, size);
    return { bytes: this.#bytes.subarray(0, size), view: this.#view };
  }
}

/** Room for any struct here (the largest, iommu_test_cmd, is 72 bytes). */
export const STRUCT_SCRATCH_SIZE = 128;

function struct(size: number, scratch?: StructScratch): { bytes: Uint8Array; view: DataView } {
  let region: { bytes: Uint8Array; view: DataView };
  if (scratch) region = scratch.take(size);
  else {
    const bytes = new Uint8Array(size);
    region = { bytes, view: new DataView(bytes.buffer) };
  }
  region.view.setUint32(0, size, true);
  return region;
}

function viewOf(bytes: Uint8Array, minSize: number): DataView {
  if (bytes.byteLength < minSize) throw new RangeError(`expected at least ${minSize} bytes, got ${bytes.byteLength}`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// iommu_destroy (8): 0 size | 4 id
export function encodeDestroy(a: DestroyArgs, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.destroy, scratch);
  view.setUint32(4, a.id, true);
  return bytes;
}

// iommu_ioas_alloc (12): 0 size | 4 flags | 8 out_ioas_id
export function encodeIoasAlloc(a: IoasAllocArgs, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.ioasAlloc, scratch);
  view.setUint32(4, a.flags, true);
  return bytes;
}

export function decodeIoasAllocOut(bytes: Uint8Array): IoasAllocOut {
  return { outIoasId: viewOf(bytes, STRUCT_SIZE.ioasAlloc).getUint32(8, true) };
}

// iommu_iova_range (16): 0 start u64 | 8 last u64 (inclusive); arrays of them are contiguous.
export function encodeIovaRangeArray(ranges: readonly IovaRange[]): Uint8Array {
  const bytes = new Uint8Array(ranges.length * STRUCT_SIZE.iovaRange);
  const view = new DataView(bytes.buffer);
  ranges.forEach((r, i) => {
    view.setBigUint64(i * STRUCT_SIZE.iovaRange, r.start, true);
    view.setBigUint64(i * STRUCT_SIZE.iovaRange + 8, r.last, true);
  });
  return bytes;
}

export function decodeIovaRangeArray(bytes: Uint8Array, count: number): IovaRange[] {
  const view = viewOf(bytes, count * STRUCT_SIZE.iovaRange);
  const ranges: IovaRange[] = [];
  for (let i = 0; i < count; i++) {
    ranges.push({ start: view.getBigUint64(i * 16, true), last: view.getBigUint64(i * 16 + 8, true) });
  }
  return ranges;
}

// iommu_ioas_iova_ranges (32): 0 size | 4 ioas_id | 8 num_iovas | 12 __reserved
//                              | 16 allowed_iovas (user ptr, patched in by the addon) | 24 out_iova_alignment
export function encodeIoasIovaRanges(a: { readonly ioasId: number; readonly numIovas: number }, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.ioasIovaRanges, scratch);
  view.setUint32(4, a.ioasId, true);
  view.setUint32(8, a.numIovas, true);
  return bytes;
}

export function decodeIoasIovaRangesOut(bytes: Uint8Array): { numIovas: number; outIovaAlignment: bigint } {
  const view = viewOf(bytes, STRUCT_SIZE.ioasIovaRanges);
  return { numIovas: view.getUint32(8, true), outIovaAlignment: view.getBigUint64(24, true) };
}

// iommu_ioas_allow_iovas (24): 0 size | 4 ioas_id | 8 num_iovas | 12 __reserved | 16 allowed_iovas (user ptr)
export function encodeIoasAllowIovas(a: { readonly ioasId: number; readonly numIovas: number }, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.ioasAllowIovas, scratch);
  view.setUint32(4, a.ioasId, true);
  view.setUint32(8, a.numIovas, true);
  return bytes;
}

// iommu_ioas_map (40): 0 size | 4 flags | 8 ioas_id | 12 __reserved | 16 user_va | 24 length | 32 iova
export function encodeIoasMap(a: IoasMapArgs, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.ioasMap, scratch);
  view.setUint32(4, a.flags, true);
  view.setUint32(8, a.ioasId, true);
  view.setBigUint64(16, a.userVa, true);
  view.setBigUint64(24, a.length, true);
  view.setBigUint64(32, a.iova, true);
  return bytes;
}

export function decodeIoasMapOut(bytes: Uint8Array): IoasMapOut {
  return { iova: viewOf(bytes, STRUCT_SIZE.ioasMap).getBigUint64(32, true) };
}

// iommu_ioas_copy (40): 0 size | 4 flags | 8 dst_ioas_id | 12 src_ioas_id | 16 length | 24 dst_iova | 32 src_iova
// (no __reserved field)
export function encodeIoasCopy(a: IoasCopyArgs, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.ioasCopy, scratch);
  view.setUint32(4, a.flags, true);
  view.setUint32(8, a.dstIoasId, true);
  view.setUint32(12, a.srcIoasId, true);
  view.setBigUint64(16, a.length, true);
  view.setBigUint64(24, a.dstIova, true);
  view.setBigUint64(32, a.srcIova, true);
  return bytes;
}

export function decodeIoasCopyOut(bytes: Uint8Array): IoasCopyOut {
  return { dstIova: viewOf(bytes, STRUCT_SIZE.ioasCopy).getBigUint64(24, true) };
}

// iommu_ioas_unmap (24): 0 size | 4 ioas_id | 8 iova | 16 length (no __reserved field)
export function encodeIoasUnmap(a: IoasUnmapArgs, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.ioasUnmap, scratch);
  view.setUint32(4, a.ioasId, true);
  view.setBigUint64(8, a.iova, true);
  view.setBigUint64(16, a.length, true);
  return bytes;
}

export function decodeIoasUnmapOut(bytes: Uint8Array): IoasUnmapOut {
  return { length: viewOf(bytes, STRUCT_SIZE.ioasUnmap).getBigUint64(16, true) };
}

// iommu_option (24): 0 size | 4 option_id | 8 op u16 | 10 __reserved u16 | 12 object_id | 16 val64
export function encodeOption(a: OptionArgs, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.option, scratch);
  view.setUint32(4, a.optionId, true);
  view.setUint16(8, a.op, true);
  view.setUint32(12, a.objectId, true);
  view.setBigUint64(16, a.val64, true);
  return bytes;
}

export function decodeOptionOut(bytes: Uint8Array): OptionOut {
  return { val64: viewOf(bytes, STRUCT_SIZE.option).getBigUint64(16, true) };
}

/** IOMMU_TEST_OP_ADD_RESERVED in drivers/iommu/iommufd/iommufd_test.h (CONFIG_IOMMUFD_TEST kernels). */
export const IOMMU_TEST_OP_ADD_RESERVED = 1;

// iommu_test_cmd (72; min size 68 = offsetofend(last)): 0 size | 4 op | 8 id | 12 __reserved
//                 | 16 union (add_reserved: 16 start u64 | 24 length u64) | ... | 64 last u32
export function encodeTestAddReserved(a: { readonly ioasId: number; readonly start: bigint; readonly length: bigint }, scratch?: StructScratch): Uint8Array {
  const { bytes, view } = struct(STRUCT_SIZE.testCmd, scratch);
  view.setUint32(4, IOMMU_TEST_OP_ADD_RESERVED, true);
  view.setUint32(8, a.ioasId, true);
  view.setBigUint64(16, a.start, true);
  view.setBigUint64(24, a.length, true);
  return bytes;
}
