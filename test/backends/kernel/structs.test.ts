// One test per uapi struct layout: each encoder's bytes are compared with a buffer built
// independently from the spec §2 offsets, and each decoder reads values planted at those offsets.
import { describe, expect, it } from 'vitest';
import {
  ALLOWED_IOVAS_OFFSET,
  STRUCT_SIZE,
  decodeIoasAllocOut,
  decodeIoasCopyOut,
  decodeIoasIovaRangesOut,
  decodeIoasMapOut,
  decodeIoasUnmapOut,
  decodeIovaRangeArray,
  decodeOptionOut,
  encodeDestroy,
  encodeIoasAlloc,
  encodeIoasAllowIovas,
  encodeIoasCopy,
  encodeIoasIovaRanges,
  encodeIoasMap,
  encodeIoasUnmap,
  encodeIovaRangeArray,
  encodeOption,
  encodeTestAddReserved,
  readIoasAllocId,
  readIoasCopyDstIova,
  readIoasIovaRangesAlignment,
  readIoasIovaRangesCount,
  readIoasMapIova,
  readIoasUnmapLength,
  readIovaRangeArray,
  readOptionVal64,
  writeDestroy,
  writeIoasAlloc,
  writeIoasAllowIovas,
  writeIoasCopy,
  writeIoasIovaRanges,
  writeIoasMap,
  writeIoasUnmap,
  writeOption,
  writeTestAddReserved,
  structView,
  type StructView,
} from '../../../src/backends/kernel/structs.js';

/** Builds the expected bytes from [offset, width, value] triples, little-endian. */
function layout(size: number, fields: [offset: number, width: 2 | 4 | 8, value: bigint][]): Uint8Array {
  const out = new Uint8Array(size);
  for (const [offset, width, value] of fields) {
    for (let i = 0; i < width; i++) out[offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
  }
  return out;
}

const A64 = 0x1122334455667788n;
const B64 = 0x99aabbccddeeff01n;
const C64 = 0x0123456789abcdefn;

describe('uapi struct layouts (spec §2, little-endian)', () => {
  it('iommu_destroy: 8 bytes, size@0 id@4', () => {
    expect(STRUCT_SIZE.destroy).toBe(8);
    expect(encodeDestroy({ id: 0x01020304 })).toEqual(layout(8, [[0, 4, 8n], [4, 4, 0x01020304n]]));
  });

  it('iommu_ioas_alloc: 12 bytes, size@0 flags@4 out_ioas_id@8', () => {
    expect(encodeIoasAlloc({ flags: 0xa5 })).toEqual(layout(12, [[0, 4, 12n], [4, 4, 0xa5n]]));
    expect(decodeIoasAllocOut(layout(12, [[8, 4, 0x7fffffffn]]))).toEqual({ outIoasId: 0x7fffffff });
  });

  it('iommu_iova_range: 16 bytes each, start@0 last@8, arrays contiguous', () => {
    const ranges = [{ start: A64, last: B64 }, { start: 0n, last: (1n << 64n) - 1n }];
    const expected = layout(32, [[0, 8, A64], [8, 8, B64], [16, 8, 0n], [24, 8, (1n << 64n) - 1n]]);
    expect(encodeIovaRangeArray(ranges)).toEqual(expected);
    expect(decodeIovaRangeArray(expected, 2)).toEqual(ranges);
    expect(decodeIovaRangeArray(expected, 1)).toEqual(ranges.slice(0, 1));
  });

  it('iommu_ioas_iova_ranges: 32 bytes, size@0 ioas_id@4 num_iovas@8 __reserved@12 allowed_iovas@16 out_iova_alignment@24', () => {
    expect(ALLOWED_IOVAS_OFFSET).toBe(16);
    expect(encodeIoasIovaRanges({ ioasId: 7, numIovas: 0xdeadbeef })).toEqual(layout(32, [[0, 4, 32n], [4, 4, 7n], [8, 4, 0xdeadbeefn]]));
    const out = layout(32, [[8, 4, 3n], [16, 8, A64], [24, 8, 0x1000n]]);
    expect(decodeIoasIovaRangesOut(out)).toEqual({ numIovas: 3, outIovaAlignment: 0x1000n });
  });

  it('iommu_ioas_allow_iovas: 24 bytes, size@0 ioas_id@4 num_iovas@8 __reserved@12 allowed_iovas@16', () => {
    expect(STRUCT_SIZE.ioasAllowIovas).toBe(24);
    expect(encodeIoasAllowIovas({ ioasId: 0x10203, numIovas: 5 })).toEqual(layout(24, [[0, 4, 24n], [4, 4, 0x10203n], [8, 4, 5n]]));
  });

  it('iommu_ioas_map: 40 bytes, size@0 flags@4 ioas_id@8 __reserved@12 user_va@16 length@24 iova@32', () => {
    const bytes = encodeIoasMap({ flags: 7, ioasId: 3, userVa: A64, length: B64, iova: C64 });
    expect(bytes).toEqual(layout(40, [[0, 4, 40n], [4, 4, 7n], [8, 4, 3n], [16, 8, A64], [24, 8, B64], [32, 8, C64]]));
    expect(decodeIoasMapOut(layout(40, [[32, 8, C64]]))).toEqual({ iova: C64 });
  });

  it('iommu_ioas_copy: 40 bytes, size@0 flags@4 dst_ioas_id@8 src_ioas_id@12 length@16 dst_iova@24 src_iova@32 (no __reserved)', () => {
    const bytes = encodeIoasCopy({ flags: 6, dstIoasId: 2, srcIoasId: 9, length: A64, dstIova: B64, srcIova: C64 });
    expect(bytes).toEqual(layout(40, [[0, 4, 40n], [4, 4, 6n], [8, 4, 2n], [12, 4, 9n], [16, 8, A64], [24, 8, B64], [32, 8, C64]]));
    expect(decodeIoasCopyOut(layout(40, [[24, 8, B64], [32, 8, C64]]))).toEqual({ dstIova: B64 });
  });

  it('iommu_ioas_unmap: 24 bytes, size@0 ioas_id@4 iova@8 length@16 (no __reserved)', () => {
    expect(encodeIoasUnmap({ ioasId: 4, iova: A64, length: B64 })).toEqual(layout(24, [[0, 4, 24n], [4, 4, 4n], [8, 8, A64], [16, 8, B64]]));
    expect(decodeIoasUnmapOut(layout(24, [[8, 8, A64], [16, 8, 0x3000n]]))).toEqual({ length: 0x3000n });
  });

  it('iommu_option: 24 bytes, size@0 option_id@4 op@8 (u16) __reserved@10 (u16) object_id@12 val64@16', () => {
    const bytes = encodeOption({ optionId: 1, op: 0xbeef, objectId: 0x0a0b0c0d, val64: A64 });
    expect(bytes).toEqual(layout(24, [[0, 4, 24n], [4, 4, 1n], [8, 2, 0xbeefn], [12, 4, 0x0a0b0c0dn], [16, 8, A64]]));
    expect(decodeOptionOut(layout(24, [[16, 8, B64]]))).toEqual({ val64: B64 });
  });

  it('iommu_test_cmd ADD_RESERVED: 72 bytes, size@0 op@4 id@8 __reserved@12 start@16 length@24', () => {
    expect(STRUCT_SIZE.testCmd).toBe(72);
    expect(encodeTestAddReserved({ ioasId: 3, start: A64, length: B64 })).toEqual(
      layout(72, [[0, 4, 72n], [4, 4, 1n], [8, 4, 3n], [16, 8, A64], [24, 8, B64]]),
    );
  });

  it('decoders read a view that starts inside a larger buffer', () => {
    const backing = new Uint8Array(64);
    backing.set(layout(40, [[32, 8, C64]]), 8);
    expect(decodeIoasMapOut(backing.subarray(8, 48))).toEqual({ iova: C64 });
  });

  it('decoders refuse a buffer shorter than the struct', () => {
    expect(() => decodeIoasMapOut(new Uint8Array(39))).toThrow(RangeError);
  });
});

describe('writers into a reused buffer (the kernel backend\'s channel)', () => {
  const map = { flags: 7, ioasId: 9, userVa: 0x7f00_0000_1000n, length: 0x2000n, iova: 0xffff_ffff_ffff_f000n };
  const copy = { flags: 6, dstIoasId: 2, srcIoasId: 9, length: A64, dstIova: B64, srcIova: C64 };
  const cases: [name: string, size: number, write: (view: StructView) => void, fresh: Uint8Array][] = [
    ['destroy', STRUCT_SIZE.destroy, (v) => writeDestroy(v, { id: 5 }), encodeDestroy({ id: 5 })],
    ['ioas_alloc', STRUCT_SIZE.ioasAlloc, (v) => writeIoasAlloc(v, { flags: 0 }), encodeIoasAlloc({ flags: 0 })],
    ['ioas_iova_ranges', STRUCT_SIZE.ioasIovaRanges, (v) => writeIoasIovaRanges(v, { ioasId: 3, numIovas: 4 }), encodeIoasIovaRanges({ ioasId: 3, numIovas: 4 })],
    ['ioas_allow_iovas', STRUCT_SIZE.ioasAllowIovas, (v) => writeIoasAllowIovas(v, { ioasId: 3, numIovas: 0 }), encodeIoasAllowIovas({ ioasId: 3, numIovas: 0 })],
    ['ioas_map', STRUCT_SIZE.ioasMap, (v) => writeIoasMap(v, map), encodeIoasMap(map)],
    ['ioas_copy', STRUCT_SIZE.ioasCopy, (v) => writeIoasCopy(v, copy), encodeIoasCopy(copy)],
    ['ioas_unmap', STRUCT_SIZE.ioasUnmap, (v) => writeIoasUnmap(v, { ioasId: 1, iova: A64, length: B64 }), encodeIoasUnmap({ ioasId: 1, iova: A64, length: B64 })],
    ['option', STRUCT_SIZE.option, (v) => writeOption(v, { optionId: 1, op: 1, objectId: 3, val64: 0n }), encodeOption({ optionId: 1, op: 1, objectId: 3, val64: 0n })],
    ['test_cmd add_reserved', STRUCT_SIZE.testCmd, (v) => writeTestAddReserved(v, { ioasId: 4, start: 0x1000n, length: 0x2000n }), encodeTestAddReserved({ ioasId: 4, start: 0x1000n, length: 0x2000n })],
  ];

  for (const [name, size, write, fresh] of cases) {
    it(`${name}: writes every byte of the struct, so a dirty buffer gives the fresh bytes`, () => {
      const buffer = new Uint8Array(256).fill(0xff);
      write(structView(buffer.buffer));
      expect([...buffer.subarray(0, size)]).toEqual([...fresh]);
      // Nothing past the struct is touched (an IOVA_RANGES array may live there).
      expect(buffer.subarray(size).every((b) => b === 0xff)).toBe(true);
    });
  }

  it('readers take the outputs from the same offsets as the decoders', () => {
    const struct = structView(new ArrayBuffer(256));
    const view = struct.view;
    view.setUint32(8, 0x7fffffff, true);
    expect(readIoasAllocId(struct)).toBe(0x7fffffff);
    view.setBigUint64(32, C64, true);
    expect(readIoasMapIova(struct)).toBe(C64);
    view.setBigUint64(24, B64, true);
    expect(readIoasCopyDstIova(struct)).toBe(B64);
    expect(readIoasIovaRangesAlignment(struct)).toBe(B64);
    view.setUint32(8, 3, true);
    expect(readIoasIovaRangesCount(struct)).toBe(3);
    view.setBigUint64(16, A64, true);
    expect(readIoasUnmapLength(struct)).toBe(A64);
    expect(readOptionVal64(struct)).toBe(A64);
  });

  it('readIovaRangeArray reads the ranges of an array placed at an offset', () => {
    const ranges = [{ start: A64, last: B64 }, { start: 0n, last: C64 }];
    const buffer = new Uint8Array(256);
    buffer.set(encodeIovaRangeArray(ranges), 128);
    expect(readIovaRangeArray(structView(buffer.buffer), 128, 2)).toEqual(ranges);
    expect(readIovaRangeArray(structView(buffer.buffer), 128, 0)).toEqual([]);
  });
});

// The writers and readers store u64 fields through a BigUint64Array (cheaper per call than
// DataView's BigInt methods); these check them against DataView's little-endian bytes, the
// layout they replace, on random values across the whole u64 range.
describe('u64 fields through the typed array agree with DataView little-endian', () => {
  const random64 = (): bigint => BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 32)) << 32n | BigInt(Math.floor(Math.random() * 2 ** 32)));

  it('writers: the bytes DataView.setBigUint64(..., true) would write', () => {
    for (let i = 0; i < 500; i++) {
      const map = { flags: i, ioasId: i + 1, userVa: random64(), length: random64(), iova: i % 7 === 0 ? 2n ** 64n - 1n : random64() };
      const struct = structView(new Uint8Array(64).fill(0xaa).buffer);
      writeIoasMap(struct, map);
      const expected = new DataView(new ArrayBuffer(40));
      expected.setUint32(0, STRUCT_SIZE.ioasMap, true);
      expected.setUint32(4, map.flags, true);
      expected.setUint32(8, map.ioasId, true);
      expected.setUint32(12, 0, true);
      expected.setBigUint64(16, map.userVa, true);
      expected.setBigUint64(24, map.length, true);
      expected.setBigUint64(32, map.iova, true);
      expect([...new Uint8Array(struct.view.buffer, 0, 40)]).toEqual([...new Uint8Array(expected.buffer)]);
    }
  });

  it('readers: the values DataView.getBigUint64(..., true) reads, at every u64 offset', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: 256 }, () => Math.floor(Math.random() * 256));
      const struct = structView(bytes.buffer);
      const dv = new DataView(bytes.buffer);
      expect(readIoasMapIova(struct)).toBe(dv.getBigUint64(32, true));
      expect(readIoasUnmapLength(struct)).toBe(dv.getBigUint64(16, true));
      expect(readIoasIovaRangesAlignment(struct)).toBe(dv.getBigUint64(24, true));
      expect(readIovaRangeArray(struct, 128, 3)).toEqual([0, 1, 2].map((k) => ({ start: dv.getBigUint64(128 + 16 * k, true), last: dv.getBigUint64(136 + 16 * k, true) })));
    }
  });

  it('decoders read bytes at an offset that is not a multiple of 8 (copied), and a view there is refused', () => {
    const map = { flags: 1, ioasId: 2, userVa: A64, length: B64, iova: C64 };
    const padded = new Uint8Array(44);
    padded.set(encodeIoasMap(map), 4);
    expect(decodeIoasMapOut(padded.subarray(4))).toEqual({ iova: C64 });
    expect(() => structView(padded.buffer, 4)).toThrow(RangeError);
  });
});
