// The automatic IOVA allocator against (1) the spec's worked examples (§6 table) and (2) the
// naive reference port of the spec's Python model, on random states including coordinates near
// 2^53 and 2^64 (where the tree's double-based gap bounds are inexact).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocIova, fitInRange } from '../../../src/backends/sim/allocator.js';
import { IntervalTree } from '../../../src/backends/sim/interval-tree.js';
import { referenceAlloc, type Iv } from './reference-allocator.js';

const PAGE = 4096n;
const U = (1n << 64n) - 1n;
const B = 1n << 42n;
const config = { pageSize: PAGE, maxAlignment: 2n << 20n };

function simAlloc(allowed: readonly Iv[], reserved: readonly Iv[], areas: readonly Iv[], uptr: bigint, length: bigint, ialign = 1n) {
  const tree = new IntervalTree<unknown>();
  for (const [s, l] of areas) tree.insert(s, l, null);
  const result = allocIova(
    {
      areas: tree,
      allowed: allowed.map(([start, last]) => ({ start, last })),
      reserved: reserved.map(([start, last]) => ({ start, last })),
      iovaAlignment: ialign,
    },
    config,
    uptr,
    length,
  );
  if ('iova' in result) return result.iova;
  return ({ 75: 'EOVERFLOW', 22: 'EINVAL', 28: 'ENOSPC' } as Record<number, string>)[result.errno];
}

/** Runs a sequence of automatic allocations, inserting each result as an area. */
function sequence(allowed: readonly Iv[], reserved: readonly Iv[], areas: readonly Iv[], requests: readonly (readonly [bigint, bigint])[], alloc: typeof simAlloc) {
  const placed = [...areas];
  return requests.map(([uptr, length]) => {
    const r = alloc(allowed, reserved, placed, uptr, length);
    if (typeof r === 'bigint') placed.push([r, r + length - 1n]);
    return r;
  });
}

const table: { name: string; allowed?: Iv[]; areas?: Iv[]; requests: [bigint, bigint][]; expected: (bigint | string)[] }[] = [
  {
    name: 'page maps fill the lowest holes; page offset ORed',
    requests: [[B, 0x1000n], [B, 0x1000n], [B, 0x3000n], [B, 0x1000n], [B + 0x30n, 0x1000n]],
    expected: [0x1000n, 0x2000n, 0x4000n, 0x3000n, 0x7030n],
  },
  {
    name: 'byte maps, NULL user VA, 2 MiB cap',
    requests: [[B, 1n], [B, 1n], [0n, 0x3000n], [B, 4n << 20n]],
    expected: [0x1000n, 0x1001n, 0x4000n, 0x200000n],
  },
  {
    name: 'OR of a sub-page offset',
    requests: [[0x55555555a2a0n, 0x100n], [0x55555555a2a0n, 0x100n], [0x55555555a2a0n, 0x100n]],
    expected: [0x12a0n, 0x13a0n, 0x16a0n],
  },
  { name: 'allowed window', allowed: [[0x10000n, 0x1ffffn]], requests: [[B, 0x2000n], [B, 0x2000n]], expected: [0x10000n, 0x12000n] },
  {
    name: 'adjacent allowed ranges merge',
    allowed: [[0x10000n, 0x11fffn], [0x12000n, 0x13fffn]],
    requests: [[B, 0x4000n]],
    expected: [0x10000n],
  },
  { name: 'window clipped away', allowed: [[0n, 0xfffn]], requests: [[B, 0x1000n]], expected: ['ENOSPC'] },
  {
    name: 'one byte never takes the last byte of a hole (6.12.117)',
    allowed: [[0x1000n, 0x1fffn]],
    areas: [[0x1000n, 0x1ffen]],
    requests: [[B, 1n]],
    expected: ['ENOSPC'],
  },
];

describe('allocator: spec §6 worked examples', () => {
  for (const row of table) {
    it(row.name, () => {
      const args = [row.allowed ?? [], [], row.areas ?? [], row.requests] as const;
      expect(sequence(...args, simAlloc)).toEqual(row.expected);
      expect(sequence(...args, referenceAlloc)).toEqual(row.expected);
    });
  }
  it('rejects an alignment below iova_alignment and over-long lengths', () => {
    expect(simAlloc([], [], [], B + 0x800n, 0x1000n, PAGE)).toBe('EINVAL');
    expect(simAlloc([], [], [], B, U / 2n)).toBe('EOVERFLOW');
    expect(simAlloc([], [], [], B, 0n)).toBe('EOVERFLOW');
  });
  it('fitInRange ORs the page offset and refuses the final byte', () => {
    expect(fitInRange(0x14a0n, 0x2000n, 0x100n, 0x20n, 0x2a0n)).toBe(0x16a0n);
    expect(fitInRange(0x1000n, 0x1000n, 1n, 1n, 0n)).toBeNull();
    expect(fitInRange(0x1000n, 0x1001n, 1n, 1n, 0n)).toBe(0x1000n);
    expect(fitInRange(U - 1n, U, 1n, 4n, 0n)).toBeNull();
  });
});

// ---- random states ------------------------------------------------------------------------

const bases = [0n, PAGE, (1n << 53n) - 0x40000n, 1n << 63n, U - 0x400000n];

/** Disjoint areas: a start offset, then (gap, length) pairs, relative to a base. */
const areasArb = fc
  .record({
    base: fc.constantFrom(...bases),
    first: fc.bigInt({ min: 0n, max: 0x20000n }),
    pieces: fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 0x3000n }), fc.bigInt({ min: 1n, max: 0x3000n })), { maxLength: 60 }),
  })
  .map(({ base, first, pieces }) => {
    const out: Iv[] = [];
    let at = base + first;
    for (const [gap, length] of pieces) {
      const start = at + gap;
      const last = start + length - 1n;
      if (last > U) break;
      out.push([start, last]);
      if (last === U) break;
      at = last + 1n;
    }
    return out;
  });

const rangeNear = (base: bigint) =>
  fc
    .tuple(fc.bigInt({ min: 0n, max: 0x80000n }), fc.bigInt({ min: 0n, max: 0x40000n }))
    .map(([off, len]): Iv => {
      const start = base + off > U ? U : base + off;
      const last = start + len > U ? U : start + len;
      return [start, last];
    });

const rangeArb = fc.constantFrom(...bases).chain(rangeNear);

const uptrArb = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 0n, max: 0x10000n }),
  fc.bigInt({ min: 0n, max: 0xfffn }).map((o) => B + o),
  fc.bigInt({ min: 0n, max: 0x3fn }).map((k) => B + (k << 6n)),
  fc.bigInt({ min: 0n, max: U - 0x100000n }),
);

const lengthArb = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 0x4000n }) },
  { weight: 2, arbitrary: fc.constantFrom(1n, 2n, 0x1000n, 0x2000n, 0x200000n, 0x400000n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 1n << 63n }) },
);

describe('allocator: agrees with the naive reference model', () => {
  it('on random single allocations', () => {
    fc.assert(
      fc.property(
        fc.array(rangeArb, { maxLength: 3 }),
        fc.array(rangeArb, { maxLength: 3 }),
        areasArb,
        uptrArb,
        lengthArb,
        fc.constantFrom(1n, PAGE),
        (allowed, reserved, areas, uptr, length, ialign) => {
          expect(simAlloc(allowed, reserved, areas, uptr, length, ialign)).toEqual(
            referenceAlloc(allowed, reserved, areas, uptr, length, ialign),
          );
        },
      ),
      { numRuns: 600, seed: 0x10a5f0 },
    );
  });

  it('on random allocation sequences into packed layouts', () => {
    fc.assert(
      fc.property(
        fc.array(rangeArb, { maxLength: 2 }),
        areasArb,
        fc.array(fc.tuple(uptrArb, fc.bigInt({ min: 1n, max: 0x3000n })), { minLength: 1, maxLength: 25 }),
        (allowed, areas, requests) => {
          expect(sequence(allowed, [], areas, requests, simAlloc)).toEqual(sequence(allowed, [], areas, requests, referenceAlloc));
        },
      ),
      { numRuns: 300, seed: 0x5eed },
    );
  });
});
