// The drift check on the simulator: apply an example, then change the simulated kernel behind the
// state's back through the uapi and check each change is reported (and nothing when clean).
import { describe, expect, it } from 'vitest';
import { checkDrift, type Drift } from '../../src/apply/drift.js';
import { openSimulator, type SimContext } from '../../src/backends/sim/index.js';
import { renderDrift } from '../../src/cli/drift-view.js';
import { PLAIN } from '../../src/cli/plan-view.js';
import type { StateBody } from '../../src/model/recorded.js';
import { IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, isOk } from '../../src/model/uapi.js';
import { applyLayout, exampleLayout, readBody, tempStatePath } from './support.js';

async function appliedLab(): Promise<{ body: StateBody; sim: SimContext }> {
  const statePath = await tempStatePath();
  const report = await applyLayout(statePath, await exampleLayout('test-lab'));
  expect(report.outcome).toBe('applied');
  const body = await readBody(statePath);
  return { body, sim: openSimulator({ state: body.sim as never }) };
}

const ioasId = (body: StateBody, name: string): number => {
  const found = body.ioas.find((i) => i.name === name);
  if (!found) throw new Error(`no ioas ${name}`);
  return found.id;
};

const kinds = (drifts: readonly Drift[]): string[] => drifts.map((d) => `${d.kind} ${d.address}`);

describe('checkDrift on the simulator', () => {
  it('reports nothing for a clean state and leaves the backend unchanged', async () => {
    const { body, sim } = await appliedLab();
    // The simulator's internal pages-id counter moves on (as the kernel's does); nothing else may.
    const visible = (): unknown => ({ ...sim.snapshot(), nextPagesId: 'ignored' });
    const before = visible();
    expect(await checkDrift(sim, body)).toEqual([]);
    expect(visible()).toEqual(before);
    expect(renderDrift([], PLAIN)).toBe('');
  });

  it('reports an area unmapped behind its back', async () => {
    const { body, sim } = await appliedLab();
    const lab = body.ioas.find((i) => i.name === 'lab')!;
    const area = lab.entries.find((e) => e.name === 'b')!.areas[0]!;
    expect(isOk(sim.ioasUnmap({ ioasId: lab.id, iova: area.iova, length: area.length }))).toBe(true);
    const drifts = await checkDrift(sim, body);
    // Unmapping also frees the lowest hole the automatic allocator would use, so the probe moves too.
    expect(kinds(drifts)).toContain('area-missing ioas.lab/mapping.b');
    expect(drifts.filter((d) => d.kind === 'area-missing')).toHaveLength(1);
  });

  it('reports a destroyed IOAS once, without probing its areas', async () => {
    const { body, sim } = await appliedLab();
    expect(isOk(sim.destroy({ id: ioasId(body, 'mirror') }))).toBe(true);
    expect(kinds(await checkDrift(sim, body))).toEqual(['ioas-missing ioas.mirror']);
  });

  it('reports a HUGE_PAGES change (the option and the IOVA_RANGES alignment)', async () => {
    const { body, sim } = await appliedLab();
    expect(isOk(sim.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: ioasId(body, 'mirror'), val64: 1n }))).toBe(true);
    const drifts = await checkDrift(sim, body);
    expect(kinds(drifts)).toEqual(['iova-ranges ioas.mirror', 'option ioas.mirror']);
    expect(drifts[1]).toMatchObject({ recorded: 'huge_pages = false', actual: 'huge_pages = true' });
  });

  it('reports allowed ranges changed behind its back', async () => {
    const { body, sim } = await appliedLab();
    expect(isOk(sim.ioasAllowIovas({ ioasId: ioasId(body, 'lab'), ranges: [{ start: 0x4000_0000n, last: 0x7fff_ffffn }] }))).toBe(true);
    expect(kinds(await checkDrift(sim, body))).toEqual(['allowed-iovas ioas.lab']);
  });

  it('reports an RLIMIT_MODE that differs from the record', async () => {
    const { body, sim } = await appliedLab();
    const recorded: StateBody = { ...body, options: { rlimitMode: body.options.rlimitMode === 'user' ? 'process' : 'user' } };
    const drifts = await checkDrift(sim, recorded);
    expect(kinds(drifts)).toEqual(['option options']);
  });

  it('renders each drift as a Terraform-style note block', async () => {
    const { body, sim } = await appliedLab();
    sim.destroy({ id: ioasId(body, 'mirror') });
    const text = renderDrift(await checkDrift(sim, body), PLAIN);
    expect(text).toContain('~ note: objects changed outside ioasform');
    expect(text).toContain('~ ioas.mirror');
    expect(text).toContain('no such IOAS (ENOENT)');
    expect(text).toContain('1 difference.');
  });

  describe('devices', () => {
    async function appliedNic(): Promise<{ body: StateBody; sim: SimContext; devId: number }> {
      const statePath = await tempStatePath();
      expect((await applyLayout(statePath, await exampleLayout('nic-passthrough'))).outcome).toBe('applied');
      const body = await readBody(statePath);
      return { body, sim: openSimulator({ state: body.sim as never }), devId: body.devices![0]!.devId };
    }

    it('reports nothing for a clean state with an attached device', async () => {
      const { body, sim } = await appliedNic();
      expect(await checkDrift(sim, body)).toEqual([]);
    });

    it('reports a device detached behind its back (and the IOVA_RANGES it no longer narrows)', async () => {
      const { body, sim, devId } = await appliedNic();
      expect(isOk(sim.deviceDetach({ devId }))).toBe(true);
      const drifts = await checkDrift(sim, body);
      expect(kinds(drifts)).toEqual(['device-detached device.nic0', 'iova-ranges ioas.nic']);
      expect(renderDrift(drifts, PLAIN)).toContain('device.nic0');
    });

    it('reports a device whose fd was closed (unbound) as missing', async () => {
      const { body, sim, devId } = await appliedNic();
      expect(isOk(sim.deviceUnbind({ devId }))).toBe(true);
      expect(kinds(await checkDrift(sim, body))).toEqual(['device-missing device.nic0', 'iova-ranges ioas.nic']);
    });

    it('says it could not check when the backend cannot ask about devices', async () => {
      const { body, sim } = await appliedNic();
      const blind = new Proxy(sim, { get: (t, p, r) => (p === 'deviceInfo' ? undefined : Reflect.get(t, p, r)) });
      expect(kinds(await checkDrift(blind, body))).toEqual(['probe-failed device.nic0']);
    });
  });
});
