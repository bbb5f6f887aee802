import { describe, expect, it } from 'vitest';
import { predict } from '../../src/apply/predict.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import type { Layout } from '../../src/model/layout.js';
import { makePlan } from '../../src/plan/plan.js';
import { applyLayout, exampleLayout, planOnly, readBody, tempStatePath } from './support.js';

const host = { backend: 'sim' as const, hostname: 'h', pageSize: 4096n };

describe('IOVA prediction', () => {
  it('predicts the IOVA the kernel then really picks for every automatic entry', async () => {
    const statePath = await tempStatePath();
    const lab = await exampleLayout('test-lab');
    const plan = await planOnly(statePath, lab);
    const automatic = plan.steps.filter((s) => (s.op === 'map' || s.op === 'copy') && s.iova === null);
    expect(automatic.length).toBeGreaterThan(1);
    expect((await applyLayout(statePath, lab)).outcome).toBe('applied');
    const body = await readBody(statePath);
    for (const step of automatic) {
      if (step.op !== 'map' && step.op !== 'copy') continue;
      const entry = body.ioas.find((i) => i.name === step.ioas)?.entries.find((e) => e.name === step.entry);
      expect(step.predictedIova, step.address).toBeDefined();
      expect(entry?.areas[0]?.iova, step.address).toBe(step.predictedIova);
    }
    expect(plan.changes.filter((c) => c.predictedIova !== undefined).length).toBe(automatic.length);
  });

  it('reports the call, errno and meaning when the plan would fail instead of pretending', async () => {
    const overlapping: Layout = {
      version: 1,
      options: { rlimitMode: 'user' },
      memory: [{ name: 'm', size: 0x10000n, backing: { kind: 'anonymous' } }],
      ioas: [{ name: 'dp', allowedIovas: [], hugePages: true, copies: [], mappings: [
        { name: 'a', memory: 'm', offset: 0n, length: 0x2000n, iova: 0x10000n, access: 'rw' },
        { name: 'b', memory: 'm', offset: 0n, length: 0x2000n, iova: 0x11000n, access: 'rw' },
      ] }],
    };
    const made = makePlan({ desired: overlapping, recorded: emptyStateBody('sim'), basis: { lineage: null, serial: 0 }, host });
    expect(made.ok).toBe(true);
    if (!made.ok) return;
    const predicted = await predict(made.plan, emptyStateBody('sim'));
    expect(predicted.ok).toBe(false);
    if (predicted.ok || !predicted.failure) return;
    expect(predicted.failure.step.address).toBe('ioas.dp/mapping.b');
    expect(predicted.failure.code).toBe('EEXIST');
    expect(predicted.failure.meaning).toBe('the IOVA range is already mapped');
  });
});
