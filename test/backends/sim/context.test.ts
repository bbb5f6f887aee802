// Simulator-only behaviour around the uapi calls: options, closing, field-width wrapping of
// inputs (as a struct codec would store them), the areas() listing and the TEST-kernel op.
import { describe, expect, it } from 'vitest';
import { openSimulator } from '../../../src/index.js';

const U = (1n << 64n) - 1n;
const B = 0x7f0000000000n;

describe('simulator context', () => {
  it('answers EBADF after close, and close is idempotent', () => {
    const sim = openSimulator();
    sim.ioasAlloc({ flags: 0 });
    sim.close();
    sim.close();
    expect(sim.ioasAlloc({ flags: 0 })).toEqual({ errno: 9, code: 'EBADF' });
    expect(sim.destroy({ id: 1 }).code).toBe('EBADF');
    expect(sim.areas(1)).toBeNull();
  });

  it('reduces inputs to their struct field widths', () => {
    const sim = openSimulator();
    sim.ioasAlloc({ flags: 0 });
    // iova -1 is stored as U64_MAX: EOVERFLOW, even for automatic placement
    expect(sim.ioasMap({ flags: 6, ioasId: 1, userVa: B, length: 0x1000n, iova: -1n }).code).toBe('EOVERFLOW');
    // id 2^32 + 1 is stored as 1
    expect(sim.ioasMap({ flags: 6, ioasId: 2 ** 32 + 1, userVa: B, length: 0x1000n, iova: 0n })).toMatchObject({ iova: 0x1000n });
    // op is a u16: 0x10001 is GET
    expect(sim.option({ optionId: 1, op: 0x10001, objectId: 1, val64: 0n })).toMatchObject({ val64: 1n });
    expect(sim.ioasUnmap({ ioasId: 1, iova: 0n, length: U })).toMatchObject({ length: 0x1000n });
  });

  it('uses PAGE_SIZE for HUGE_PAGES and derives the alignment cap from it', () => {
    const sim = openSimulator({ pageSize: 16384n });
    sim.ioasAlloc({ flags: 0 });
    // 64 MiB at a 1 GiB-aligned VA: a = PMD size = 16 KiB * 2048 = 32 MiB; window starts at 16 KiB
    expect(sim.ioasMap({ flags: 6, ioasId: 1, userVa: 1n << 30n, length: 64n << 20n, iova: 0n })).toMatchObject({ iova: 32n << 20n });
    expect(sim.ioasMap({ flags: 6, ioasId: 1, userVa: 1n << 30n, length: 0x100n, iova: 0n })).toMatchObject({ iova: 0x4000n });
    expect(() => openSimulator({ pageSize: 4095 })).toThrow(RangeError);
  });

  it('lists areas with their user VA, flags and shared pages', () => {
    const sim = openSimulator();
    sim.ioasAlloc({ flags: 0 });
    sim.ioasMap({ flags: 7, ioasId: 1, userVa: B + 0x10n, length: 0x2000n, iova: 0x10000n });
    sim.ioasCopy({ flags: 5, dstIoasId: 1, srcIoasId: 1, length: 0x100n, srcIova: 0x10f80n, dstIova: 0x40000n });
    expect(sim.areas(2)).toBeNull();
    expect(sim.areas(1)).toEqual([
      { iova: 0x10000n, last: 0x11fffn, userVa: B + 0x10n, flags: 6, pagesId: 1 },
      { iova: 0x40000n, last: 0x400ffn, userVa: B + 0xf90n, flags: 4, pagesId: 1 },
    ]);
  });

  it('models IOMMU_TEST_OP_ADD_RESERVED only on a TEST kernel', () => {
    expect(openSimulator().testAddReserved({ ioasId: 1, start: 0n, last: 1n }).code).toBe('ENOTTY');
    const sim = openSimulator({ testKernel: true });
    expect(sim.testAddReserved({ ioasId: 1, start: 0n, last: 1n }).code).toBe('ENOENT');
    sim.ioasAlloc({ flags: 0 });
    // {start, length} with length = last - start + 1 (mod 2^64), checked before the IOAS lookup
    expect(sim.testAddReserved({ ioasId: 9, start: 2n, last: 1n }).code).toBe('EINVAL');
    expect(sim.testAddReserved({ ioasId: 9, start: 0n, last: U }).code).toBe('EINVAL');
    expect(sim.testAddReserved({ ioasId: 9, start: 5n, last: 1n }).code).toBe('EOVERFLOW');
    expect(sim.testAddReserved({ ioasId: 1, start: 0x1000n, last: 0x1fffn }).code).toBe('OK');
    expect(sim.ioasMap({ flags: 6, ioasId: 1, userVa: B, length: 0x1000n, iova: 0n })).toMatchObject({ iova: 0x2000n });
  });
});
