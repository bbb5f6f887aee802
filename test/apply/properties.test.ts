// Properties of plan + apply over random layouts, on the simulator in memory (no files):
// applying converges (a second plan has no changes), and a failure at any call rolls back to
// exactly the state before.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyStateBody } from '../../src/model/recorded.js';
import { hasChanges } from '../../src/plan/diff.js';
import { makePlan } from '../../src/plan/plan.js';
import { applyInMemory, host, layoutArb } from '../support/random-layout.js';
import { comparable } from './support.js';

describe('plan + apply properties (random layouts, simulator)', () => {
  it('converges: after applying L1 then L2, planning L2 again finds no changes', async () => {
    await fc.assert(
      fc.asyncProperty(layoutArb, layoutArb, async (l1, l2) => {
        const first = await applyInMemory(emptyStateBody('sim'), l1);
        expect(first.outcome).toBe('applied');
        const second = await applyInMemory(first.body, l2);
        expect(second.outcome).toBe('applied');
        const again = makePlan({ desired: l2, recorded: second.body, basis: { lineage: null, serial: 0 }, host });
        expect(again.ok && hasChanges(again.plan.changes)).toBe(false);
      }),
      { numRuns: 60, seed: 20261125 },
    );
  });

  it('a failure at any call of L1 -> L2 rolls back to exactly the L1 state', async () => {
    let rolledBack = 0;
    await fc.assert(
      fc.asyncProperty(layoutArb, layoutArb, fc.integer({ min: 1, max: 40 }), async (l1, l2, call) => {
        const first = await applyInMemory(emptyStateBody('sim'), l1);
        const made = makePlan({ desired: l2, recorded: first.body, basis: { lineage: null, serial: 0 }, host });
        if (!made.ok || made.plan.steps.length === 0) return;
        const failCall = ((call - 1) % made.plan.steps.length) + 1;
        const failed = await applyInMemory(first.body, l2, failCall);
        expect(failed.outcome).toBe('rolled-back');
        rolledBack += 1;
        expect(comparable({ ...failed.body, journalSeq: 0 })).toEqual(comparable({ ...first.body, journalSeq: 0 }));
      }),
      { numRuns: 60, seed: 20261126 },
    );
    // Not vacuous: most generated pairs really needed calls, and each of those was rolled back.
    expect(rolledBack).toBeGreaterThan(40);
  });
});
