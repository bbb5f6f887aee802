// The number fast path of MAP and COPY (src/backends/sim/number-path.ts) against the exact
// bigint path it shortcuts: the same random calls on two simulators, one with the fast path and
// one forced onto bigints (`numberFastPath: false`), must give identical results after every
// call and identical snapshots. The values cluster where the fast path must hand over or where
// doubles stop being exact: around 2^51 (FAST_LIMIT), 2^52, 2^53, 2^63 and just below 2^64,
// with fixed and automatic IOVAs, allowed ranges, reserved ranges (TEST op), HUGE_PAGES off,
// read-only pages, bad flags and unknown IOAS ids.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openSimulator, type SimContext } from '../../../src/backends/sim/index.js';
import { IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, isOk } from '../../../src/model/uapi.js';

const U64_MAX = (1n << 64n) - 1n;
const EDGES = [0n, 1n << 51n, 1n << 52n, 1n << 53n, 1n << 63n, U64_MAX];
const clampU64 = (v: bigint): bigint => (v < 0n ? 0n : v > U64_MAX ? U64_MAX : v);

/** An address or length: small, page multiples, or within 256 KiB of an edge (both sides). */
const valueArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 96 }).map((n) => BigInt(n) * 0x1000n) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 16 }).map((n) => BigInt(n) * 0x200000n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 0x300000n }) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...EDGES), fc.bigInt({ min: -0x40000n, max: 0x40000n })).map(([e, d]) => clampU64(e + d)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...EDGES), fc.integer({ min: -64, max: 64 })).map(([e, d]) => clampU64(e + BigInt(d) * 0x1000n)) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }) },
);
/** A user VA: mostly page aligned, sometimes with a page offset. */
const userVaArb = fc
  .tuple(valueArb, fc.oneof({ weight: 4, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 0xfffn }) }))
  .map(([va, offset]) => clampU64(va + offset));
/** A fixed IOVA: anywhere, or a few pages or one byte away from an existing area's ends. */
const iovaArb = fc.oneof(
  { weight: 3, arbitrary: valueArb.map((at) => ({ at, near: null })) },
  { weight: 2, arbitrary: fc.record({ at: fc.constant(0n), near: fc.record({ pick: fc.nat(), end: fc.boolean(), delta: fc.constantFrom(-0x2000n, -0x1000n, -1n, 0n, 1n, 0x1000n) }) }) },
);
type IovaChoice = typeof iovaArb extends fc.Arbitrary<infer I> ? I : never;
const lengthArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 8 }).map((n) => BigInt(n) * 0x1000n) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 0x9000n }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => BigInt(n) * 0x1000n) },
  { weight: 1, arbitrary: valueArb },
);
/** Mostly valid MAP flags (FIXED 1, WRITEABLE 2, READABLE 4), sometimes none or a stray bit. */
const flagsArb = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(4, 6, 5, 7) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 8 | 6, 1 << 20) });
const ioasArb = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 1 }) }, { weight: 1, arbitrary: fc.constant(99) });
const rangeArb = fc.tuple(valueArb, lengthArb).map(([start, length]) => ({ start, last: clampU64(start + length) }));

const opArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('map' as const), ioas: ioasArb, flags: flagsArb, userVa: userVaArb, length: lengthArb, iova: iovaArb }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('copy' as const),
      src: ioasArb,
      dst: ioasArb,
      flags: flagsArb,
      pick: fc.nat(),
      skip: fc.bigInt({ min: 0n, max: 0x3000n }),
      /** null: up to the end of the source area. */
      length: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: lengthArb }),
      srcIova: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: valueArb }),
      dstIova: iovaArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unmap' as const), ioas: ioasArb, pick: fc.nat(), whole: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('allow' as const), ioas: ioasArb, ranges: fc.array(rangeArb, { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reserve' as const), ioas: ioasArb, at: iovaArb, length: lengthArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hugePages' as const), ioas: ioasArb, on: fc.boolean() }) },
);
type Op = typeof opArb extends fc.Arbitrary<infer O> ? O : never;

/** One call on a simulator; `ids` maps 0/1 to its two IOASes (99 stays an unknown id). */
function run(sim: SimContext, ids: readonly number[], op: Op): unknown {
  const id = (i: number): number => ids[i] ?? i;
  const areasOf = (i: number) => sim.areas(id(i)) ?? [];
  const iovaIn = (i: number, choice: IovaChoice, length: bigint): bigint => {
    // Next to an area, or to a reserved range's first or last byte (around IOVA_RANGES' holes).
    const holes = choice.near === null ? [] : ((r) => (isOk(r) ? r.ranges : []))(sim.ioasIovaRanges({ ioasId: id(i), numIovas: 16 }));
    const reservedEdges = holes.flatMap((h) => [
      ...(h.start > 0n ? [{ iova: h.start - 1n, last: h.start - 1n }] : []),
      ...(h.last < U64_MAX ? [{ iova: h.last + 1n, last: h.last + 1n }] : []),
    ]);
    const areas = [...areasOf(i), ...reservedEdges];
    const area = choice.near === null ? undefined : areas[choice.near.pick % Math.max(areas.length, 1)];
    if (choice.near === null || area === undefined) return choice.at;
    return clampU64((choice.near.end ? area.last + 1n : area.iova - length) + choice.near.delta);
  };
  switch (op.op) {
    case 'map':
      return sim.ioasMap({ flags: op.flags, ioasId: id(op.ioas), userVa: op.userVa, length: op.length, iova: iovaIn(op.ioas, op.iova, op.length) });
    case 'copy': {
      // Mostly from inside an existing area (so the copy can succeed), sometimes anywhere.
      const areas = areasOf(op.src);
      const area = areas[op.pick % Math.max(areas.length, 1)];
      const srcIova = op.srcIova ?? (area === undefined ? 0n : clampU64(area.iova + (op.skip % (area.last - area.iova + 1n))));
      const length = op.length ?? (area === undefined || area.last < srcIova ? 0x1000n : area.last - srcIova + 1n);
      return sim.ioasCopy({ flags: op.flags, dstIoasId: id(op.dst), srcIoasId: id(op.src), length, dstIova: iovaIn(op.dst, op.dstIova, length), srcIova });
    }
    case 'unmap': {
      const areas = areasOf(op.ioas);
      const area = areas[op.pick % Math.max(areas.length, 1)];
      if (area === undefined) return sim.ioasUnmap({ ioasId: id(op.ioas), iova: 0n, length: U64_MAX });
      return sim.ioasUnmap({ ioasId: id(op.ioas), iova: area.iova, length: op.whole ? area.last - area.iova + 1n : 0x1000n });
    }
    case 'allow':
      return sim.ioasAllowIovas({ ioasId: id(op.ioas), ranges: op.ranges });
    case 'reserve':
      return sim.testAddReserved({ ioasId: id(op.ioas), start: iovaIn(op.ioas, op.at, op.length), last: clampU64(iovaIn(op.ioas, op.at, op.length) + op.length - 1n) });
    case 'hugePages':
      return sim.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: id(op.ioas), val64: op.on ? 1n : 0n });
  }
}

function open(numberFastPath: boolean, pageSize: number): { sim: SimContext; ids: number[] } {
  const sim = openSimulator({ testKernel: true, pageSize, numberFastPath });
  const ids = [sim.ioasAlloc({ flags: 0 }), sim.ioasAlloc({ flags: 0 })].map((r) => {
    if (!isOk(r)) throw new Error(`ioasAlloc: ${r.code}`);
    return r.outIoasId;
  });
  return { sim, ids };
}

describe('number fast path of MAP and COPY', () => {
  it('gives the results and snapshots of the bigint path on random call sequences', () => {
    fc.assert(
      fc.property(fc.constantFrom(4096, 16384), fc.array(opArb, { minLength: 5, maxLength: 60, size: 'medium' }), (pageSize, ops) => {
        const fast = open(true, pageSize);
        const exact = open(false, pageSize);
        for (const op of ops) {
          expect(run(fast.sim, fast.ids, op)).toEqual(run(exact.sim, exact.ids, op));
          expect(fast.sim.snapshot()).toEqual(exact.sim.snapshot());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('places automatic MAPs and COPYs exactly across FAST_LIMIT and 2^53 in packed IOASes', () => {
    // Dense areas near the edges, then many automatic calls: the search must leave the number
    // path exactly where the holes cross 2^51 or the window's end passes 2^53.
    const packedArb = fc.record({
      edge: fc.constantFrom(1n << 51n, 1n << 53n, 1n << 52n, 1n << 62n),
      window: fc.boolean(),
      /** One large area from a few pages below 2^51 to past 2^53 (its own MAP takes the bigint path). */
      span: fc.option(fc.tuple(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -60, max: -41 }), fc.integer({ min: 0, max: 0xfff })), { nil: null }),
      fixed: fc.array(fc.tuple(fc.integer({ min: -40, max: 40 }), fc.integer({ min: 1, max: 3 })), { maxLength: 40 }),
      autos: fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 0xfff }), fc.boolean()), { minLength: 1, maxLength: 40 }),
    });
    fc.assert(
      fc.property(packedArb, ({ edge, window, span, fixed, autos }) => {
        const sims = [open(true, 4096), open(false, 4096)];
        const results = sims.map(({ sim, ids }) => {
          const id = ids[0] as number;
          const out: unknown[] = [];
          if (window) out.push(sim.ioasAllowIovas({ ioasId: id, ranges: [{ start: edge - 0x40000n, last: edge + 0x20000n }, { start: edge + 0x30000n, last: U64_MAX - 0x1000n }] }));
          if (span !== null && edge > 1n << 52n) {
            // Ends just below the fixed areas around `edge`, at an odd byte (rounded as a double).
            const start = (1n << 51n) + BigInt(span[0]) * 0x1000n;
            const length = edge + BigInt(span[1]) * 0x1000n + BigInt(span[2]) - start;
            out.push(sim.ioasMap({ flags: 7, ioasId: id, userVa: 0x10000000n, length, iova: start }));
          }
          for (const [page, pages] of fixed) {
            out.push(sim.ioasMap({ flags: 7, ioasId: id, userVa: 0x10000000n, length: BigInt(pages) * 0x1000n, iova: edge + BigInt(page) * 0x1000n }));
          }
          for (const [pages, offset, copy] of autos) {
            const areas = sim.areas(id) ?? [];
            const source = areas[offset % Math.max(areas.length, 1)];
            out.push(
              copy && source !== undefined
                ? sim.ioasCopy({ flags: 6, dstIoasId: id, srcIoasId: id, length: source.last - source.iova + 1n, dstIova: 0n, srcIova: source.iova })
                : sim.ioasMap({ flags: 6, ioasId: id, userVa: 0x20000000n + BigInt(offset), length: BigInt(pages) * 0x1000n, iova: 0n }),
            );
          }
          return { out, snapshot: sim.snapshot() };
        });
        expect(results[0]).toEqual(results[1]);
      }),
      { numRuns: 300 },
    );
  });
});
