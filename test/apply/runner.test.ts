// The table-based runner against the runner it replaced (reference-runner.ts, the immutable
// body rebuilt per step): over random generated layouts, every step's outcome and the recorded
// body after it must be the same, byte for byte (key order included), through a fresh apply, an
// incremental replace, hand-made copies that span several areas, failing steps, and the undo of
// everything.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateLayout } from '../../bench/generate.js';
import { simHolder } from '../../src/apply/holder.js';
import { runTableStep } from '../../src/apply/runner.js';
import { WorkingTable } from '../../src/apply/working-table.js';
import { openSimulator } from '../../src/backends/sim/index.js';
import { parseLayoutText } from '../../src/config/parse.js';
import type { Layout } from '../../src/model/layout.js';
import { emptyStateBody, type StateBody } from '../../src/model/recorded.js';
import { inverse, type CopyStep, type Step, type StepOutput } from '../../src/model/step.js';
import { makePlan } from '../../src/plan/plan.js';
import { referenceRunStep } from './reference-runner.js';

const host = { backend: 'sim', hostname: 'test', pageSize: 4096n } as const;
const basis = { lineage: null, serial: 0 };

const text = (body: StateBody): string => JSON.stringify(body, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

function layoutOf(count: number, seed: number, changedFraction?: number): Layout {
  const parsed = parseLayoutText(generateLayout({ count, seed, ...(changedFraction ? { changedFraction } : {}) }).text);
  if (!parsed.layout) throw new Error('generated layout does not validate');
  return parsed.layout;
}

function planSteps(desired: Layout, recorded: StateBody): readonly Step[] {
  const made = makePlan({ desired, recorded, basis, host });
  if (!made.ok) throw new Error(made.error.code);
  return made.plan.steps;
}

/** Two runners on two identical simulators, stepped together and compared after every step. */
class Lockstep {
  private readonly refEnv = { ctx: openSimulator(), holder: simHolder };
  private readonly env = { ctx: openSimulator(), holder: simHolder };
  readonly table = WorkingTable.from(emptyStateBody('sim'));
  body: StateBody = emptyStateBody('sim');
  readonly executed: { step: Step; output: StepOutput }[] = [];
  failures = 0;

  async run(steps: readonly Step[]): Promise<void> {
    for (const step of steps) {
      const ref = await referenceRunStep(this.refEnv, this.body, step);
      const got = await runTableStep(this.env, this.table, step);
      if (ref.ok) {
        expect(got).toEqual({ ok: true, output: ref.output });
        this.body = ref.body;
        this.executed.push({ step, output: ref.output });
      } else {
        expect(got).toEqual(ref);
        this.failures += 1;
      }
      expect(text(this.table.body())).toBe(text(this.body));
    }
  }

  close(): void {
    this.refEnv.ctx.close();
    this.env.ctx.close();
  }
}

/** Copies by raw IOVA and by entry offset over two back-to-back areas of one IOAS. */
function spanningCopies(body: StateBody, template: CopyStep): CopyStep[] {
  const copies: CopyStep[] = [];
  for (const ioas of body.ioas) {
    const areas = ioas.entries.flatMap((e) => e.areas.map((a) => ({ entry: e.name, area: a }))).sort((x, y) => (x.area.iova < y.area.iova ? -1 : 1));
    for (let k = 0; k + 1 < areas.length && copies.length < 4; k++) {
      const a = areas[k]!;
      const b = areas[k + 1]!;
      if (a.area.iova + a.area.length !== b.area.iova || a.entry === b.entry) continue;
      const length = a.area.length + b.area.length;
      const base = { ...template, ioas: ioas.name, length, iova: null };
      copies.push({ ...base, entry: `span-iova-${copies.length}`, from: { kind: 'iova', ioas: ioas.name, iova: a.area.iova } });
      copies.push({ ...base, entry: `span-entry-${copies.length}`, from: { kind: 'entry', ioas: ioas.name, entry: a.entry, offset: 0n } });
    }
  }
  return copies;
}

describe('table-based step runner', () => {
  it('produces the reference runner body after every step, over random plans', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 30, max: 300 }), fc.integer({ min: 1, max: 1_000_000 }), async (count, seed) => {
        const run = new Lockstep();
        try {
          await run.run(planSteps(layoutOf(count, seed), run.body));
          await run.run(planSteps(layoutOf(count, seed, 0.2), run.body));

          const template = run.executed.map((e) => e.step).find((s): s is CopyStep => s.op === 'copy');
          if (template) await run.run(spanningCopies(run.body, template));

          // Failing steps leave the state as it was: a fixed map again (EEXIST), an alloc again
          // (a table mismatch), a copy from an entry that is gone.
          const fixedMap = run.executed.map((e) => e.step).find((s) => s.op === 'map' && s.iova !== null);
          const alloc = run.executed.map((e) => e.step).find((s) => s.op === 'alloc-ioas');
          const failing = [fixedMap, alloc].filter((s): s is Step => s !== undefined);
          if (template) failing.push({ ...template, from: { kind: 'entry', ioas: template.from.ioas, entry: 'no-such-entry', offset: 0n } });
          const before = run.failures;
          await run.run(failing);
          expect(run.failures - before).toBe(failing.length);

          const undo = [...run.executed].reverse().flatMap((e) => inverse(e.step, e.output));
          await run.run(undo);
          expect(run.body.ioas).toEqual([]);
          expect(run.body.memory).toEqual([]);
        } finally {
          run.close();
        }
      }),
      { numRuns: 6 },
    );
  });

  it('keeps a loaded body that is not in name order as it is until something is inserted', async () => {
    const start: StateBody = {
      ...emptyStateBody('sim'),
      ioas: [
        { name: 'b', id: 1, allowedIovas: [], hugePages: true, entries: [] },
        { name: 'a', id: 2, allowedIovas: [], hugePages: true, entries: [] },
      ],
    };
    const table = WorkingTable.from(start);
    const env = { ctx: openSimulator(), holder: simHolder };
    const huge: Step = { op: 'set-huge-pages', address: 'ioas.a', ioas: 'a', enabled: false, previous: true };
    // The simulator has no IOAS 2, so the call fails and nothing changes.
    const failed = await runTableStep(env, table, huge);
    const reference = await referenceRunStep(env, start, huge);
    expect(failed).toEqual(reference);
    expect(text(table.body())).toBe(text(start));
    const alloc: Step = { op: 'alloc-ioas', address: 'ioas.c', ioas: 'c' };
    const refEnv = { ctx: openSimulator(), holder: simHolder };
    const allocated = await referenceRunStep(refEnv, start, alloc);
    if (!allocated.ok) throw new Error(allocated.code);
    expect(await runTableStep(env, table, alloc)).toEqual({ ok: true, output: allocated.output });
    expect(text(table.body())).toBe(text(allocated.body));
    expect(table.body().ioas.map((i) => i.name)).toEqual(['a', 'b', 'c']);
    env.ctx.close();
    refEnv.ctx.close();
  });
});
