import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ALLOWED_EVERY, IOAS_COUNT, generateLayout } from '../../bench/generate.js';
import { applyOnSimulator } from '../../bench/sim-apply.js';
import { simHolder } from '../../src/apply/holder.js';
import { runStep } from '../../src/apply/runner.js';
import { openSimulator } from '../../src/backends/sim/index.js';
import { parseLayoutText } from '../../src/config/parse.js';
import { emptyStateBody, type StateBody } from '../../src/model/recorded.js';
import { makePlan } from '../../src/plan/plan.js';

const host = { backend: 'sim', hostname: 'test', pageSize: 4096n } as const;
const basis = { lineage: null, serial: 0 };

describe('bench layout generator', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(generateLayout({ count: 500, seed: 3 }).text).toBe(generateLayout({ count: 500, seed: 3 }).text);
    expect(generateLayout({ count: 500, seed: 3 }).text).not.toBe(generateLayout({ count: 500, seed: 4 }).text);
  });

  it('has the shape of the issue: 16 IOASes, 5% copies, half of the mappings fixed, allowed ranges on some', () => {
    const { text, counts } = generateLayout({ count: 1000 });
    expect(counts).toMatchObject({ mappings: 950, copies: 50, fixed: 475, automatic: 475 });
    const written = parseDocument(text, { intAsBigInt: true }).toJS() as {
      ioas: Record<string, { allowed_iovas?: unknown[]; mappings: Record<string, { iova?: bigint }>; copies?: Record<string, unknown> }>;
    };
    const ioas = Object.values(written.ioas);
    expect(ioas).toHaveLength(IOAS_COUNT);
    const mappings = ioas.flatMap((i) => Object.values(i.mappings));
    expect(mappings).toHaveLength(950);
    expect(mappings.filter((m) => m.iova !== undefined)).toHaveLength(475);
    expect(ioas.flatMap((i) => Object.keys(i.copies ?? {}))).toHaveLength(50);
    expect(ioas.filter((i) => i.allowed_iovas !== undefined)).toHaveLength(IOAS_COUNT / ALLOWED_EVERY);
  });

  it('validates with no diagnostics at 1k, plain and with 1% changed', () => {
    for (const changedFraction of [0, 0.01]) {
      const result = parseLayoutText(generateLayout({ count: 1000, changedFraction }).text, 'gen.yaml');
      expect(result.diagnostics).toEqual([]);
      expect(result.layout?.ioas).toHaveLength(IOAS_COUNT);
    }
  });

  it('changes 1% of the mappings in the changed variant', () => {
    const base = parseLayoutText(generateLayout({ count: 1000 }).text).layout!;
    const changed = parseLayoutText(generateLayout({ count: 1000, changedFraction: 0.01 }).text).layout!;
    const lengths = (l: typeof base) => l.ioas.flatMap((i) => i.mappings.map((m) => m.length));
    const a = lengths(base);
    const b = lengths(changed);
    expect(b.filter((len, k) => len !== a[k])).toHaveLength(Math.round(950 * 0.01));
  });
});

describe('bench simulator applier', () => {
  it('builds the same state body as the applier runner, step by step', async () => {
    const desired = parseLayoutText(generateLayout({ count: 1000 }).text).layout!;
    const made = makePlan({ desired, recorded: emptyStateBody('sim'), basis, host });
    if (!made.ok) throw new Error(made.error.code);
    const fast = applyOnSimulator(openSimulator(), made.plan.steps);

    const sim = openSimulator();
    let body: StateBody = emptyStateBody('sim');
    for (const step of made.plan.steps) {
      const run = await runStep({ ctx: sim, holder: simHolder }, body, step);
      if (!run.ok) throw new Error(`${run.call} ${run.code}`);
      body = run.body;
    }
    expect(fast).toEqual(body);
    expect(fast.ioas.flatMap((i) => i.entries)).toHaveLength(1000);
  });
});
