// The creation order (rule 5) against a direct transcription of the rule: "repeatedly take the
// first creation, in declaration order, whose sources are all created". The planner computes it
// with a heap (O(n log n)); this checks it is the same order, and the same cycle verdict.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Copy, Ioas, Layout } from '../../src/model/layout.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import { order } from '../../src/plan/order.js';
import { diff } from '../../src/plan/diff.js';
import { copyOf, ioas, layout, mapping, mem } from './helpers.js';

interface Node { readonly ioas: Ioas; readonly name: string; readonly copy?: Copy }

function referenceOrder(l: Layout): string[] | 'cycle' {
  const key = (i: string, n: string) => `${i}/${n}`;
  const nodes: Node[] = l.ioas.flatMap((i) => [...i.mappings.map((m) => ({ ioas: i, name: m.name })), ...i.copies.map((c) => ({ ioas: i, name: c.name, copy: c }))]);
  const byName = new Map(l.ioas.map((i) => [i.name, i]));
  const deps = (n: Node): string[] => {
    if (!n.copy) return [];
    const from = n.copy.from;
    if (from.kind === 'entry') return [key(from.ioas, from.entry)];
    const source = byName.get(from.ioas);
    if (!source) return [];
    return [...source.mappings.map((m) => key(from.ioas, m.name)), ...source.copies.filter((c) => c.from.kind === 'entry').map((c) => key(from.ioas, c.name))].filter((k) => k !== key(n.ioas.name, n.name));
  };
  const pending = new Set(nodes.map((n) => key(n.ioas.name, n.name)));
  const out: string[] = [];
  let remaining = [...nodes];
  while (remaining.length > 0) {
    const next = remaining.find((n) => deps(n).every((d) => !pending.has(d)));
    if (!next) return 'cycle';
    out.push(key(next.ioas.name, next.name));
    pending.delete(key(next.ioas.name, next.name));
    remaining = remaining.filter((n) => n !== next);
  }
  return out;
}

const arbLayout = fc
  .record({
    mappingCounts: fc.array(fc.nat(3), { minLength: 1, maxLength: 3 }),
    copies: fc.array(fc.record({ into: fc.nat(2), from: fc.nat(2), entry: fc.nat(6), raw: fc.boolean() }), { maxLength: 8 }),
  })
  .map(({ mappingCounts, copies }): Layout => {
    const names = mappingCounts.map((_, k) => `io${k}`);
    const list = mappingCounts.map((count, k) => {
      const own = copies.filter((c) => c.into % names.length === k);
      return ioas(names[k]!, {
        mappings: Array.from({ length: count }, (_, j) => mapping(`m${j}`, 'buf')),
        copies: own.map((c, j): Copy => {
          const src = names[c.from % names.length]!;
          if (c.raw) return { name: `c${j}`, from: { kind: 'iova', ioas: src, iova: 0x100000n, length: 0x1000n }, iova: null, access: 'r' };
          // Entry names that may be mappings, copies (forward or backward), or absent.
          const entry = c.entry < 3 ? `m${c.entry}` : `c${c.entry - 3}`;
          return copyOf(`c${j}`, src, entry);
        }),
      });
    });
    return layout([mem('buf')], list);
  });

describe('creation order (rule 5)', () => {
  it('is the first-ready-in-declaration-order order, and agrees on cycles', () => {
    fc.assert(
      fc.property(arbLayout, (l) => {
        const recorded = emptyStateBody('sim');
        const result = order(l, recorded, diff(l, recorded));
        const expected = referenceOrder(l);
        if (expected === 'cycle') {
          expect(result.ok).toBe(false);
          return;
        }
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const got = result.steps.flatMap((s) => (s.op === 'map' || s.op === 'copy' ? [`${s.ioas}/${s.entry}`] : []));
        expect(got).toEqual(expected);
      }),
      { seed: 11, numRuns: 400 },
    );
  });
});
