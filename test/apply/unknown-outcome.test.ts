// Finding F1: MAP, COPY and UNMAP can take effect and then answer EFAULT (copy-out, spec §16).
// The applier probes such a call (src/apply/unknown-outcome.ts) and reports "rolled back" only
// when the backend is really back; otherwise `attention` with a line naming what may be left.
import { describe, expect, it } from 'vitest';
import { applySteps } from '../../src/apply/apply.js';
import { openTarget } from '../../src/apply/target.js';
import type { Layout } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import type { Step } from '../../src/model/step.js';
import type { UapiContext, UapiMethod, UapiResult } from '../../src/model/uapi.js';
import { ERRNO, errnoName } from '../../src/model/uapi.js';
import { makePlan } from '../../src/plan/plan.js';
import { host } from '../support/random-layout.js';
import { comparable, exampleLayout } from './support.js';

interface Rule {
  readonly method: UapiMethod;
  /** Which call of that method (1-based) the rule hits. */
  readonly nth: number;
  /** 'after-effect': make the call, then answer EFAULT; otherwise answer this errno without calling. */
  readonly answer: 'after-effect' | number;
}

/** A uapi wrapper applying `rules` (each hits one call of its method). */
function scripted(rules: readonly Rule[]): (inner: UapiContext) => UapiContext {
  return (inner) => {
    const seen = new Map<string, number>();
    return new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (args: unknown): unknown => {
          const n = (seen.get(String(prop)) ?? 0) + 1;
          seen.set(String(prop), n);
          const rule = rules.find((r) => r.method === prop && r.nth === n);
          if (!rule) return (value as (a: unknown) => unknown).call(target, args);
          if (rule.answer === 'after-effect') {
            (value as (a: unknown) => unknown).call(target, args);
            return { errno: ERRNO.EFAULT, code: 'EFAULT' } satisfies UapiResult;
          }
          return { errno: rule.answer, code: errnoName(rule.answer) } satisfies UapiResult;
        };
      },
    });
  };
}

async function applyWith(start: StateBody, desired: Layout, rules: readonly Rule[]) {
  const made = makePlan({ desired, recorded: start, basis: { lineage: null, serial: 0 }, host });
  if (!made.ok) throw new Error(made.error.message);
  const opened = openTarget('sim', start, { wrap: scripted(rules) });
  if (!opened.ok) throw new Error(opened.message);
  let last: StateBody | null = null;
  const sink = { journal: () => undefined, commit: async (b: StateBody) => void (last = b) };
  const report = await applySteps(opened.target.env, sink, { snapshot: opened.target.snapshot }, start, made.plan.steps, 'apply');
  return { report, committed: last as StateBody | null, steps: made.plan.steps };
}

const view = (b: StateBody): unknown => comparable({ ...b, journalSeq: 0 });

describe('EFAULT after effect: the outcome is found out, or reported as unknown', () => {
  // test-lab maps a-low and a-high at fixed IOVAs, then b and table at automatic ones, then copies.
  const cases: [string, Rule][] = [
    ['a fixed-IOVA MAP that took effect', { method: 'ioasMap', nth: 1, answer: 'after-effect' }],
    ['an automatic-IOVA MAP that took effect', { method: 'ioasMap', nth: 3, answer: 'after-effect' }],
    ['a fixed-IOVA COPY that took effect', { method: 'ioasCopy', nth: 1, answer: 'after-effect' }],
    ['an automatic-IOVA COPY that took effect', { method: 'ioasCopy', nth: 2, answer: 'after-effect' }],
    ['an automatic-IOVA MAP that failed before any effect (pinning EFAULT)', { method: 'ioasMap', nth: 3, answer: ERRNO.EFAULT }],
  ];
  for (const [name, rule] of cases) {
    it(`${name} is undone (or found not to have happened), and the rollback is exact`, async () => {
      const start = openTarget('sim', emptyStateBody('sim'));
      if (!start.ok) throw new Error(start.message);
      const empty = start.target.snapshot(emptyStateBody('sim'));
      const { report, committed } = await applyWith(empty, await exampleLayout('test-lab'), [rule]);
      expect(report.failure?.code).toBe('EFAULT');
      expect(report.outcome).toBe('rolled-back');
      expect(view(committed!)).toEqual(view(empty));
      // The probes come first among the undo calls: UNMAPs, one of which removed the call's
      // area when it had taken effect, and all of which answered ENOENT when it had not.
      expect(report.undos[0]!.call).toBe('IOMMU_IOAS_UNMAP');
      const removed = report.undos.filter((u) => /^removed 0x/.test(u.meaning ?? ''));
      expect(removed).toHaveLength(rule.answer === 'after-effect' ? 1 : 0);
      if (rule.answer !== 'after-effect') expect(report.undos[0]!.code).toBe('ENOENT');
    });
  }

  it('an UNMAP that took effect is mapped back, and the rollback is exact', async () => {
    const start = openTarget('sim', emptyStateBody('sim'));
    if (!start.ok) throw new Error(start.message);
    const lab = await exampleLayout('test-lab');
    const first = await applyWith(start.target.snapshot(emptyStateBody('sim')), lab, []);
    expect(first.report.outcome).toBe('applied');
    const applied = first.committed!;
    // Drop the mirror's copies: the first call is an UNMAP.
    const fewer: Layout = { ...lab, ioas: lab.ioas.map((i) => (i.name === 'mirror' ? { ...i, copies: [] } : i)) };
    const { report, committed, steps } = await applyWith(applied, fewer, [{ method: 'ioasUnmap', nth: 2, answer: 'after-effect' }]);
    expect(steps.filter((s: Step) => s.op === 'unmap').length).toBeGreaterThanOrEqual(2);
    expect(report.failure).toMatchObject({ code: 'EFAULT', call: 'IOMMU_IOAS_UNMAP' });
    expect(report.outcome).toBe('rolled-back');
    expect(report.undos[0]).toMatchObject({ call: 'IOMMU_IOAS_MAP', code: 'OK' });
    expect(view(committed!)).toEqual(view(applied));
  });

  it('an undo UNMAP that took effect and answered EFAULT is probed and made again: the rollback is exact', async () => {
    const start = openTarget('sim', emptyStateBody('sim'));
    if (!start.ok) throw new Error(start.message);
    const empty = start.target.snapshot(emptyStateBody('sim'));
    // The first COPY fails cleanly; undoing the maps before it, the first UNMAP takes effect and EFAULTs.
    const { report, committed } = await applyWith(empty, await exampleLayout('test-lab'), [
      { method: 'ioasCopy', nth: 1, answer: ERRNO.ENOMEM },
      { method: 'ioasUnmap', nth: 1, answer: 'after-effect' },
    ]);
    expect(report.failure?.code).toBe('ENOMEM');
    expect(report.outcome).toBe('rolled-back');
    expect(report.undos[0]).toMatchObject({ call: 'IOMMU_IOAS_UNMAP', code: 'EFAULT', ok: true });
    expect(report.undos[1]).toMatchObject({ call: 'IOMMU_IOAS_MAP', code: 'OK' });
    expect(report.undos[2]).toMatchObject({ call: 'IOMMU_IOAS_UNMAP', code: 'OK' });
    expect(view(committed!)).toEqual(view(empty));
  });

  it('when the probe itself fails, the outcome is attention with a line naming the call and what may be left', async () => {
    const start = openTarget('sim', emptyStateBody('sim'));
    if (!start.ok) throw new Error(start.message);
    // MAP of mapping.b (automatic IOVA) takes effect then EFAULTs; the first UNMAP (the probe) answers EBUSY.
    const { report, committed } = await applyWith(start.target.snapshot(emptyStateBody('sim')), await exampleLayout('test-lab'), [
      { method: 'ioasMap', nth: 3, answer: 'after-effect' },
      { method: 'ioasUnmap', nth: 1, answer: ERRNO.EBUSY },
    ]);
    expect(report.outcome).toBe('attention');
    expect(report.leftovers[0]).toMatch(/^ioas\.lab\/mapping\.b: IOMMU_IOAS_MAP \(map\) answered EFAULT and may have taken effect: it may have mapped 0x[0-9a-f]+ bytes of memory\.buf-b\+0x[0-9a-f]+ at an IOVA the kernel chose and never reported in ioas\.lab \(id \d+\); an UNMAP probe answered EBUSY$/);
    expect(committed!.attention?.leftovers).toEqual(report.leftovers);
    // Everything the apply did before the unknown call was still undone.
    expect(report.undos.filter((u) => u.ok).length).toBeGreaterThan(5);
  });
});
