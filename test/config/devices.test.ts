// Devices in the layout: normalization, the device-only shape rules, formatting round trip and
// the alignment a device brings.
import { describe, expect, it } from 'vitest';
import { formatLayout } from '../../src/config/format.js';
import { parseLayoutText } from '../../src/config/parse.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;
const BASE = ['version: 1', 'memory:', '  buf: {size: 64KiB}', 'ioas:', '  io:', '    mappings:'];

describe('devices in the layout', () => {
  it('normalizes path and pci devices in declaration order; no devices key when there are none', () => {
    const r = parseLayoutText(yaml(...BASE, '      m: {memory: buf}', 'devices:', '  b: {pci: 0000:00:03.0, ioas: io, profile: host}', '  a: {path: /dev/vfio/devices/vfio3, ioas: io, profile: intel-vtd-39bit}'));
    expect(r.diagnostics).toEqual([]);
    expect(r.layout?.devices).toEqual([
      { name: 'b', source: { kind: 'pci', address: '0000:00:03.0' }, ioas: 'io', profile: 'host' },
      { name: 'a', source: { kind: 'path', path: '/dev/vfio/devices/vfio3' }, ioas: 'io', profile: 'intel-vtd-39bit' },
    ]);
    const none = parseLayoutText(yaml(...BASE, '      m: {memory: buf}'));
    expect(none.layout && 'devices' in none.layout).toBe(false);
  });

  it('formatLayout writes devices so that parsing gives the same layout back', () => {
    const r = parseLayoutText(yaml(...BASE, '      m: {memory: buf}', 'devices:', '  nic0: {pci: 0000:00:03.0, ioas: io, profile: intel-vtd-39bit}', '  nic1: {path: /dev/vfio/devices/vfio1, ioas: io, profile: host}'));
    const again = parseLayoutText(formatLayout(r.layout!));
    expect(again.diagnostics).toEqual([]);
    expect(again.layout).toEqual(r.layout);
  });

  it('needs exactly one of path and pci, and a well-formed cdev path', () => {
    const both = parseLayoutText(yaml('version: 1', 'ioas: {io: {}}', 'devices:', '  d: {path: /dev/vfio/devices/vfio0, pci: 0000:00:03.0, ioas: io, profile: host}'));
    expect(both.diagnostics.map((d) => d.code)).toContain('conflicting-keys');
    const neither = parseLayoutText(yaml('version: 1', 'ioas: {io: {}}', 'devices:', '  d: {ioas: io, profile: host}'));
    expect(neither.diagnostics.map((d) => d.code)).toContain('missing-key');
    const badPath = parseLayoutText(yaml('version: 1', 'ioas: {io: {}}', 'devices:', '  d: {path: /dev/vfio/7, ioas: io, profile: host}'));
    expect(badPath.diagnostics.map((d) => d.code)).toContain('invalid-value');
  });

  it('an attached device requires 4 KiB alignment of fixed IOVAs (misaligned), as huge_pages: false does', () => {
    const device = ['devices:', '  nic: {path: /dev/vfio/devices/vfio0, ioas: io, profile: intel-vtd-39bit}'];
    const bad = parseLayoutText(yaml(...BASE, '      m: {memory: buf, iova: 0x10800}', ...device));
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['misaligned']);
    expect(bad.diagnostics[0]?.hint).toContain("device 'nic'");
    const noDevice = parseLayoutText(yaml(...BASE, '      m: {memory: buf, iova: 0x10800}'));
    expect(noDevice.diagnostics).toEqual([]);
  });

  it('reserved-window also catches a mapping beyond the 39-bit aperture; a host profile is not checked at validate time', () => {
    const at = (iova: string, profile: string) =>
      parseLayoutText(yaml(...BASE, `      m: {memory: buf, iova: ${iova}}`, 'devices:', `  nic: {path: /dev/vfio/devices/vfio0, ioas: io, profile: ${profile}}`));
    const beyond = at('0x80_0000_0000', 'intel-vtd-39bit');
    expect(beyond.diagnostics.map((d) => [d.code, d.severity])).toEqual([['reserved-window', 'warning']]);
    expect(beyond.diagnostics[0]?.message).toContain('outside its aperture');
    expect(at('0x80_0000_0000', 'intel-vtd-48bit').diagnostics).toEqual([]);
    expect(at('0xfee00000', 'host').diagnostics).toEqual([]);
  });
});
