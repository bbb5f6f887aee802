// The area tree against a plain sorted array: random inserts/removes of disjoint intervals,
// then every query (containing, firstIntersecting, firstEndingAtOrAfter, nth, firstGapFrom,
// iteration order) must agree, including coordinates near 2^53 and 2^64.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntervalTree } from '../../../src/backends/sim/interval-tree.js';

const U = (1n << 64n) - 1n;
type Iv = { start: bigint; last: bigint };

function naiveGapFrom(list: Iv[], from: bigint, need: bigint) {
  for (let i = 0; i + 1 < list.length; i++) {
    const a = list[i]!;
    const b = list[i + 1]!;
    if (a.start >= from && b.start - a.last - 1n >= need) return { previousLast: a.last, nextStart: b.start };
  }
  return null;
}

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), start: fc.bigInt({ min: 0n, max: 0x400n }), length: fc.bigInt({ min: 1n, max: 0x40n }) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
);

describe('IntervalTree', () => {
  it('matches a sorted array under random operations and queries', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0n, (1n << 53n) - 0x200n, U - 0x500n),
        fc.array(opArb, { maxLength: 120 }),
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 0x500n }), fc.bigInt({ min: 0n, max: 0x60n })), { minLength: 1, maxLength: 20 }),
        (base, ops, queries) => {
          const tree = new IntervalTree<number>();
          let list: Iv[] = [];
          ops.forEach((op, i) => {
            if (op.kind === 'insert') {
              const start = base + op.start;
              const last = start + op.length - 1n;
              if (last > U || list.some((x) => x.start <= last && start <= x.last)) return;
              tree.insert(start, last, i);
              list = [...list, { start, last }].sort((a, b) => (a.start < b.start ? -1 : 1));
            } else if (list.length > 0) {
              const victim = list[op.pick % list.length]!;
              expect(tree.remove(victim.start)?.last).toBe(victim.last);
              list = list.filter((x) => x !== victim);
            }
          });
          expect(tree.size).toBe(list.length);
          expect(tree.toArray().map(({ start, last }) => ({ start, last }))).toEqual(list);
          expect(tree.maxLast()).toBe(list.length ? list[list.length - 1]!.last : null);
          list.forEach((x, i) => expect(tree.nth(i)?.start).toBe(x.start));
          expect(tree.nth(list.length)).toBeNull();
          for (const [off, len] of queries) {
            const lo = base + off > U ? U : base + off;
            const hi = lo + len > U ? U : lo + len;
            const inter = list.find((x) => x.start <= hi && lo <= x.last) ?? null;
            expect(tree.firstIntersecting(lo, hi)?.start ?? null).toBe(inter?.start ?? null);
            expect(tree.containing(lo)?.start ?? null).toBe(list.find((x) => x.start <= lo && lo <= x.last)?.start ?? null);
            expect(tree.firstEndingAtOrAfter(lo)?.start ?? null).toBe(list.find((x) => x.last >= lo)?.start ?? null);
            for (const x of list) {
              expect(tree.firstGapFrom(x.start, len + 1n)).toEqual(naiveGapFrom(list, x.start, len + 1n));
            }
            expect(tree.firstGapFrom(lo, len)).toEqual(naiveGapFrom(list, lo, len));
          }
        },
      ),
      { numRuns: 300, seed: 0x7ee },
    );
  });

  it('removing a missing start changes nothing', () => {
    const tree = new IntervalTree<string>();
    tree.insert(0x1000n, 0x1fffn, 'a');
    expect(tree.remove(0x1001n)).toBeNull();
    expect(tree.size).toBe(1);
  });
});
