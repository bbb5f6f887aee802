// Devices in the planner: the diff (a change of IOAS is a detach and an attach) and the two
// ordering rules D1 (detaches first) and D2 (attaches between IOAS settings and mappings).
import { describe, expect, it } from 'vitest';
import type { Device, Layout } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import { inverse, type Step } from '../../src/model/step.js';
import { diff } from '../../src/plan/diff.js';
import { order } from '../../src/plan/order.js';
import { appliedState, ioas, layout, mapping, mem } from './helpers.js';

const nic = (over: Partial<Device> = {}): Device => ({ name: 'nic0', source: { kind: 'path', path: '/dev/vfio/devices/vfio0' }, ioas: 'dp', profile: 'intel-vtd-39bit', ...over });
const withDevices = (l: Layout, devices: Device[]): Layout => ({ ...l, devices });
/** A state where the layout's devices are attached too. */
const appliedWithDevices = (l: Layout): StateBody => ({ ...appliedState(l), devices: (l.devices ?? []).map((d, i) => ({ ...d, devId: 10 + i, ptId: 20 + i })) });

function stepsFor(desired: Layout, recorded: StateBody): Step[] {
  const result = order(desired, recorded, diff(desired, recorded));
  if (!result.ok) throw new Error(result.error.message);
  return result.steps;
}

const ops = (steps: Step[]) => steps.map((s) => `${s.op} ${s.address}`);
const base = layout([mem('pool')], [
  ioas('dp', { hugePages: false, allowedIovas: [{ start: 0x100000n, last: 0xfffffffn }], mappings: [mapping('rx', 'pool')] }),
  ioas('ctl', { mappings: [mapping('cmd', 'pool')] }),
]);

describe('devices: diff', () => {
  it('a new device is a create with its source, ioas and profile', () => {
    const changes = diff(withDevices(base, [nic()]), appliedState(base));
    const change = changes.find((c) => c.address === 'device.nic0');
    expect(change).toMatchObject({ kind: 'device', action: 'create' });
    expect(change?.attributes.map((a) => [a.name, a.after])).toEqual([['source', '/dev/vfio/devices/vfio0'], ['ioas', 'dp'], ['profile', 'intel-vtd-39bit']]);
  });

  it('moving a device to another IOAS is a replace that says detach, then attach; unchanged is a no-op', () => {
    const recorded = appliedWithDevices(withDevices(base, [nic()]));
    const moved = diff(withDevices(base, [nic({ ioas: 'ctl' })]), recorded).find((c) => c.address === 'device.nic0');
    expect(moved?.action).toBe('replace');
    expect(moved?.reasons).toEqual(['ioas changed dp -> ctl (detach, then attach)']);
    expect(diff(withDevices(base, [nic()]), recorded).find((c) => c.address === 'device.nic0')?.action).toBe('no-op');
  });

  it('a device gone from the layout is a delete', () => {
    const recorded = appliedWithDevices(withDevices(base, [nic()]));
    expect(diff(base, recorded).find((c) => c.address === 'device.nic0')?.action).toBe('delete');
  });
});

describe('devices: ordering rules', () => {
  it('D2: on empty state the attach comes after the IOAS, its HUGE_PAGES and allowed ranges, and before its mappings', () => {
    const steps = ops(stepsFor(withDevices(base, [nic()]), emptyStateBody('sim')));
    const attach = steps.indexOf('attach device.nic0');
    expect(attach).toBeGreaterThan(steps.indexOf('alloc-ioas ioas.dp'));
    expect(attach).toBeGreaterThan(steps.indexOf('set-huge-pages ioas.dp'));
    expect(attach).toBeGreaterThan(steps.indexOf('allow-iovas ioas.dp'));
    expect(attach).toBeLessThan(steps.indexOf('map ioas.dp/mapping.rx'));
    expect(attach).toBeLessThan(steps.indexOf('map ioas.ctl/mapping.cmd'));
  });

  it('D1: a deleted IOAS has its device detached before the unmaps and the destroy', () => {
    const before = withDevices(base, [nic()]);
    const after = layout([mem('pool')], [ioas('ctl', { mappings: [mapping('cmd', 'pool')] })]);
    const steps = ops(stepsFor(after, appliedWithDevices(before)));
    const detach = steps.indexOf('detach device.nic0');
    expect(detach).toBe(0);
    expect(detach).toBeLessThan(steps.indexOf('unmap ioas.dp/mapping.rx'));
    expect(detach).toBeLessThan(steps.indexOf('destroy-ioas ioas.dp'));
  });

  it('D1+D2: a move is a detach first and an attach after the IOAS settings, carrying the new IOAS', () => {
    const steps = stepsFor(withDevices(base, [nic({ ioas: 'ctl' })]), appliedWithDevices(withDevices(base, [nic()])));
    expect(steps.map((s) => s.op)).toEqual(['detach', 'attach']);
    expect(steps[0]).toMatchObject({ op: 'detach', ioas: 'dp' });
    expect(steps[1]).toMatchObject({ op: 'attach', ioas: 'ctl' });
  });

  it('D1: an RLIMIT_MODE change detaches (and unbinds) every device before the option is set, and attaches again after', () => {
    const before = withDevices(base, [nic()]);
    const desired = { ...before, options: { rlimitMode: 'process' as const } };
    const steps = ops(stepsFor(desired, appliedWithDevices(before)));
    expect(steps.indexOf('detach device.nic0')).toBeLessThan(steps.indexOf('set-rlimit-mode options'));
    expect(steps.indexOf('attach device.nic0')).toBeGreaterThan(steps.indexOf('alloc-ioas ioas.dp'));
    expect(steps.indexOf('attach device.nic0')).toBeLessThan(steps.indexOf('map ioas.dp/mapping.rx'));
  });

  it('attach and detach are each other\'s inverse and carry the whole device', () => {
    const attach: Step = { op: 'attach', address: 'device.nic0', device: nic(), ioas: 'dp' };
    const [undo] = inverse(attach, { op: 'attach', devId: 3, ptId: 4 });
    expect(undo).toEqual({ op: 'detach', address: 'device.nic0', device: nic(), ioas: 'dp' });
    expect(inverse(undo!, { op: 'detach' })).toEqual([attach]);
  });
});
