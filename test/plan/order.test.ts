import { describe, expect, it } from 'vitest';
import { diff } from '../../src/plan/diff.js';
import { order } from '../../src/plan/order.js';
import type { Layout } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import type { Step } from '../../src/model/step.js';
import { appliedState, copyOf, ioas, layout, mapping, mem } from './helpers.js';

function stepsFor(desired: Layout, recorded: StateBody): Step[] {
  const result = order(desired, recorded, diff(desired, recorded));
  if (!result.ok) throw new Error(result.error.message);
  return result.steps;
}

const indexOf = (steps: Step[], pred: (s: Step) => boolean): number => {
  const i = steps.findIndex(pred);
  expect(i, 'step not found').toBeGreaterThanOrEqual(0);
  return i;
};

const base = layout([mem('pool')], [ioas('dp', { mappings: [mapping('rx', 'pool'), mapping('tx', 'pool', { offset: 0x1000n })] })]);

describe('order: ordering rules', () => {
  it('creates memory, then the IOAS, then its mappings on empty state', () => {
    const steps = stepsFor(base, emptyStateBody('sim'));
    expect(steps.map((s) => s.op)).toEqual(['create-memory', 'alloc-ioas', 'map', 'map']);
  });

  it('an RLIMIT_MODE change empties the context first: unmaps, destroys, set, alloc, maps', () => {
    const recorded = appliedState(base);
    const desired = layout(base.memory as never, base.ioas as never, 'process');
    const changes = diff(desired, recorded);
    expect(changes.find((c) => c.address === 'options')?.reasons.join(' ')).toMatch(/empty iommufd context/);
    expect(changes.find((c) => c.address === 'ioas.dp')?.action).toBe('replace');
    const steps = stepsFor(desired, recorded);
    const set = indexOf(steps, (s) => s.op === 'set-rlimit-mode');
    const destroy = indexOf(steps, (s) => s.op === 'destroy-ioas');
    const alloc = indexOf(steps, (s) => s.op === 'alloc-ioas');
    const lastUnmap = steps.map((s) => s.op).lastIndexOf('unmap');
    const firstMap = indexOf(steps, (s) => s.op === 'map');
    expect(lastUnmap).toBeLessThan(destroy);
    expect(destroy).toBeLessThan(set);
    expect(set).toBeLessThan(alloc);
    expect(alloc).toBeLessThan(firstMap);
    expect(steps.filter((s) => s.op === 'unmap')).toHaveLength(2);
    expect(steps.filter((s) => s.op === 'map')).toHaveLength(2);
  });

  it('sets HUGE_PAGES and allowed ranges before the IOAS mappings', () => {
    const desired = layout([mem('pool')], [ioas('dp', { hugePages: false, allowedIovas: [{ start: 0x10000n, last: 0x1ffffn }], mappings: [mapping('rx', 'pool')] })]);
    const steps = stepsFor(desired, emptyStateBody('sim'));
    const map = indexOf(steps, (s) => s.op === 'map');
    expect(indexOf(steps, (s) => s.op === 'set-huge-pages')).toBeLessThan(map);
    expect(indexOf(steps, (s) => s.op === 'allow-iovas')).toBeLessThan(map);
  });

  it('changes allowed ranges and huge pages of an existing IOAS in place, after unmaps and before maps', () => {
    const recorded = appliedState(base);
    const desired = layout([mem('pool')], [ioas('dp', { hugePages: false, allowedIovas: [{ start: 0x10000n, last: 0x1ffffn }], mappings: [mapping('rx', 'pool', { iova: 0x10000n }), mapping('tx', 'pool', { offset: 0x1000n })] })]);
    const steps = stepsFor(desired, recorded);
    expect(steps.some((s) => s.op === 'alloc-ioas' || s.op === 'destroy-ioas')).toBe(false);
    const unmap = indexOf(steps, (s) => s.op === 'unmap');
    const huge = indexOf(steps, (s) => s.op === 'set-huge-pages');
    const allow = indexOf(steps, (s) => s.op === 'allow-iovas');
    const map = indexOf(steps, (s) => s.op === 'map');
    expect(unmap).toBeLessThan(huge);
    expect(Math.max(huge, allow)).toBeLessThan(map);
    const allowStep = steps[allow] as Extract<Step, { op: 'allow-iovas' }>;
    expect(allowStep.previous).toEqual([]);
  });

  it('unmaps before maps that reuse the space (a moved mapping onto the IOVA another one leaves)', () => {
    const fixed = layout([mem('pool')], [ioas('dp', { mappings: [mapping('a', 'pool', { iova: 0x10000n }), mapping('b', 'pool', { iova: 0x20000n })] })]);
    const recorded = appliedState(fixed);
    const swapped = layout([mem('pool')], [ioas('dp', { mappings: [mapping('a', 'pool', { iova: 0x20000n }), mapping('b', 'pool', { iova: 0x10000n })] })]);
    const steps = stepsFor(swapped, recorded);
    expect(steps.map((s) => s.op)).toEqual(['unmap', 'unmap', 'map', 'map']);
  });

  it('creates copies after their sources even when declared first, across IOASes', () => {
    const desired = layout([mem('pool')], [
      ioas('dev', { copies: [copyOf('c2', 'dev', 'c1'), copyOf('c1', 'dp', 'rx')] }),
      ioas('dp', { mappings: [mapping('rx', 'pool')] }),
    ]);
    const steps = stepsFor(desired, emptyStateBody('sim'));
    const names = steps.filter((s) => s.op === 'map' || s.op === 'copy').map((s) => (s as { entry: string }).entry);
    expect(names).toEqual(['rx', 'c1', 'c2']);
  });

  it('removes copies before their sources when both go', () => {
    const withCopies = layout([mem('pool')], [ioas('dp', { mappings: [mapping('rx', 'pool')], copies: [copyOf('c1', 'dp', 'rx'), copyOf('c2', 'dp', 'c1')] })]);
    const steps = stepsFor(layout([mem('pool')], [ioas('dp')]), appliedState(withCopies));
    expect(steps.filter((s) => s.op === 'unmap').map((s) => (s as { entry: string }).entry)).toEqual(['c2', 'c1', 'rx']);
  });

  it('destroys last: IOAS destroy and memory release come after every other step', () => {
    const two = layout([mem('pool'), mem('old')], [ioas('gone', { mappings: [mapping('x', 'old')] }), ioas('dp')]);
    const desired = layout([mem('pool')], [ioas('dp', { mappings: [mapping('rx', 'pool')] })]);
    const steps = stepsFor(desired, appliedState(two));
    expect(steps.map((s) => s.op)).toEqual(['unmap', 'map', 'destroy-ioas', 'release-memory']);
    const destroy = steps[2] as Extract<Step, { op: 'destroy-ioas' }>;
    expect(destroy.ioas).toBe('gone');
  });

  it('replaces a memory region and every entry using it, releasing before re-creating', () => {
    const recorded = appliedState(base);
    const desired = layout([mem('pool', 8n << 20n)], base.ioas as never);
    const steps = stepsFor(desired, recorded);
    expect(steps.map((s) => s.op)).toEqual(['unmap', 'unmap', 'release-memory', 'create-memory', 'map', 'map']);
  });

  it('reports a copy cycle as an error value', () => {
    const desired = layout([mem('pool')], [ioas('dp', { copies: [copyOf('a', 'dp', 'b'), copyOf('b', 'dp', 'a')] })]);
    const result = order(desired, emptyStateBody('sim'), diff(desired, emptyStateBody('sim')));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('copy-cycle');
  });
});
