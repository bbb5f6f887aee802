// What plan says an apply will pin: per IOAS with a device, once per pages object (spec §12).
import { describe, expect, it } from 'vitest';
import type { Device, Layout } from '../../src/model/layout.js';
import { pinnedByIoas, pinnedChanges } from '../../src/plan/pinning.js';
import { copyOf, ioas, layout, mapping, mem } from './helpers.js';

const dev = (name: string, on: string): Device => ({ name, source: { kind: 'path', path: `/dev/vfio/devices/${name}` }, ioas: on, profile: 'intel-vtd-39bit' });
const two = layout([mem('pool')], [
  ioas('a', { mappings: [mapping('m', 'pool', { length: 0x3000n }), mapping('odd', 'pool', { offset: 0x10800n, length: 0x1000n })] }),
  ioas('b', { copies: [copyOf('c', 'a', 'm')] }),
]);
const withDevices = (l: Layout, devices: Device[]): Layout => ({ ...l, devices });

describe('pinned bytes per IOAS', () => {
  it('nothing pins without a device', () => {
    expect(pinnedByIoas(two)).toEqual(new Map());
  });

  it('a device pins every mapping of its IOAS, whole pages (a sub-page offset adds a page)', () => {
    expect(pinnedByIoas(withDevices(two, [dev('n0', 'a')]))).toEqual(new Map([['a', 0x3000n + 0x2000n]]));
  });

  it('a copy charges its source mapping only when the source IOAS has no device', () => {
    expect(pinnedByIoas(withDevices(two, [dev('n1', 'b')]))).toEqual(new Map([['b', 0x3000n]]));
    expect(pinnedByIoas(withDevices(two, [dev('n0', 'a'), dev('n1', 'b')]))).toEqual(new Map([['a', 0x5000n], ['b', 0n]]));
  });

  it('before/after: attaching adds everything already mapped; detaching releases it', () => {
    expect(pinnedChanges(withDevices(two, [dev('n0', 'a')]), two)).toEqual([{ ioas: 'a', before: 0n, after: 0x5000n }]);
    expect(pinnedChanges(two, withDevices(two, [dev('n0', 'a')]))).toEqual([{ ioas: 'a', before: 0x5000n, after: 0n }]);
    expect(pinnedChanges(two, two)).toEqual([]);
  });
});
