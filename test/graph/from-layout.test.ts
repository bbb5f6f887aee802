// Filling the view model from a Layout, and merging before/after views into plan statuses.

import { describe, expect, it } from 'vitest';
import { diffIovaMaps, layoutToIovaMap } from '../../src/graph/index.js';
import type { Box, IovaMap } from '../../src/graph/index.js';
import type { Layout } from '../../src/model/layout.js';
import { dpdkAppliance, dpdkPlan, fixtureMap, testLab, vmmGuestRam } from './fixtures.js';

function box(map: IovaMap, id: string): Box {
  const found = map.lanes.flatMap((l) => l.boxes).find((b) => b.id === id);
  if (!found) throw new Error(`no box ${id}`);
  return found;
}

describe('layoutToIovaMap', () => {
  it('draws fixed entries at their IOVA, one lane per IOAS in layout order', () => {
    const map = fixtureMap(vmmGuestRam());
    expect(map.lanes.map((l) => l.ioas)).toEqual(['nic', 'nvme']);
    expect(box(map, 'nic/mapping.ram-high')).toMatchObject({ iova: 0x1_0000_0000n, length: 1n << 30n, memory: 'guest-ram', kind: 'mapping', status: 'same' });
    expect(box(map, 'nic/mapping.ram-high').predicted).toBeUndefined();
    expect(map.lanes[0]!.allowed).toEqual([
      { start: 0n, last: 0xbfff_ffffn },
      { start: 0x1_0000_0000n, last: 0x1_3fff_ffffn },
    ]);
    expect(map.memories).toEqual(['guest-ram']);
  });

  it('places automatic entries where the placements say, marked as predicted', () => {
    const map = fixtureMap(dpdkAppliance());
    expect(box(map, 'port0/mapping.scratch')).toMatchObject({ iova: 0x1_c000_0000n, predicted: true });
  });

  it('lists automatic entries without a placement as unplaced instead of guessing', () => {
    const fixture = testLab();
    const map = layoutToIovaMap(fixture.layout, []);
    expect(map.lanes[0]!.unplaced).toEqual(['b', 'table']);
    expect(map.lanes[0]!.boxes.map((b) => b.name)).toEqual(['a-low', 'a-high']);
    // A copy of an unplaced entry is itself placed here only if its own IOVA is known: seam is fixed.
    expect(map.lanes[1]!.boxes.map((b) => b.name)).toEqual(['seam']);
  });

  it('resolves copies: memory and source range through the named entry (with offset)', () => {
    const map = fixtureMap(testLab());
    const window = box(map, 'mirror/copy.table-window');
    expect(window).toMatchObject({ memory: 'table', length: 16n << 10n, access: 'r', predicted: true });
    expect(window.source).toEqual({ lane: 'lab', boxId: 'lab/mapping.table', range: { start: 0x90_4000n, last: 0x90_7fffn } });
  });

  it('resolves raw IOVA copies to the memory of the entries they cover', () => {
    const map = fixtureMap(testLab());
    const seam = box(map, 'mirror/copy.seam');
    expect(seam.memory).toBe('buf-a');
    expect(seam.source).toEqual({ lane: 'lab', range: { start: 0x30_0000n, last: 0x6f_ffffn } });
  });

  it('names the memories of a raw copy across different regions in IOVA order', () => {
    const base = testLab().layout;
    const [lab, mirror] = base.ioas as [Layout['ioas'][number], Layout['ioas'][number]];
    const layout: Layout = {
      ...base,
      ioas: [lab, { ...mirror, copies: [{ name: 'span', from: { kind: 'iova', ioas: 'lab', iova: 0x8f_0000n, length: 0x2_0000n }, iova: 0x900_0000n, access: 'rw' }] }],
    };
    const map = layoutToIovaMap(layout, testLab().placements);
    expect(box(map, 'mirror/copy.span').memory).toBe('buf-a+table');
  });

  it('follows a copy of a copy to the original memory', () => {
    const base = vmmGuestRam().layout;
    const third = { name: 'gpu', allowedIovas: [], hugePages: true, mappings: [], copies: [{ name: 'ram', from: { kind: 'entry' as const, ioas: 'nvme', entry: 'ram-low', offset: 0n, length: 1n << 30n }, iova: 0x10_0000_0000n, access: 'rw' as const }] };
    const map = layoutToIovaMap({ ...base, ioas: [...base.ioas, third] });
    expect(box(map, 'gpu/copy.ram')).toMatchObject({ memory: 'guest-ram', source: { lane: 'nvme', boxId: 'nvme/copy.ram-low', range: { start: 0n, last: (1n << 30n) - 1n } } });
  });

  it('records the 4 KiB alignment of an IOAS with huge pages off', () => {
    const map = fixtureMap(testLab());
    expect(map.lanes.map((l) => l.alignment)).toEqual([4096n, 4096n]);
    expect(fixtureMap(vmmGuestRam()).lanes[0]!.alignment).toBeUndefined();
  });

  it('keeps 64-bit IOVAs exact', () => {
    const top = 0xffff_ffff_ffff_e000n;
    const layout: Layout = {
      version: 1,
      options: { rlimitMode: 'user' },
      memory: [{ name: 'm', size: 0x1000n, backing: { kind: 'anonymous' } }],
      ioas: [{ name: 'hi', allowedIovas: [], hugePages: true, mappings: [{ name: 'edge', memory: 'm', offset: 0n, length: 0x1000n, iova: top, access: 'rw' }], copies: [] }],
    };
    expect(box(layoutToIovaMap(layout), 'hi/mapping.edge').iova).toBe(top);
  });
});

describe('diffIovaMaps', () => {
  it('marks added, removed, replaced and unchanged boxes by id', () => {
    const { plan } = dpdkPlan();
    const statuses = Object.fromEntries(plan.lanes.flatMap((l) => l.boxes.map((b) => [b.id, b.status])));
    expect(statuses).toEqual({
      'port0/mapping.rx-pool': 'same',
      'port0/mapping.tx-pool': 'same',
      'port0/mapping.scratch': 'remove',
      'port0/mapping.rx-ring': 'same',
      'port0/mapping.tx-ring': 'replace',
      'port0/mapping.stats': 'add',
      'port1/copy.rx-pool': 'same',
      'port1/copy.tx-pool': 'remove',
    });
    expect(box(plan, 'port0/mapping.tx-ring').previous).toEqual({ iova: 0x2_0200_0000n, length: 32n << 20n });
  });

  it('calls an attribute change without a move a replace with no previous position', () => {
    const before = fixtureMap(vmmGuestRam());
    const after: IovaMap = { ...before, lanes: before.lanes.map((l) => ({ ...l, boxes: l.boxes.map((b) => (b.name === 'ram-high' && b.kind === 'mapping' ? { ...b, access: 'r' as const } : b)) })) };
    const plan = diffIovaMaps(before, after);
    expect(box(plan, 'nic/mapping.ram-high').status).toBe('replace');
    expect(box(plan, 'nic/mapping.ram-high').previous).toBeUndefined();
    expect(box(plan, 'nvme/copy.ram-high').status).toBe('same');
  });

  it('marks whole lanes added and removed', () => {
    const vmm = fixtureMap(vmmGuestRam());
    const nicOnly: IovaMap = { ...vmm, lanes: vmm.lanes.slice(0, 1) };
    const grown = diffIovaMaps(nicOnly, vmm);
    expect(grown.lanes[1]).toMatchObject({ ioas: 'nvme', status: 'add' });
    expect(grown.lanes[1]!.boxes.every((b) => b.status === 'add')).toBe(true);
    const shrunk = diffIovaMaps(vmm, nicOnly);
    expect(shrunk.lanes.map((l) => [l.ioas, l.status])).toEqual([
      ['nic', 'same'],
      ['nvme', 'remove'],
    ]);
    expect(shrunk.lanes[1]!.boxes.every((b) => b.status === 'remove')).toBe(true);
  });

  it('is all same for identical views', () => {
    const map = fixtureMap(testLab());
    const plan = diffIovaMaps(map, map);
    expect(plan.lanes.every((l) => l.status === 'same' && l.boxes.every((b) => b.status === 'same'))).toBe(true);
  });
});
