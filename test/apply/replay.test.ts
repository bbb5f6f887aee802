// replayOnSimulator rebuilds what a kernel state records (no simulator snapshot in it) so that
// prediction and the drift check can ask a simulator what the kernel holds.
import { describe, expect, it } from 'vitest';
import { replayOnSimulator } from '../../src/apply/replay.js';
import type { StateBody } from '../../src/model/recorded.js';
import { predict } from '../../src/apply/predict.js';
import { applyLayout, exampleLayout, planOnly, readBody, tempStatePath } from './support.js';
import { hostProfile } from '../../src/model/device-profile.js';
import type { Layout } from '../../src/model/layout.js';

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

  describe('with devices', () => {
    const ranges = (ctx: { ioasIovaRanges: (a: { ioasId: number; numIovas: number }) => unknown }, ioasId: number): unknown => ctx.ioasIovaRanges({ ioasId, numIovas: 8 });
    const devicesOf = (snapshot: unknown): unknown => {
      const s = snapshot as { devices?: { id: number; path: string; hwptId: number | null }[]; hwpts?: { id: number; ioasId: number }[] };
      return { devices: s.devices?.map(({ id, path, hwptId }) => ({ id, path, hwptId })), hwpts: s.hwpts?.map(({ id, ioasId }) => ({ id, ioasId })) };
    };

    it('rebuilds nic-passthrough with the device bound and attached under the recorded ids, and the same IOVA_RANGES', async () => {
      const statePath = await tempStatePath();
      expect((await applyLayout(statePath, await exampleLayout('nic-passthrough'))).outcome).toBe('applied');
      const body = await readBody(statePath);
      expect(body.devices?.[0]?.resolvedProfile?.name).toBe('intel-vtd-39bit');
      const replayed = replayOnSimulator({ ...body, sim: null });
      if (!replayed.ok) throw new Error(replayed.message);
      expect(objects(replayed.sim.snapshot())).toEqual(objects(body.sim));
      expect(devicesOf(replayed.sim.snapshot())).toEqual(devicesOf(body.sim));
      const nic = body.ioas[0]!;
      const got = ranges(replayed.sim, nic.id) as { ranges: { start: bigint; last: bigint }[]; outIovaAlignment: bigint };
      // The MSI window and the 39-bit aperture, as on the kernel.
      expect(got.outIovaAlignment).toBe(0x1000n);
      expect(got.ranges.some((r) => r.start <= 0xfee00000n && 0xfee00000n <= r.last)).toBe(false);
    });

    it('keeps the device and HWPT ids when they lie above and between the IOAS ids', async () => {
      const statePath = await tempStatePath();
      await applyLayout(statePath, await exampleLayout('nic-passthrough'));
      const body = await readBody(statePath);
      const moved = { ...body, sim: null, ioas: body.ioas.map((i) => ({ ...i, id: 2 })), devices: body.devices!.map((d) => ({ ...d, devId: 5, ptId: 3 })) };
      const replayed = replayOnSimulator(moved);
      if (!replayed.ok) throw new Error(replayed.message);
      expect(devicesOf(replayed.sim.snapshot())).toEqual({ devices: [{ id: 5, path: 'pci:0000:00:10.0', hwptId: 3 }], hwpts: [{ id: 3, ioasId: 2 }] });
      // Every placeholder is gone: the next object takes id 1, as on the kernel.
      expect(replayed.sim.ioasAlloc({ flags: 0 })).toMatchObject({ outIoasId: 1 });
    });

    it('attaches with the profile recorded at apply time (host: the regions read then), not the built-in one', async () => {
      const statePath = await tempStatePath();
      await applyLayout(statePath, await exampleLayout('nic-passthrough'));
      const body = await readBody(statePath);
      const window = { start: 0xd000_0000n, last: 0xdfff_ffffn, type: 'reserved' };
      const host = { ...body, sim: null, devices: body.devices!.map((d) => ({ ...d, profile: 'host', resolvedProfile: hostProfile([window]) })) };
      const replayed = replayOnSimulator(host);
      if (!replayed.ok) throw new Error(replayed.message);
      const got = ranges(replayed.sim, body.ioas[0]!.id) as { ranges: { start: bigint; last: bigint }[] };
      expect(got.ranges.some((r) => r.start <= window.start && window.start <= r.last)).toBe(false);
      expect(got.ranges.some((r) => r.start <= 0xfee00000n && 0xfee00000n <= r.last)).toBe(true);
      // A host profile with nothing recorded cannot be rebuilt: said, not guessed.
      const unrecorded = { ...host, devices: host.devices.map(({ resolvedProfile: _p, ...d }) => d) };
      const refused = replayOnSimulator(unrecorded);
      expect(refused.ok ? 'rebuilt' : refused.message).toMatch(/device model of profile 'host'/);
    });

    it('predicts automatic IOVAs of a kernel plan around the device windows exactly as the simulator state does', async () => {
      const statePath = await tempStatePath();
      const nic = await exampleLayout('nic-passthrough');
      await applyLayout(statePath, nic);
      const body = await readBody(statePath);
      // Automatic maps big enough to run into the MSI window under 4 GiB.
      const grown: Layout = {
        ...nic,
        memory: [...nic.memory, { name: 'big', size: 1n << 30n, backing: { kind: 'anonymous' } }],
        ioas: nic.ioas.map((i) => ({ ...i, allowedIovas: [], mappings: [...i.mappings, ...[0, 1, 2, 3].map((n) => ({ name: `big${n}`, memory: 'big', offset: 0n, length: 1n << 30n, iova: null, access: 'rw' as const }))] })),
      };
      const plan = await planOnly(statePath, grown);
      const withSnapshot = await predict(plan, body);
      const replayed = await predict(plan, { ...body, sim: null });
      if (!withSnapshot.ok || !replayed.ok) throw new Error('prediction failed');
      const iovas = (p: typeof withSnapshot.plan): bigint[] => p.steps.flatMap((s) => (s.op === 'map' && s.predictedIova !== undefined ? [s.predictedIova] : []));
      expect(iovas(replayed.plan)).toEqual(iovas(withSnapshot.plan));
      const inWindow = (iova: bigint): boolean => iova <= 0xfeefffffn && 0xfee00000n < iova + (1n << 30n);
      expect(iovas(replayed.plan).length).toBe(4);
      expect(iovas(replayed.plan).some(inWindow)).toBe(false);
      // Without the device the rebuilt simulator would place one across the window.
      const deviceless = await predict(plan, { ...body, sim: null, devices: [] });
      if (!deviceless.ok) throw new Error('prediction failed');
      expect(iovas(deviceless.plan)).not.toEqual(iovas(replayed.plan));
    });
  });
});
