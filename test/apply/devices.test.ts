// Devices through plan + apply on the simulator: the attach is recorded with its ids, a second
// plan is empty, destroy detaches and frees everything, a failure at any call rolls back to the
// exact previous state, and a plan whose attach must fail says so before applying.
import { describe, expect, it } from 'vitest';
import { planFor } from '../../src/apply/make.js';
import { withSession } from '../../src/apply/session.js';
import { ERRNO } from '../../src/model/uapi.js';
import { EMPTY_LAYOUT, type Layout } from '../../src/model/layout.js';
import { applyLayout, comparable, planOnly, readBody, tempStatePath } from './support.js';

const MiB = 1n << 20n;
const desired: Layout = {
  version: 1,
  options: { rlimitMode: 'user' },
  memory: [{ name: 'pool', size: 4n * MiB, backing: { kind: 'anonymous' } }],
  ioas: [
    { name: 'dp', allowedIovas: [], hugePages: true, mappings: [{ name: 'rx', memory: 'pool', offset: 0n, length: 2n * MiB, iova: null, access: 'rw' }], copies: [] },
  ],
  devices: [{ name: 'nic0', source: { kind: 'pci', address: '0000:00:03.0' }, ioas: 'dp', profile: 'intel-vtd-39bit' }],
};

interface SimDevices { devices?: { id: number; path: string; hwptId: number | null }[]; hwpts?: { id: number; ioasId: number }[] }

describe('devices: apply on the simulator', () => {
  it('applies, records the device with its ids, re-plans empty, and destroy detaches and frees everything', async () => {
    const statePath = await tempStatePath();
    const report = await applyLayout(statePath, desired);
    expect(report.outcome).toBe('applied');
    const body = await readBody(statePath);
    const ioasId = body.ioas[0]!.id;
    expect(body.devices).toHaveLength(1);
    const device = body.devices![0]!;
    expect(device).toMatchObject({ name: 'nic0', ioas: 'dp', profile: 'intel-vtd-39bit' });
    const sim = body.sim as SimDevices;
    expect(sim.devices).toEqual([expect.objectContaining({ id: device.devId, path: 'pci:0000:00:03.0', hwptId: device.ptId })]);
    expect(sim.hwpts).toEqual([expect.objectContaining({ id: device.ptId, ioasId })]);

    const again = await planOnly(statePath, desired);
    expect(again.steps).toEqual([]);

    const destroyed = await applyLayout(statePath, EMPTY_LAYOUT);
    expect(destroyed.outcome).toBe('applied');
    const empty = await readBody(statePath);
    expect(empty.devices).toBeUndefined();
    expect(empty.ioas).toEqual([]);
    const emptySim = empty.sim as SimDevices & { objects: unknown[] };
    expect([emptySim.devices, emptySim.hwpts, emptySim.objects.length]).toEqual([undefined, undefined, 0]);
  });

  it('a failure at each call of an apply with an attach rolls back to the exact previous state', async () => {
    const before: Layout = { ...desired, devices: [] };
    // The memory and the IOAS exist already; the calls are bind, attach, map: fail each in turn.
    for (let call = 1; call <= 3; call++) {
      const statePath = await tempStatePath();
      await applyLayout(statePath, { ...before, ioas: [{ ...before.ioas[0]!, mappings: [] }] });
      const start = comparable(await readBody(statePath));
      const report = await applyLayout(statePath, desired, { failCall: call, errno: ERRNO.ENOMEM, code: 'ENOMEM' });
      expect(report.outcome, `call ${call}`).toBe('rolled-back');
      expect(comparable(await readBody(statePath)), `call ${call}`).toEqual(start);
      const sim = (await readBody(statePath)).sim as SimDevices;
      expect(sim.devices, `call ${call}`).toBeUndefined();
    }
  });

  it('a move whose attach fails rolls back: the undo attaches the device where it was', async () => {
    const statePath = await tempStatePath();
    const two: Layout = { ...desired, ioas: [...desired.ioas, { name: 'ctl', allowedIovas: [], hugePages: true, mappings: [], copies: [] }] };
    await applyLayout(statePath, two);
    const start = comparable(await readBody(statePath));
    const moved: Layout = { ...two, devices: [{ ...two.devices![0]!, ioas: 'ctl' }] };
    // Calls of the move: detach, unbind, bind, attach. Fail the attach.
    const report = await applyLayout(statePath, moved, { failCall: 4, errno: ERRNO.EBUSY, code: 'EBUSY' });
    expect(report.outcome).toBe('rolled-back');
    const body = await readBody(statePath);
    expect(body.devices?.map((d) => d.ioas)).toEqual(['dp']);
    const { devices: _ignored, ...rest } = comparable(body) as { devices: unknown };
    const { devices: _ignoredToo, ...startRest } = start as { devices: unknown };
    // The device ids are renewed by the re-bind; everything else is as before.
    expect(rest).toEqual(startRest);
  });

  it('plan says up front when the attach must fail: a fixed mapping in the MSI window', async () => {
    const statePath = await tempStatePath();
    const msi: Layout = { ...desired, ioas: [{ ...desired.ioas[0]!, mappings: [{ ...desired.ioas[0]!.mappings[0]!, iova: 0xfee00000n, length: 0x1000n }] }] };
    // First without the device, then add it: the attach meets the existing mapping.
    await applyLayout(statePath, { ...msi, devices: [] });
    const r = await withSession({ statePath, backend: 'sim', operation: 'plan', lockTimeoutMs: 0 }, async (s) => {
      const made = await planFor(s, msi, null);
      return { ok: true as const, value: made };
    });
    if (!r.ok) throw new Error(r.error.message);
    const made = r.value;
    expect(made.ok).toBe(false);
    if (made.ok) return;
    expect(made.wouldFail).toMatchObject({ code: 'EADDRINUSE', step: { op: 'attach' } });
  });
});
