// Encoding and decoding of the iommufd uapi structs (include/uapi/linux/iommufd.h, Linux 6.12)
// as little-endian bytes, with the offsets of spec §2. This is the only module that knows the
// byte layout; the native addon only moves bytes. Every u64 is a bigint. Every writer sets
// `size` to the 6.12 struct size and writes each `__reserved` field as zero.
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
 * The structs are written by `write*` functions into a StructView at offset 0, every byte of the
 * struct (reserved fields as zero), so a reused buffer needs no clearing: the kernel backend
 * writes every call's struct into one scratch buffer (ioctl-channel.ts) and reads the outputs
 * back with the `read*` functions. `encode*`/`decode*` are the same layouts on fresh byte arrays.
 *
 * A StructView is the buffer seen twice: a DataView for the u16/u32 fields and a BigUint64Array
 * for the u64 fields (every u64 of these structs, and of the range arrays, sits at a multiple of
 * 8). Node 20's optimizing compiler inlines BigUint64Array element loads and stores but calls a
 * builtin for each DataView getBigUint64/setBigUint64: ~17 ns each natively, several times that
 * under QEMU/TCG, and a kernel call writes and reads up to five u64s (bench/README.md, "Kernel
 * per-call: session 4").
 */
export interface StructView {
  readonly view: DataView;
  readonly u64: BigUint64Array;
}

/**
 * Typed arrays use the machine's byte order, the DataView calls here little-endian (the layout of
 * every Linux target this runs on). On a big-endian machine u64s go through the DataView too, so
 * every field keeps one byte order.
 */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A StructView of `byteLength` bytes of `buffer` from `byteOffset`, which must be a multiple of 8. */
export function structView(buffer: ArrayBufferLike, byteOffset = 0, byteLength = buffer.byteLength - byteOffset): StructView {
  if (byteOffset % 8 !== 0) throw new RangeError(`a struct view starts at a multiple of 8, not at ${byteOffset}`);
  return { view: new DataView(buffer, byteOffset, byteLength), u64: new BigUint64Array(buffer, byteOffset, byteLength >>> 3) };
}

function setU64(s: StructView, offset: number, value: bigint): void {
  if (LITTLE_ENDIAN_HOST) s.u64[offset >>> 3] = value;
  else s.view.setBigUint64(offset, value, true);
}

function getU64(s: StructView, offset: number): bigint {
  return LITTLE_ENDIAN_HOST ? (s.u64[offset >>> 3] as bigint) : s.view.getBigUint64(offset, true);
}

function fresh(size: number): { bytes: Uint8Array; view: StructView } {
  const bytes = new Uint8Array(size);
  return { bytes, view: structView(bytes.buffer) };
}

function viewOf(bytes: Uint8Array, minSize: number): StructView {
  if (bytes.byteLength < minSize) throw new RangeError(`expected at least ${minSize} bytes, got ${bytes.byteLength}`);
  // Decoding is not on the per-call path: bytes at an offset that is not a multiple of 8 are copied.
  if (bytes.byteOffset % 8 !== 0) return structView(Uint8Array.from(bytes).buffer);
  return structView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// iommu_destroy (8): 0 size | 4 id
export function writeDestroy(view: StructView, a: DestroyArgs): void {
  view.view.setUint32(0, STRUCT_SIZE.destroy, true);
  view.view.setUint32(4, a.id, true);
}

export function encodeDestroy(a: DestroyArgs): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.destroy);
  writeDestroy(view, a);
  return bytes;
}

// iommu_ioas_alloc (12): 0 size | 4 flags | 8 out_ioas_id
export function writeIoasAlloc(view: StructView, a: IoasAllocArgs): void {
  view.view.setUint32(0, STRUCT_SIZE.ioasAlloc, true);
  view.view.setUint32(4, a.flags, true);
  view.view.setUint32(8, 0, true);
}

export function encodeIoasAlloc(a: IoasAllocArgs): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.ioasAlloc);
  writeIoasAlloc(view, a);
  return bytes;
}

export function readIoasAllocId(view: StructView): number {
  return view.view.getUint32(8, true);
}

export function decodeIoasAllocOut(bytes: Uint8Array): IoasAllocOut {
  return { outIoasId: readIoasAllocId(viewOf(bytes, STRUCT_SIZE.ioasAlloc)) };
}

// iommu_iova_range (16): 0 start u64 | 8 last u64 (inclusive); arrays of them are contiguous.
export function encodeIovaRangeArray(ranges: readonly IovaRange[]): Uint8Array {
  const bytes = new Uint8Array(ranges.length * STRUCT_SIZE.iovaRange);
  const view = structView(bytes.buffer);
  ranges.forEach((r, i) => {
    setU64(view, i * STRUCT_SIZE.iovaRange, r.start);
    setU64(view, i * STRUCT_SIZE.iovaRange + 8, r.last);
  });
  return bytes;
}

/** `count` ranges of an array that starts at `offset` of `view`. */
export function readIovaRangeArray(view: StructView, offset: number, count: number): IovaRange[] {
  const ranges: IovaRange[] = [];
  for (let i = 0, at = offset; i < count; i++, at += STRUCT_SIZE.iovaRange) {
    ranges.push({ start: getU64(view, at), last: getU64(view, at + 8) });
  }
  return ranges;
}

export function decodeIovaRangeArray(bytes: Uint8Array, count: number): IovaRange[] {
  return readIovaRangeArray(viewOf(bytes, count * STRUCT_SIZE.iovaRange), 0, count);
}

// iommu_ioas_iova_ranges (32): 0 size | 4 ioas_id | 8 num_iovas | 12 __reserved
//                              | 16 allowed_iovas (user ptr, patched in by the addon) | 24 out_iova_alignment
export function writeIoasIovaRanges(view: StructView, a: { readonly ioasId: number; readonly numIovas: number }): void {
  view.view.setUint32(0, STRUCT_SIZE.ioasIovaRanges, true);
  view.view.setUint32(4, a.ioasId, true);
  view.view.setUint32(8, a.numIovas, true);
  view.view.setUint32(12, 0, true);
  setU64(view, 16, 0n);
  setU64(view, 24, 0n);
}

export function encodeIoasIovaRanges(a: { readonly ioasId: number; readonly numIovas: number }): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.ioasIovaRanges);
  writeIoasIovaRanges(view, a);
  return bytes;
}

/** The output num_iovas: the true number of ranges. */
export function readIoasIovaRangesCount(view: StructView): number {
  return view.view.getUint32(8, true);
}

export function readIoasIovaRangesAlignment(view: StructView): bigint {
  return getU64(view, 24);
}

export function decodeIoasIovaRangesOut(bytes: Uint8Array): { numIovas: number; outIovaAlignment: bigint } {
  const view = viewOf(bytes, STRUCT_SIZE.ioasIovaRanges);
  return { numIovas: readIoasIovaRangesCount(view), outIovaAlignment: readIoasIovaRangesAlignment(view) };
}

// iommu_ioas_allow_iovas (24): 0 size | 4 ioas_id | 8 num_iovas | 12 __reserved | 16 allowed_iovas (user ptr)
export function writeIoasAllowIovas(view: StructView, a: { readonly ioasId: number; readonly numIovas: number }): void {
  view.view.setUint32(0, STRUCT_SIZE.ioasAllowIovas, true);
  view.view.setUint32(4, a.ioasId, true);
  view.view.setUint32(8, a.numIovas, true);
  view.view.setUint32(12, 0, true);
  setU64(view, 16, 0n);
}

export function encodeIoasAllowIovas(a: { readonly ioasId: number; readonly numIovas: number }): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.ioasAllowIovas);
  writeIoasAllowIovas(view, a);
  return bytes;
}

// iommu_ioas_map (40): 0 size | 4 flags | 8 ioas_id | 12 __reserved | 16 user_va | 24 length | 32 iova
export function writeIoasMap(view: StructView, a: IoasMapArgs): void {
  view.view.setUint32(0, STRUCT_SIZE.ioasMap, true);
  view.view.setUint32(4, a.flags, true);
  view.view.setUint32(8, a.ioasId, true);
  view.view.setUint32(12, 0, true);
  setU64(view, 16, a.userVa);
  setU64(view, 24, a.length);
  setU64(view, 32, a.iova);
}

export function encodeIoasMap(a: IoasMapArgs): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.ioasMap);
  writeIoasMap(view, a);
  return bytes;
}

export function readIoasMapIova(view: StructView): bigint {
  return getU64(view, 32);
}

export function decodeIoasMapOut(bytes: Uint8Array): IoasMapOut {
  return { iova: readIoasMapIova(viewOf(bytes, STRUCT_SIZE.ioasMap)) };
}

// iommu_ioas_copy (40): 0 size | 4 flags | 8 dst_ioas_id | 12 src_ioas_id | 16 length | 24 dst_iova | 32 src_iova
// (no __reserved field)
export function writeIoasCopy(view: StructView, a: IoasCopyArgs): void {
  view.view.setUint32(0, STRUCT_SIZE.ioasCopy, true);
  view.view.setUint32(4, a.flags, true);
  view.view.setUint32(8, a.dstIoasId, true);
  view.view.setUint32(12, a.srcIoasId, true);
  setU64(view, 16, a.length);
  setU64(view, 24, a.dstIova);
  setU64(view, 32, a.srcIova);
}

export function encodeIoasCopy(a: IoasCopyArgs): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.ioasCopy);
  writeIoasCopy(view, a);
  return bytes;
}

export function readIoasCopyDstIova(view: StructView): bigint {
  return getU64(view, 24);
}

export function decodeIoasCopyOut(bytes: Uint8Array): IoasCopyOut {
  return { dstIova: readIoasCopyDstIova(viewOf(bytes, STRUCT_SIZE.ioasCopy)) };
}

// iommu_ioas_unmap (24): 0 size | 4 ioas_id | 8 iova | 16 length (no __reserved field)
export function writeIoasUnmap(view: StructView, a: IoasUnmapArgs): void {
  view.view.setUint32(0, STRUCT_SIZE.ioasUnmap, true);
  view.view.setUint32(4, a.ioasId, true);
  setU64(view, 8, a.iova);
  setU64(view, 16, a.length);
}

export function encodeIoasUnmap(a: IoasUnmapArgs): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.ioasUnmap);
  writeIoasUnmap(view, a);
  return bytes;
}

/** The output length: how many bytes were unmapped. */
export function readIoasUnmapLength(view: StructView): bigint {
  return getU64(view, 16);
}

export function decodeIoasUnmapOut(bytes: Uint8Array): IoasUnmapOut {
  return { length: readIoasUnmapLength(viewOf(bytes, STRUCT_SIZE.ioasUnmap)) };
}

// iommu_option (24): 0 size | 4 option_id | 8 op u16 | 10 __reserved u16 | 12 object_id | 16 val64
export function writeOption(view: StructView, a: OptionArgs): void {
  view.view.setUint32(0, STRUCT_SIZE.option, true);
  view.view.setUint32(4, a.optionId, true);
  view.view.setUint16(8, a.op, true);
  view.view.setUint16(10, 0, true);
  view.view.setUint32(12, a.objectId, true);
  setU64(view, 16, a.val64);
}

export function encodeOption(a: OptionArgs): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.option);
  writeOption(view, a);
  return bytes;
}

export function readOptionVal64(view: StructView): bigint {
  return getU64(view, 16);
}

export function decodeOptionOut(bytes: Uint8Array): OptionOut {
  return { val64: readOptionVal64(viewOf(bytes, STRUCT_SIZE.option)) };
}

/** IOMMU_TEST_OP_ADD_RESERVED in drivers/iommu/iommufd/iommufd_test.h (CONFIG_IOMMUFD_TEST kernels). */
export const IOMMU_TEST_OP_ADD_RESERVED = 1;

// iommu_test_cmd (72; min size 68 = offsetofend(last)): 0 size | 4 op | 8 id | 12 __reserved
//                 | 16 union (add_reserved: 16 start u64 | 24 length u64) | ... | 64 last u32
export function writeTestAddReserved(view: StructView, a: { readonly ioasId: number; readonly start: bigint; readonly length: bigint }): void {
  // Most of the union is unused by this op: clear the whole struct first (a rare, test-only call).
  for (let at = 0; at < STRUCT_SIZE.testCmd; at += 4) view.view.setUint32(at, 0, true);
  view.view.setUint32(0, STRUCT_SIZE.testCmd, true);
  view.view.setUint32(4, IOMMU_TEST_OP_ADD_RESERVED, true);
  view.view.setUint32(8, a.ioasId, true);
  setU64(view, 16, a.start);
  setU64(view, 24, a.length);
}

export function encodeTestAddReserved(a: { readonly ioasId: number; readonly start: bigint; readonly length: bigint }): Uint8Array {
  const { bytes, view } = fresh(STRUCT_SIZE.testCmd);
  writeTestAddReserved(view, a);
  return bytes;
}
