// Reserved windows of attached devices on the IOVA bars: which windows a layout's devices bring
// (from their profiles), and that every renderer draws and labels them.
import { describe, expect, it } from 'vitest';
import { layoutToIovaMap, renderSvg, renderTextMap } from '../../src/graph/index.js';
import { buildScene } from '../../src/graph/scene.js';
import type { Device, Layout } from '../../src/model/layout.js';
import { ioas, layout, mapping, mem } from '../plan/helpers.js';

const nic: Device = { name: 'nic0', source: { kind: 'pci', address: '0000:00:10.0' }, ioas: 'dp', profile: 'intel-vtd-39bit' };
const base = layout([mem('pool')], [ioas('dp', { mappings: [mapping('rx', 'pool', { length: 0x200000n, iova: 0x1000_0000n })] }), ioas('ctl')]);
const withNic: Layout = { ...base, devices: [nic] };

describe('graph: reserved windows of attached devices', () => {
  it('come from the profile of each device attached to the IOAS, and only to it', () => {
    const map = layoutToIovaMap(withNic);
    const [dp, ctl] = map.lanes;
    expect(dp?.reserved).toEqual([
      { start: 0xfee00000n, last: 0xfeefffffn, kind: 'MSI', owner: 'device.nic0' },
      { start: 1n << 39n, last: (1n << 64n) - 1n, kind: 'beyond aperture', owner: 'device.nic0' },
    ]);
    expect(ctl?.reserved).toBeUndefined();
    // Without devices, or with the host profile (read from sysfs at plan time only), none.
    expect(layoutToIovaMap(base).lanes[0]?.reserved).toBeUndefined();
    expect(layoutToIovaMap({ ...base, devices: [{ ...nic, profile: 'host' }] }).lanes[0]?.reserved).toBeUndefined();
  });

  it('are hatched and labelled in the SVG, with a legend entry; pictures without devices do not change', () => {
    const svg = renderSvg(layoutToIovaMap(withNic));
    expect(svg).toContain('<pattern id="reserved-hatch"');
    expect(svg.match(/<g class="reserved">/g)).toHaveLength(2);
    expect(svg).toContain('>MSI 0xfee0_0000-0xfeef_ffff (device.nic0)</text>');
    expect(svg).toContain('>beyond aperture 0x80_0000_0000-0xffff_ffff_ffff_ffff (device.nic0)</text>');
    expect(svg).toContain('fill="url(#reserved-hatch)"');
    expect(svg).toContain('reserved by an attached device');
    const plain = renderSvg(layoutToIovaMap(base));
    expect(plain).not.toContain('reserved');
  });

  it('sit over the window on the bar, with their labels on separate lines below the band', () => {
    const scene = buildScene(layoutToIovaMap(withNic));
    const lane = scene.lanes[0]!;
    const [msi, aperture] = lane.reserved;
    const rx = lane.boxes[0]!;
    expect(msi!.x1).toBeGreaterThan(rx.x2);
    expect(msi!.x2).toBeGreaterThan(msi!.x1);
    expect(aperture!.x1).toBeGreaterThanOrEqual(msi!.x2);
    for (const w of lane.reserved) {
      expect(w.labelY).toBeGreaterThan(lane.bandY + lane.bandHeight);
      expect(w.labelY).toBeLessThan(lane.y + lane.height);
      expect(w.labelX).toBeGreaterThanOrEqual(0);
    }
    expect(aperture!.labelY).toBeGreaterThan(msi!.labelY);
  });

  it('are marked x on the terminal bar and listed under the lane', () => {
    const text = renderTextMap(layoutToIovaMap(withNic), { width: 100 });
    const lines = text.split('\n');
    expect(lines[0]).toContain('x: reserved by a device');
    const bar = lines.find((l) => l.startsWith('  ['))!;
    expect(bar).toContain('x');
    expect(text).toContain('  x   reserved: MSI 0xfee0_0000-0xfeef_ffff (device.nic0)');
    expect(renderTextMap(layoutToIovaMap(base))).not.toContain('reserved');
  });
});
