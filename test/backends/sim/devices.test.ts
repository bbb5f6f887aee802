// The simulator's device model: what attaching a VFIO device brings to an IOAS, checked against
// the measured QEMU q35 + intel-iommu facts (shared/kernel/README.md) and the 6.12 source order.
import { describe, expect, it } from 'vitest';
import { openSimulator, type SimContext } from '../../../src/backends/sim/index.js';
import { DEVICE_PROFILES, type DeviceProfile } from '../../../src/model/device-profile.js';
import { ERRNO, IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, IOMMU_OPTION_RLIMIT_MODE } from '../../../src/model/uapi.js';

const VTD = DEVICE_PROFILES['intel-vtd-39bit'] as DeviceProfile;
const RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
const FIXED = RW | IOMMU_IOAS_MAP_FIXED_IOVA;
const MEM = { start: 0x7f0000000000n, last: 0x7f0000000000n + (64n << 20n) - 1n };

function setup(options: { memlockLimit?: bigint } = {}): { sim: SimContext; ioas: number; dev: number } {
  const sim = openSimulator(options);
  sim.setUserMemory([MEM]);
  const ioas = (sim.ioasAlloc({ flags: 0 }) as { outIoasId: number }).outIoasId;
  const dev = (sim.deviceBind({ path: '/dev/vfio/devices/vfio0', profile: VTD }) as { devId: number }).devId;
  return { sim, ioas, dev };
}

const ranges = (sim: SimContext, ioasId: number) => sim.ioasIovaRanges({ ioasId, numIovas: 8 });

describe('sim device model', () => {
  it('attach narrows IOVA_RANGES to the measured VT-d ranges and raises the alignment to 4 KiB; detach restores', () => {
    const { sim, ioas, dev } = setup();
    expect(ranges(sim, ioas)).toMatchObject({ errno: 0, ranges: [{ start: 0n, last: (1n << 64n) - 1n }], outIovaAlignment: 1n });
    const attached = sim.deviceAttach({ devId: dev, ptId: ioas });
    expect(attached.errno).toBe(0);
    expect(ranges(sim, ioas)).toMatchObject({
      errno: 0,
      ranges: [{ start: 0n, last: 0xfedfffffn }, { start: 0xfef00000n, last: 0x7fffffffffn }],
      outIovaAlignment: 0x1000n,
    });
    expect(sim.deviceDetach({ devId: dev }).errno).toBe(0);
    expect(ranges(sim, ioas)).toMatchObject({ ranges: [{ start: 0n, last: (1n << 64n) - 1n }], outIovaAlignment: 1n });
  });

  it('the automatic HWPT takes an object id from the shared id space and gives it back on detach', () => {
    const { sim, ioas, dev } = setup();
    const attached = sim.deviceAttach({ devId: dev, ptId: ioas }) as { ptId: number };
    expect(attached.ptId).not.toBe(ioas);
    expect(attached.ptId).not.toBe(dev);
    // The HWPT is busy while the device uses it; the device object is busy while bound.
    expect(sim.destroy({ id: attached.ptId }).errno).toBe(ERRNO.EBUSY);
    expect(sim.destroy({ id: dev }).errno).toBe(ERRNO.EBUSY);
    sim.deviceDetach({ devId: dev });
    const next = sim.ioasAlloc({ flags: 0 }) as { outIoasId: number };
    expect(next.outIoasId).toBe(attached.ptId);
  });

  it('DESTROY of an attached IOAS is EBUSY, and succeeds after detach', () => {
    const { sim, ioas, dev } = setup();
    sim.deviceAttach({ devId: dev, ptId: ioas });
    expect(sim.destroy({ id: ioas }).errno).toBe(ERRNO.EBUSY);
    sim.deviceDetach({ devId: dev });
    expect(sim.destroy({ id: ioas }).errno).toBe(0);
  });

  it('attach fails EADDRINUSE when a mapping lies in the MSI window, beyond the aperture, or in an allowed range over it', () => {
    for (const [iova, what] of [[0xfee00000n, 'msi'], [1n << 39n, 'aperture']] as const) {
      const { sim, ioas, dev } = setup();
      expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x1000n, iova }).errno, what).toBe(0);
      expect(sim.deviceAttach({ devId: dev, ptId: ioas }).errno, what).toBe(ERRNO.EADDRINUSE);
      // Nothing is left behind: the ranges are untouched and the mapping remains.
      expect(ranges(sim, ioas)).toMatchObject({ ranges: [{ start: 0n, last: (1n << 64n) - 1n }], outIovaAlignment: 1n });
      expect(sim.areas(ioas)).toHaveLength(1);
    }
    const { sim, ioas, dev } = setup();
    expect(sim.ioasAllowIovas({ ioasId: ioas, ranges: [{ start: 0xf0000000n, last: 0xffffffffn }] }).errno).toBe(0);
    expect(sim.deviceAttach({ devId: dev, ptId: ioas }).errno).toBe(ERRNO.EADDRINUSE);
  });

  it('attach fails EADDRINUSE when an existing area is not 4 KiB aligned', () => {
    const { sim, ioas, dev } = setup();
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x800n, iova: 0x10000n }).errno).toBe(0);
    expect(sim.deviceAttach({ devId: dev, ptId: ioas }).errno).toBe(ERRNO.EADDRINUSE);
  });

  it('MAP of memory that is not backed: fine on a plain IOAS, EFAULT once a device is attached (nothing left)', () => {
    const { sim, ioas, dev } = setup();
    const unbacked = 0x100000000n;
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: unbacked, length: 0x1000n, iova: 0x1000n }).errno).toBe(0);
    expect(sim.ioasUnmap({ ioasId: ioas, iova: 0x1000n, length: 0x1000n }).errno).toBe(0);
    sim.deviceAttach({ devId: dev, ptId: ioas });
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: unbacked, length: 0x1000n, iova: 0x1000n }).errno).toBe(ERRNO.EFAULT);
    expect(sim.areas(ioas)).toEqual([]);
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x1000n, iova: 0x1000n }).errno).toBe(0);
    expect(sim.pinnedBytes()).toEqual({ user: 0x1000n, mm: 0n });
  });

  it('attach pins existing areas: EFAULT for an unbacked one', () => {
    const { sim, ioas, dev } = setup();
    sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: 0x100000000n, length: 0x1000n, iova: 0x1000n });
    expect(sim.deviceAttach({ devId: dev, ptId: ioas }).errno).toBe(ERRNO.EFAULT);
    expect(sim.pinnedBytes()).toEqual({ user: 0n, mm: 0n });
  });

  it('pinned pages are charged per accounting mode, once per pages object, with ENOMEM past the limit', () => {
    const { sim, ioas, dev } = setup({ memlockLimit: 0x3000n });
    sim.deviceAttach({ devId: dev, ptId: ioas });
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x2000n, iova: 0x100000n }).errno).toBe(0);
    // COPY shares the pages object: no new charge.
    expect(sim.ioasCopy({ flags: FIXED, dstIoasId: ioas, srcIoasId: ioas, length: 0x2000n, dstIova: 0x200000n, srcIova: 0x100000n }).errno).toBe(0);
    expect(sim.pinnedBytes().user).toBe(0x2000n);
    // A second MAP of 8 KiB would make 16 KiB > 12 KiB.
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x2000n, iova: 0x300000n }).errno).toBe(ERRNO.ENOMEM);
    expect(sim.areas(ioas)).toHaveLength(2);
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x1000n, iova: 0x300000n }).errno).toBe(0);
    expect(sim.pinnedBytes().user).toBe(0x3000n);
    // Unmapping unpins.
    sim.ioasUnmap({ ioasId: ioas, iova: 0x300000n, length: 0x1000n });
    expect(sim.pinnedBytes().user).toBe(0x2000n);
  });

  it('process (mm) accounting charges the mm counter', () => {
    const sim = openSimulator({ memlockLimit: 0x1000n });
    sim.setUserMemory([MEM]);
    expect(sim.option({ optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, objectId: 0, val64: 1n }).errno).toBe(0);
    const ioas = (sim.ioasAlloc({ flags: 0 }) as { outIoasId: number }).outIoasId;
    const dev = (sim.deviceBind({ path: '/dev/vfio/devices/vfio0', profile: VTD }) as { devId: number }).devId;
    sim.deviceAttach({ devId: dev, ptId: ioas });
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x1000n, iova: 0x1000n }).errno).toBe(0);
    expect(sim.pinnedBytes()).toEqual({ user: 0n, mm: 0x1000n });
    expect(sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x1000n, iova: 0x2000n }).errno).toBe(ERRNO.ENOMEM);
  });

  it('a bound device counts as an object: RLIMIT_MODE SET is EBUSY', () => {
    const { sim, ioas } = setup();
    sim.destroy({ id: ioas });
    expect(sim.option({ optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, objectId: 0, val64: 1n }).errno).toBe(ERRNO.EBUSY);
  });

  it('HUGE_PAGES=0 with a domain and an area is EINVAL; re-enabling keeps the domain alignment', () => {
    const { sim, ioas, dev } = setup();
    sim.deviceAttach({ devId: dev, ptId: ioas });
    sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x1000n, iova: 0x1000n });
    expect(sim.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: ioas, val64: 0n }).errno).toBe(ERRNO.EINVAL);
    expect(sim.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: ioas, val64: 1n }).errno).toBe(0);
    expect(ranges(sim, ioas)).toMatchObject({ outIovaAlignment: 0x1000n });
  });

  it('a second device of the same profile shares the HWPT; the IOAS stays narrowed until the last detach', () => {
    const { sim, ioas, dev } = setup();
    const dev2 = (sim.deviceBind({ path: '/dev/vfio/devices/vfio1', profile: VTD }) as { devId: number }).devId;
    const a = sim.deviceAttach({ devId: dev, ptId: ioas }) as { ptId: number };
    const b = sim.deviceAttach({ devId: dev2, ptId: ioas }) as { ptId: number };
    expect(b.ptId).toBe(a.ptId);
    sim.deviceDetach({ devId: dev });
    expect(ranges(sim, ioas)).toMatchObject({ outIovaAlignment: 0x1000n });
    expect(sim.destroy({ id: ioas }).errno).toBe(ERRNO.EBUSY);
    sim.deviceDetach({ devId: dev2 });
    expect(sim.destroy({ id: ioas }).errno).toBe(0);
  });

  it('attaching an attached device elsewhere moves it (replace); a failing move leaves it where it was', () => {
    const { sim, ioas, dev } = setup();
    const other = (sim.ioasAlloc({ flags: 0 }) as { outIoasId: number }).outIoasId;
    sim.deviceAttach({ devId: dev, ptId: ioas });
    expect(sim.deviceAttach({ devId: dev, ptId: other }).errno).toBe(0);
    expect(sim.destroy({ id: ioas }).errno).toBe(0);
    const third = (sim.ioasAlloc({ flags: 0 }) as { outIoasId: number }).outIoasId;
    sim.ioasMap({ flags: FIXED, ioasId: third, userVa: MEM.start, length: 0x1000n, iova: 0xfee00000n });
    expect(sim.deviceAttach({ devId: dev, ptId: third }).errno).toBe(ERRNO.EADDRINUSE);
    expect(sim.destroy({ id: other }).errno).toBe(ERRNO.EBUSY);
  });

  it('errors: unknown device EBADF, unknown pt ENOENT, a device id as pt EINVAL, bind without profile ENODEV, twice EINVAL', () => {
    const { sim, ioas, dev } = setup();
    expect(sim.deviceAttach({ devId: 999, ptId: ioas }).errno).toBe(ERRNO.EBADF);
    expect(sim.deviceAttach({ devId: dev, ptId: 999 }).errno).toBe(ERRNO.ENOENT);
    expect(sim.deviceAttach({ devId: dev, ptId: dev }).errno).toBe(ERRNO.EINVAL);
    expect(sim.deviceBind({ path: '/dev/vfio/devices/vfio7' }).errno).toBe(ERRNO.ENODEV);
    expect(sim.deviceBind({ path: '/dev/vfio/devices/vfio0', profile: VTD }).errno).toBe(ERRNO.EINVAL);
    expect(sim.deviceDetach({ devId: dev }).errno).toBe(0);
  });

  it('a snapshot with an attached device restores exactly, and the restored sim behaves the same', () => {
    const { sim, ioas, dev } = setup({ memlockLimit: 1n << 20n });
    sim.ioasMap({ flags: FIXED, ioasId: ioas, userVa: MEM.start, length: 0x2000n, iova: 0x1000n });
    sim.deviceAttach({ devId: dev, ptId: ioas });
    const snap = sim.snapshot();
    const restored = openSimulator({ state: JSON.parse(JSON.stringify(snap)) });
    expect(restored.snapshot()).toEqual(snap);
    expect(ranges(restored, ioas)).toEqual(ranges(sim, ioas));
    expect(restored.destroy({ id: ioas }).errno).toBe(ERRNO.EBUSY);
    expect(restored.ioasMap({ flags: FIXED, ioasId: ioas, userVa: 0x100000000n, length: 0x1000n, iova: 0x10000n }).errno).toBe(ERRNO.EFAULT);
    expect(restored.pinnedBytes()).toEqual(sim.pinnedBytes());
    restored.deviceDetach({ devId: dev });
    expect(restored.destroy({ id: ioas }).errno).toBe(0);
  });

  it('a device-free snapshot has no device keys (older snapshots stay byte-identical)', () => {
    const sim = openSimulator();
    sim.ioasAlloc({ flags: 0 });
    expect(Object.keys(sim.snapshot())).toEqual(['format', 'version', 'options', 'accountMode', 'nextPagesId', 'pages', 'objects']);
  });

  it('close unbinds devices first, so everything goes', () => {
    const { sim, ioas, dev } = setup();
    sim.deviceAttach({ devId: dev, ptId: ioas });
    sim.close();
    expect(sim.destroy({ id: ioas }).errno).toBe(ERRNO.EBADF);
  });
});
