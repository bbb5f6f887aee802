import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SIM_MEMORY_BASE, SIM_MEMORY_SLOT, simRegionVa } from '../../src/apply/holder.js';
import type { RecordedMemory } from '../../src/model/recorded.js';

const roundUp = (value: bigint, to: bigint): bigint => ((value + to - 1n) / to) * to;

/** The first-fit rule written plainly (sort, walk): what simRegionVa must always answer. */
function reference(size: bigint, existing: readonly RecordedMemory[]): bigint {
  const taken = existing.map((m) => ({ start: m.userVa, end: m.userVa + roundUp(m.size, SIM_MEMORY_SLOT) })).sort((a, b) => (a.start < b.start ? -1 : 1));
  let candidate = SIM_MEMORY_BASE;
  const span = roundUp(size > 0n ? size : 1n, SIM_MEMORY_SLOT);
  for (const t of taken) {
    if (candidate + span <= t.start) break;
    if (t.end > candidate) candidate = t.end;
  }
  return candidate;
}

describe('simRegionVa', () => {
  it('equals the sort-and-walk first fit over random creates and releases (with and without holes)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), gib: fc.integer({ min: 1, max: 3 }), extra: fc.integer({ min: 0, max: 4096 }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        let regions: RecordedMemory[] = [];
        for (const [i, o] of ops.entries()) {
          if (o.kind === 'release') {
            if (regions.length > 0) regions = regions.filter((_, k) => k !== o.pick % regions.length);
            continue;
          }
          const size = BigInt(o.gib - 1) * SIM_MEMORY_SLOT + BigInt(o.extra) * 4096n + 4096n;
          const va = simRegionVa(size, regions);
          expect(va).toBe(reference(size, regions));
          regions = [...regions, { name: `m${i}`, size, backing: { kind: 'anonymous' }, userVa: va }];
        }
      }),
      { numRuns: 300 },
    );
  });

  it('places regions created from scratch back to back', () => {
    const regions: RecordedMemory[] = [];
    for (let i = 0; i < 5; i++) regions.push({ name: `m${i}`, size: 0x1000n, backing: { kind: 'anonymous' }, userVa: simRegionVa(0x1000n, regions) });
    expect(regions.map((r) => r.userVa)).toEqual([0n, 1n, 2n, 3n, 4n].map((k) => SIM_MEMORY_BASE + k * SIM_MEMORY_SLOT));
  });
});
