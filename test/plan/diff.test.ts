import { describe, expect, it } from 'vitest';
import { countActions, diff, hasChanges } from '../../src/plan/diff.js';
import { appliedState, copyOf, ioas, layout, mapping, mem } from './helpers.js';

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
