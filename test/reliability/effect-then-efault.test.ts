// Spec §16: MAP, COPY and UNMAP can change the IOAS and THEN fail the copy-out with EFAULT. The
// applier must treat that EFAULT as "outcome unknown" (src/apply/unknown-outcome.ts): probe by
// undoing the call anyway, and never report "rolled back" while the backend differs from the
// pre-apply state. This suite injects exactly that at random calls (the injected EFAULT comes
// after the real call, whether that call succeeded or not, so both "it happened" and "it had not
// happened" are exercised) and counts the runs where the apply reports 'rolled-back' although
// the backend no longer equals the pre-apply state (a silent half-applied layout).
//
// FINDING F1 (fixed, see test/reliability/README.md): before the probe, the rollback never undid
// such a call and still said "rolled back".
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { emptyStateBody } from '../../src/model/recorded.js';
import { makePlan } from '../../src/plan/plan.js';
import { comparable } from '../apply/support.js';
import { EFFECT_THEN_EFAULT, kernelFault } from '../support/kernel-faults.js';
import { applyInMemory, host, layoutArb } from '../support/random-layout.js';
import { LONG, record, seedFor } from './figures.js';

const RUNS = LONG ? 2000 : 300;
const tally = { runs: 0, hits: 0, reportedApplied: 0, silentMixes: 0, attention: 0, attentionWithoutLeftovers: 0, rolledBackExact: 0 };

beforeAll(async () => {
  const seed = seedFor(62);
  await fc.check(
    fc.asyncProperty(layoutArb, layoutArb, fc.integer({ min: 1, max: 60 }), async (current, desired, call) => {
      tally.runs += 1;
      const first = await applyInMemory(emptyStateBody('sim'), current);
      const made = makePlan({ desired, recorded: first.body, basis: { lineage: null, serial: 0 }, host });
      if (!made.ok || made.plan.steps.length === 0) return;
      const injection = kernelFault({ failCall: ((call - 1) % made.plan.steps.length) + 1, pick: 0, kind: 'after-effect' });
      const failed = await applyInMemory(first.body, desired, injection);
      if (!EFFECT_THEN_EFAULT.includes(injection.injected.method as never)) return;
      tally.hits += 1;
      if (failed.outcome === 'applied') tally.reportedApplied += 1;
      if (failed.outcome === 'attention') tally.attention += 1;
      if (failed.outcome === 'attention' && (failed.body.attention?.leftovers.length ?? 0) === 0) tally.attentionWithoutLeftovers += 1;
      const same = JSON.stringify(comparable({ ...failed.body, journalSeq: 0 }), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ===
        JSON.stringify(comparable({ ...first.body, journalSeq: 0 }), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      if (failed.outcome === 'rolled-back' && !same) tally.silentMixes += 1;
      if (failed.outcome === 'rolled-back' && same) tally.rolledBackExact += 1;
    }),
    { numRuns: RUNS, seed },
  );
  record('effect-then-efault', { ...tally, seed });
}, 600_000);

describe('a call that changed the kernel and then failed its copy-out with EFAULT', () => {
  it(`${RUNS} runs reach such a call, and none is reported as applied`, () => {
    expect(tally.hits).toBeGreaterThan(RUNS * 0.2);
    expect(tally.reportedApplied).toBe(0);
  });

  it('F1: no run claims "rolled back" while the backend differs from the pre-apply state', () => {
    expect(tally.silentMixes).toBe(0);
    // The probe settles most outcomes: a suite where everything ends in 'attention' proves nothing.
    expect(tally.rolledBackExact).toBeGreaterThan(tally.hits / 2);
  });

  it('every run left needing attention names what may be left on the backend', () => {
    expect(tally.attentionWithoutLeftovers).toBe(0);
  });
});
