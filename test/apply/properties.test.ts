// Properties of plan + apply over random layouts, on the simulator in memory (no files):
// applying converges (a second plan has no changes), and a failure at any call rolls back to
// exactly the state before.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApplySink } from '../../src/apply/apply.js';
import { applySteps } from '../../src/apply/apply.js';
import { faultyHolder, simHolder } from '../../src/apply/holder.js';
import { openTarget } from '../../src/apply/target.js';
import { withFault } from '../../src/backends/faulty.js';
import type { Layout, Mapping } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import { ERRNO } from '../../src/model/uapi.js';
import { hasChanges } from '../../src/plan/diff.js';
import { makePlan } from '../../src/plan/plan.js';
import { comparable } from './support.js';

const PAGE = 0x1000n;
const host = { backend: 'sim' as const, hostname: 'h', pageSize: PAGE };

const layoutArb: fc.Arbitrary<Layout> = fc
  .record({
    rlimitMode: fc.constantFrom('user' as const, 'process' as const),
    memory: fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 3 }),
    ioas: fc.array(
      fc.record({
        hugePages: fc.boolean(),
        restricted: fc.boolean(),
        mappings: fc.array(fc.record({ mem: fc.nat(), start: fc.nat(), pages: fc.integer({ min: 1, max: 4 }), fixed: fc.boolean(), write: fc.boolean() }), { maxLength: 3 }),
        copies: fc.array(fc.record({ ioas: fc.nat(), entry: fc.nat() }), { maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ rlimitMode, memory, ioas }) => {
    const regions = memory.map((pages, i) => ({ name: `m${i}`, size: BigInt(pages) * PAGE, backing: { kind: 'anonymous' as const } }));
    const withMappings = ioas.map((spec, i) => ({
      spec,
      mappings: spec.mappings.map((m, j): Mapping => {
        const region = regions[m.mem % regions.length]!;
        const regionPages = Number(region.size / PAGE);
        const start = m.start % regionPages;
        const pages = Math.min(m.pages, regionPages - start);
        // Fixed IOVAs get a private 1 MiB slot per (ioas, mapping): they never overlap.
        const iova = m.fixed ? 0x40000000n + BigInt(i * 8 + j) * 0x100000n : null;
        return { name: `map${j}`, memory: region.name, offset: BigInt(start) * PAGE, length: BigInt(pages) * PAGE, iova, access: m.write ? 'rw' : 'r' };
      }),
    }));
    return {
      version: 1,
      options: { rlimitMode },
      memory: regions,
      ioas: withMappings.map(({ spec, mappings }, i) => {
        const copies = spec.copies.flatMap((c, k) => {
          const source = withMappings[c.ioas % withMappings.length]!;
          const entry = source.mappings[c.entry % Math.max(1, source.mappings.length)];
          if (!entry) return [];
          return [{ name: `copy${k}`, from: { kind: 'entry' as const, ioas: `io${c.ioas % withMappings.length}`, entry: entry.name, offset: 0n, length: entry.length }, iova: null, access: 'r' as const }];
        });
        return { name: `io${i}`, allowedIovas: spec.restricted ? [{ start: 0x100000n, last: 0x3fffffffn }] : [], hugePages: spec.hugePages, mappings, copies };
      }),
    };
  });

const memorySink = (): ApplySink & { body: () => StateBody | null } => {
  let last: StateBody | null = null;
  return { journal: async () => undefined, commit: async (b) => void (last = b), body: () => last };
};

async function applyInMemory(start: StateBody, desired: Layout, failCall?: number): Promise<{ outcome: string; body: StateBody }> {
  const made = makePlan({ desired, recorded: start, basis: { lineage: null, serial: 0 }, host });
  if (!made.ok) throw new Error(made.error.message);
  const counter = { n: 0 };
  const opened = openTarget('sim', start, failCall
    ? { wrap: (ctx) => withFault(ctx, { failCall, errno: ERRNO.ENOMEM }, counter), holder: faultyHolder(simHolder, failCall, ERRNO.ENOMEM, 'ENOMEM', counter) }
    : {});
  if (!opened.ok) throw new Error(opened.message);
  const report = await applySteps(opened.target.env, memorySink(), { snapshot: opened.target.snapshot }, start, made.plan.steps, 'apply');
  await opened.target.close();
  return { outcome: report.outcome, body: report.body };
}

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
