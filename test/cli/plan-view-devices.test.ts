// The plan view of devices: the attach/detach note on the device line and the pinned-memory
// section against the memlock limit.
import { describe, expect, it } from 'vitest';
import { PLAIN, renderPlan } from '../../src/cli/plan-view.js';
import type { Device, Layout } from '../../src/model/layout.js';
import { makePlan } from '../../src/plan/plan.js';
import { appliedState, ioas, layout, mapping, mem } from '../plan/helpers.js';

const host = { backend: 'sim' as const, hostname: 'h', pageSize: 4096n };
const nic: Device = { name: 'nic0', source: { kind: 'pci', address: '0000:00:03.0' }, ioas: 'dp', profile: 'intel-vtd-39bit' };
const base = layout([mem('pool')], [ioas('dp', { mappings: [mapping('rx', 'pool', { length: 0x200000n })] }), ioas('ctl')]);

function planOf(desired: Layout, applied: Layout) {
  const recorded = { ...appliedState(applied), ...(applied.devices ? { devices: applied.devices.map((d) => ({ ...d, devId: 5, ptId: 6 })) } : {}) };
  const made = makePlan({ desired, recorded, basis: { lineage: 'l', serial: 1 }, host });
  if (!made.ok) throw new Error(made.error.message);
  return made.plan;
}

describe('plan view: devices', () => {
  it('shows the attach with its IOAS and the pinned bytes it adds, within the limit', () => {
    const text = renderPlan(planOf({ ...base, devices: [nic] }, base), PLAIN, { calls: false, memlockLimit: 8n << 20n });
    expect(text).toContain('  + device.nic0 (attach to ioas.dp) {');
    expect(text).toContain('  ioas.dp: 0 bytes -> 2 MiB (+2 MiB)');
    expect(text).toContain('total after apply: 2 MiB, within the memlock limit 8 MiB');
  });

  it('says when the total passes the limit, and shows a move as detach + attach', () => {
    const moved = { ...base, devices: [{ ...nic, ioas: 'ctl' }] };
    const text = renderPlan(planOf({ ...base, devices: [nic] }, base), PLAIN, { calls: false, memlockLimit: 0x100000n });
    expect(text).toContain('exceeds the memlock limit 1 MiB');
    const move = renderPlan(planOf(moved, { ...base, devices: [nic] }), PLAIN, { calls: false, memlockLimit: null });
    expect(move).toContain('-/+ device.nic0 (detach from ioas.dp, attach to ioas.ctl) {');
    expect(move).toContain('  ioas.dp: 2 MiB -> 0 bytes (-2 MiB)');
    expect(move).toContain('memlock limit unlimited');
  });

  it('has no pinned section when no device is involved', () => {
    const other = layout([mem('pool')], [ioas('dp', { mappings: [mapping('rx', 'pool', { length: 0x1000n })] }), ioas('ctl')]);
    expect(renderPlan(planOf(other, base), PLAIN, { calls: false })).not.toContain('Pinned memory');
  });
});
