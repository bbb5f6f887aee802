// Issue 6.1: random (current, desired) layout pairs, a failure injected at a random call with an
// errno the kernel can really return there; after apply the backend and the recorded state equal
// the pre-apply ones exactly, and the failure is reported with the injected errno. Without
// injection the result is the desired layout and a second plan is empty.
// Runs: 1000 by default (CI), 10000 with IOASFORM_RELIABILITY_LONG=1. Seeded; fast-check prints
// the seed and the shrunk counterexample on failure. Override with IOASFORM_RELIABILITY_SEED.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyStateBody } from '../../src/model/recorded.js';
import { errnoName } from '../../src/model/uapi.js';
import { hasChanges } from '../../src/plan/diff.js';
import { makePlan } from '../../src/plan/plan.js';
import { comparable } from '../apply/support.js';
import { kernelFault } from '../support/kernel-faults.js';
import { applyInMemory, host, layoutArb } from '../support/random-layout.js';
import { LONG, record, seedFor } from './figures.js';

const RUNS = LONG ? 10_000 : 1000;
const basis = { lineage: null, serial: 0 };

describe('rollback is exact under kernel-possible failures (random layouts)', () => {
  it(`${RUNS} runs: injected failure -> exact pre-apply state and exact report; none -> desired, empty re-plan`, async () => {
    const seed = seedFor(61);
    const tally = { runs: 0, injected: 0, converged: 0, byErrno: new Map<string, number>() };
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(layoutArb, layoutArb, fc.option(fc.record({ call: fc.integer({ min: 1, max: 60 }), pick: fc.nat(7) }), { freq: 5 }), async (current, desired, fault) => {
        tally.runs += 1;
        const first = await applyInMemory(emptyStateBody('sim'), current);
        expect(first.outcome).toBe('applied');
        const made = makePlan({ desired, recorded: first.body, basis, host });
        expect(made.ok).toBe(true);
        if (!made.ok) return;
        const calls = made.plan.steps.length;
        if (fault === null || calls === 0) {
          const applied = await applyInMemory(first.body, desired);
          expect(applied.outcome).toBe('applied');
          const again = makePlan({ desired, recorded: applied.body, basis, host });
          expect(again.ok && hasChanges(again.plan.changes)).toBe(false);
          tally.converged += 1;
          return;
        }
        const injection = kernelFault({ failCall: ((fault.call - 1) % calls) + 1, pick: fault.pick, kind: 'clean' });
        const failed = await applyInMemory(first.body, desired, injection);
        expect(injection.injected.errno).not.toBeNull();
        expect(failed.outcome).toBe('rolled-back');
        expect(failed.failure?.errno).toBe(injection.injected.errno);
        expect(failed.failure?.code).toBe(errnoName(injection.injected.errno!));
        // The backend snapshot and the recorded state, field by field (see comparable()).
        expect(comparable({ ...failed.body, journalSeq: 0 })).toEqual(comparable({ ...first.body, journalSeq: 0 }));
        tally.injected += 1;
        const key = `${injection.injected.method}:${failed.failure?.code}`;
        tally.byErrno.set(key, (tally.byErrno.get(key) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed, endOnFailure: true },
    );
    // Not vacuous: most runs injected a failure that was rolled back, and some converged.
    expect(tally.injected).toBeGreaterThan(RUNS * 0.6);
    expect(tally.converged).toBeGreaterThan(RUNS * 0.05);
    record('rollback-properties', { runs: tally.runs, injected: tally.injected, converged: tally.converged, seed, seconds: (Date.now() - started) / 1000, byCall: Object.fromEntries(tally.byErrno) });
  }, 600_000);
});
