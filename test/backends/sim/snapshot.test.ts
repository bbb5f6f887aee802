// The persisted simulator state: its exact JSON shape (a contract with the state store), exact
// restoration of everything that influences later calls, and rejection of malformed data.
import { describe, expect, it } from 'vitest';
import { decodeSimSnapshot, openSimulator, type SimContext, type SimSnapshot } from '../../../src/index.js';

const B = 0x7f0000000000n;

function build(): SimContext {
  const sim = openSimulator({ testKernel: true });
  sim.option({ optionId: 0, op: 0, objectId: 0, val64: 1n }); // RLIMIT_MODE = MM while empty
  sim.ioasAlloc({ flags: 0 }); // 1
  sim.ioasAlloc({ flags: 0 }); // 2
  sim.ioasAlloc({ flags: 0 }); // 3
  sim.destroy({ id: 2 });
  sim.ioasMap({ flags: 1 | 4, ioasId: 1, userVa: B, length: 0x2000n, iova: 0x10000n }); // read-only
  sim.ioasCopy({ flags: 1 | 4, dstIoasId: 3, srcIoasId: 1, length: 0x1000n, srcIova: 0x11000n, dstIova: 0x5000n });
  sim.ioasAllowIovas({ ioasId: 3, ranges: [{ start: 0x100000n, last: 0x1fffffn }] });
  sim.testAddReserved({ ioasId: 1, start: 0x40000n, last: 0x40fffn });
  sim.option({ optionId: 1, op: 0, objectId: 3, val64: 0n }); // HUGE_PAGES off on IOAS 3
  return sim;
}

describe('simulator snapshots', () => {
  it('have the documented JSON shape (bigints as hex strings, canonical order)', () => {
    const expected: SimSnapshot = {
      format: 'ioasform-sim-state',
      version: 1,
      options: { capSysResource: true, pageSize: '0x1000', testKernel: true },
      accountMode: 'mm',
      nextPagesId: 2,
      pages: [{ id: 1, uptr: '0x7f0000000000', npages: '0x2', writable: false, accountMode: 'mm' }],
      objects: [
        {
          id: 1,
          type: 'ioas',
          hugePages: true,
          allowed: [],
          reserved: [{ start: '0x40000', last: '0x40fff' }],
          areas: [{ iova: '0x10000', last: '0x11fff', pagesId: 1, startByte: '0x0', flags: 4 }],
        },
        {
          id: 3,
          type: 'ioas',
          hugePages: false,
          allowed: [{ start: '0x100000', last: '0x1fffff' }],
          reserved: [],
          areas: [{ iova: '0x5000', last: '0x5fff', pagesId: 1, startByte: '0x1000', flags: 4 }],
        },
      ],
    };
    expect(build().snapshot()).toEqual(expected);
  });

  it('restore everything later calls depend on', () => {
    const original = build();
    const saved = JSON.parse(JSON.stringify(original.snapshot())) as SimSnapshot;
    for (const sim of [original, openSimulator({ state: saved })]) {
      // lowest-free ids: 2 is free, then 4
      expect(sim.ioasAlloc({ flags: 0 })).toMatchObject({ outIoasId: 2 });
      expect(sim.ioasAlloc({ flags: 0 })).toMatchObject({ outIoasId: 4 });
      // account mode MM, and SET is refused while objects exist
      expect(sim.option({ optionId: 0, op: 1, objectId: 0, val64: 0n })).toMatchObject({ val64: 1n });
      expect(sim.option({ optionId: 0, op: 0, objectId: 0, val64: 0n }).code).toBe('EBUSY');
      // shared read-only pages: a writeable copy of the copy is refused
      expect(sim.ioasCopy({ flags: 6, dstIoasId: 2, srcIoasId: 3, length: 0x10n, srcIova: 0x5000n, dstIova: 0n }).code).toBe('EPERM');
      // HUGE_PAGES off on 3: alignment 4096
      expect(sim.ioasIovaRanges({ ioasId: 3, numIovas: 1 })).toMatchObject({ outIovaAlignment: 0x1000n });
      // the reserved range on 1 still blocks fixed maps (EINVAL) and shapes IOVA_RANGES
      expect(sim.ioasMap({ flags: 7, ioasId: 1, userVa: B, length: 0x1000n, iova: 0x40000n }).code).toBe('EINVAL');
      expect(sim.ioasIovaRanges({ ioasId: 1, numIovas: 4 })).toMatchObject({ numIovas: 2 });
      // the allowed list on 3 steers automatic placement
      expect(sim.ioasMap({ flags: 6, ioasId: 3, userVa: B, length: 0x1000n, iova: 0n })).toMatchObject({ iova: 0x100000n });
      // the areas, with user VAs derived from pages + start byte
      expect(sim.areas(3)).toEqual([
        { iova: 0x5000n, last: 0x5fffn, userVa: B + 0x1000n, flags: 4, pagesId: 1 },
        { iova: 0x100000n, last: 0x100fffn, userVa: B, flags: 6, pagesId: 2 },
      ]);
      expect(sim.testAddReserved({ ioasId: 1, start: 0x11000n, last: 0x11000n }).code).toBe('EADDRINUSE');
    }
  });

  it('restore options: page size, TEST kernel, CAP_SYS_RESOURCE', () => {
    const sim = openSimulator({ pageSize: 16384, testKernel: false, capSysResource: false });
    const restored = openSimulator({ state: sim.snapshot() });
    expect(restored.snapshot().options).toEqual({ capSysResource: false, pageSize: '0x4000', testKernel: false });
    expect(restored.option({ optionId: 0, op: 0, objectId: 0, val64: 1n }).code).toBe('EPERM');
    expect(restored.testAddReserved({ ioasId: 1, start: 0n, last: 1n }).code).toBe('ENOTTY');
    restored.ioasAlloc({ flags: 0 });
    restored.option({ optionId: 1, op: 0, objectId: 1, val64: 0n });
    expect(restored.ioasIovaRanges({ ioasId: 1, numIovas: 1 })).toMatchObject({ outIovaAlignment: 16384n });
  });

  const good = () => JSON.parse(JSON.stringify(build().snapshot())) as Record<string, any>;
  const corruptions: [string, (s: Record<string, any>) => void, RegExp][] = [
    ['wrong format', (s) => (s.format = 'other'), /format/],
    ['future version', (s) => (s.version = 2), /version/],
    ['non-hex number', (s) => (s.objects[0].areas[0].iova = '65536'), /hex/],
    ['value above 64 bits', (s) => (s.objects[0].areas[0].last = '0x10000000000000000'), /64 bits/],
    ['overlapping areas', (s) => s.objects[0].areas.push({ ...s.objects[0].areas[0] }), /overlaps/],
    ['unknown pages', (s) => (s.objects[0].areas[0].pagesId = 9), /pages/],
    ['writeable area on read-only pages', (s) => (s.objects[0].areas[0].flags = 6), /read-only/],
    ['area past its pages', (s) => (s.objects[0].areas[0].last = '0x12000'), /past its pages/],
    ['orphan pages', (s) => s.pages.push({ ...s.pages[0], id: 1 + s.pages.length }), /referenced by no area|out of range/],
    ['duplicate object id', (s) => (s.objects[1].id = 1), /duplicated/],
    ['object id 0', (s) => (s.objects[0].id = 0), /out of range/],
    ['bad page size', (s) => (s.options.pageSize = '0x1001'), /power of two/],
  ];
  for (const [name, corrupt, message] of corruptions) {
    it(`reject ${name}`, () => {
      const data = good();
      corrupt(data);
      const decoded = decodeSimSnapshot(data);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.error).toMatch(message);
      expect(() => openSimulator({ state: data as SimSnapshot })).toThrow(TypeError);
    });
  }

  it('accept the untouched snapshot', () => {
    expect(decodeSimSnapshot(good()).ok).toBe(true);
  });
});
