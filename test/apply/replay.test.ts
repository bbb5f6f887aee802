// replayOnSimulator rebuilds what a kernel state records (no simulator snapshot in it) so that
// prediction and the drift check can ask a simulator what the kernel holds.
import { describe, expect, it } from 'vitest';
import { replayOnSimulator } from '../../src/apply/replay.js';
import type { StateBody } from '../../src/model/recorded.js';
import { predict } from '../../src/apply/predict.js';
import { applyLayout, exampleLayout, planOnly, readBody, tempStatePath } from './support.js';

interface SnapObject { id: number; hugePages: boolean; allowed: unknown; areas: { iova: string; last: string; flags: number }[] }

const objects = (snapshot: unknown): unknown =>
  (snapshot as { objects: SnapObject[] }).objects.map((o) => ({ id: o.id, hugePages: o.hugePages, allowed: o.allowed, areas: o.areas.map(({ iova, last, flags }) => ({ iova, last, flags })) }));

describe('replayOnSimulator', () => {
  it.each(['test-lab', 'dpdk-appliance', 'vmm-guest-ram'])('rebuilds the IOASes of %s with the same ids, options, ranges and areas', async (name) => {
    const statePath = await tempStatePath();
    expect((await applyLayout(statePath, await exampleLayout(name))).outcome).toBe('applied');
    const body = await readBody(statePath);
    const replayed = replayOnSimulator({ ...body, sim: null });
    expect(replayed.ok).toBe(true);
    if (!replayed.ok) return;
    expect(objects(replayed.sim.snapshot())).toEqual(objects(body.sim));
  });

  it('keeps recorded ids that have gaps below them', async () => {
    const statePath = await tempStatePath();
    await applyLayout(statePath, await exampleLayout('test-lab'));
    const body = await readBody(statePath);
    const gapped: StateBody = { ...body, sim: null, ioas: body.ioas.map((i, n) => ({ ...i, id: 3 + 2 * n })) };
    const replayed = replayOnSimulator(gapped);
    expect(replayed.ok).toBe(true);
    if (replayed.ok) expect((replayed.sim.snapshot() as unknown as { objects: SnapObject[] }).objects.map((o) => o.id)).toEqual([3, 5]);
  });

  it('predicts a kernel plan (no snapshot in the state) exactly as the simulator state does', async () => {
    const statePath = await tempStatePath();
    await applyLayout(statePath, await exampleLayout('dpdk-appliance'));
    const body = await readBody(statePath);
    const plan = await planOnly(statePath, await exampleLayout('test-lab'));
    const withSnapshot = await predict(plan, body);
    const replayed = await predict(plan, { ...body, sim: null });
    expect(withSnapshot.ok && replayed.ok).toBe(true);
    if (!withSnapshot.ok || !replayed.ok) return;
    const iovas = (p: typeof withSnapshot.plan): unknown => p.steps.map((s) => ('predictedIova' in s ? s.predictedIova : null));
    expect(iovas(replayed.plan)).toEqual(iovas(withSnapshot.plan));
    expect((iovas(replayed.plan) as unknown[]).some((v) => v !== null && v !== undefined)).toBe(true);
  });
});
