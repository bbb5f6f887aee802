import { describe, expect, it } from 'vitest';
import { countActions, diff, hasChanges } from '../../src/plan/diff.js';
import { MiB, appliedState, copyOf, ioas, layout, mapping, mem } from './helpers.js';

const base = layout([mem('pool')], [ioas('dp', { mappings: [mapping('rx', 'pool'), mapping('tx', 'pool', { offset: 0x1000n })], copies: [copyOf('rxc', 'dp', 'rx')] }), ioas('other', { mappings: [mapping('m', 'pool')] })]);

describe('diff', () => {
  it('finds no changes when the desired layout is what was applied', () => {
    const changes = diff(base, appliedState(base));
    expect(hasChanges(changes)).toBe(false);
    expect(changes.every((c) => c.action === 'no-op')).toBe(true);
  });

  it('any mapping attribute change is exactly one replacement, with the attribute as the reason', () => {
    for (const over of [{ iova: 0x40000n }, { access: 'r' as const }, { length: 0x2000n }, { offset: 0x3000n }]) {
      const edited = layout(base.memory as never, [ioas('dp', { mappings: [mapping('rx', 'pool'), mapping('tx', 'pool', { offset: 0x1000n, ...over })], copies: [copyOf('rxc', 'dp', 'rx')] }), base.ioas[1]!]);
      const changes = diff(edited, appliedState(base)).filter((c) => c.action !== 'no-op');
      expect(changes.map((c) => [c.address, c.action])).toEqual([['ioas.dp/mapping.tx', 'replace']]);
      const name = Object.keys(over)[0]!;
      expect(changes[0]!.reasons).toEqual([`${name} changed`]);
      expect(changes[0]!.attributes.filter((a) => a.forcesReplacement).map((a) => a.name)).toEqual([name]);
    }
  });

  it('a copy follows its source when the source bytes change, saying why', () => {
    const edited = layout(base.memory as never, [ioas('dp', { mappings: [mapping('rx', 'pool', { offset: 0x8000n }), mapping('tx', 'pool', { offset: 0x1000n })], copies: [copyOf('rxc', 'dp', 'rx')] }), base.ioas[1]!]);
    const changes = diff(edited, appliedState(base)).filter((c) => c.action !== 'no-op');
    expect(changes.map((c) => c.address)).toEqual(['ioas.dp/mapping.rx', 'ioas.dp/copy.rxc']);
    expect(changes[1]!.reasons[0]).toMatch(/source ioas\.dp\/mapping\.rx is replaced/);
  });

  it('a copy stays when its source only moves or changes access (same pages)', () => {
    for (const over of [{ iova: 0x40000n }, { access: 'r' as const }]) {
      const edited = layout(base.memory as never, [ioas('dp', { mappings: [mapping('rx', 'pool', over), mapping('tx', 'pool', { offset: 0x1000n })], copies: [copyOf('rxc', 'dp', 'rx')] }), base.ioas[1]!]);
      const changes = diff(edited, appliedState(base)).filter((c) => c.action !== 'no-op');
      expect(changes.map((c) => c.address)).toEqual(['ioas.dp/mapping.rx']);
    }
  });

  it('counts adds, replacements and destroys for the summary', () => {
    const desired = layout([mem('pool')], [ioas('dp', { mappings: [mapping('rx', 'pool', { iova: 0x9000n }), mapping('new', 'pool')] })]);
    const summary = countActions(diff(desired, appliedState(base)));
    // + new; -/+ rx; - tx, - rxc? no: rxc is deleted; - other, - other/m
    expect(summary).toEqual({ add: 1, replace: 1, destroy: 4, update: 0 });
  });

  it('an allowed-range change is an in-place update of the IOAS', () => {
    const edited = layout(base.memory as never, [ioas('dp', { ...base.ioas[0]!, allowedIovas: [{ start: 0x1000n, last: 0xffffffn }] }), base.ioas[1]!]);
    const changes = diff(edited, appliedState(base)).filter((c) => c.action !== 'no-op');
    expect(changes.map((c) => [c.address, c.action])).toEqual([['ioas.dp', 'update']]);
  });
});

describe('diff: equal attribute rows are one object', () => {
  // 6000 mappings with distinct offsets (more than the 4096 rows shared per attribute name) and
  // a few distinct lengths and accesses, planned against empty state and against itself.
  const many = layout([mem('big', 64n * MiB)], [
    ioas('io', { mappings: Array.from({ length: 6000 }, (_, i) => mapping(`m${i}`, 'big', { offset: BigInt(i) * 0x1000n, length: BigInt(1 + (i % 3)) * 0x1000n, access: i % 2 === 0 ? 'rw' : 'r', iova: i % 5 === 0 ? null : 0x100000n + BigInt(i) * 0x4000n })) }),
  ]);
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  const expectedRows = (m: (typeof many.ioas)[number]['mappings'][number], recorded: boolean) =>
    [
      ['memory', m.memory],
      ['offset', hex(m.offset)],
      ['length', hex(m.length)],
      ['iova', m.iova === null ? '(auto)' : hex(m.iova)],
      ['access', m.access],
    ].map(([name, value]) => ({ name, before: recorded ? value : null, after: value, forcesReplacement: false }));

  for (const [label, recorded] of [['create', false], ['no-op', true]] as const) {
    it(`${label}: every row holds its own entry's values, and repeated rows are shared`, () => {
      const changes = diff(many, recorded ? appliedState(many) : appliedState(layout([], []))).filter((c) => c.kind === 'mapping');
      expect(changes).toHaveLength(6000);
      changes.forEach((c, i) => {
        expect(c.action).toBe(label);
        expect(c.attributes).toStrictEqual(expectedRows(many.ioas[0]!.mappings[i]!, recorded));
      });
      // Low-cardinality rows are one object each; the offsets (6000 distinct) are not all kept.
      const distinct = (name: string) => new Set(changes.map((c) => c.attributes.find((a) => a.name === name))).size;
      expect(distinct('access')).toBe(2);
      expect(distinct('length')).toBe(3);
      expect(distinct('memory')).toBe(1);
      expect(distinct('offset')).toBe(6000);
    });
  }
});
