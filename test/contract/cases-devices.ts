// Device cases of the uapi contract: what attaching a VFIO device brings to an IOAS. The expected
// values are the ones measured on the real 6.12 kernel in QEMU (q35, intel-iommu, e1000e at
// 0000:00:10.0 in our test VM; shared/kernel/README.md), which the simulator's `intel-vtd-39bit` profile models.
// Every case needs caps.device; the vars `buf` (backed memory) and `unbacked` come from it.
import {
  alloc,
  allow,
  attach,
  autoMap,
  bind,
  copy,
  destroy,
  devId,
  fails,
  fixedMap,
  iovaRanges,
  ok,
  option,
  R,
  range,
  RLIMIT,
  RW,
  SET,
  U64,
  unmap,
  type ContractCase,
  type Vars,
} from './contract-dsl.js';

const MSI = 0xfee00000n;
const VTD_RANGES = [range(0n, 0xfedfffffn), range(0xfef00000n, 0x7fffffffffn)];
const n = (vars: Vars, name: string): number => vars[name] as number;
const b = (vars: Vars, name: string): bigint => vars[name] as bigint;

/** alloc IOAS (var ioas), bind the device (var dev). */
const setup = [ok('ioasAlloc', alloc(), undefined, { save: { ioas: 'outIoasId' } }), ok('deviceBind', bind(), undefined, { save: { dev: 'devId' } })];
const attachIt = ok('deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'ioas')), undefined, { save: { pt: 'ptId' } });

export const deviceCases: readonly ContractCase[] = [
  {
    name: 'device.attach.narrows-iova-ranges-and-aligns',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { ranges: [range(0n, U64)], outIovaAlignment: 1n }),
      attachIt,
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { numIovas: 2, ranges: VTD_RANGES, outIovaAlignment: 0x1000n }),
    ],
  },
  {
    name: 'device.detach.restores-iova-ranges',
    needs: ['device'],
    steps: [
      ...setup,
      attachIt,
      ok('deviceDetach', (v: Vars) => devId(n(v, 'dev'))),
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { ranges: [range(0n, U64)], outIovaAlignment: 1n }),
    ],
  },
  {
    name: 'device.destroy.attached-ioas-is-busy',
    needs: ['device'],
    steps: [
      ...setup,
      attachIt,
      fails('EBUSY', 'destroy', (v: Vars) => destroy(n(v, 'ioas'))),
      fails('EBUSY', 'destroy', (v: Vars) => destroy(n(v, 'pt'))),
      fails('EBUSY', 'destroy', (v: Vars) => destroy(n(v, 'dev'))),
      ok('deviceDetach', (v: Vars) => devId(n(v, 'dev'))),
      ok('destroy', (v: Vars) => destroy(n(v, 'ioas'))),
    ],
  },
  {
    name: 'device.map.pins: unbacked memory EFAULT, real memory OK',
    needs: ['device'],
    steps: [
      ...setup,
      attachIt,
      fails('EFAULT', 'ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'unbacked'), 0x1000n, 0x100000n)),
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'buf'), 0x1000n, 0x100000n), { iova: 0x100000n }),
      ok('ioasUnmap', (v: Vars) => unmap(n(v, 'ioas'), 0x100000n, 0x1000n), { length: 0x1000n }),
    ],
  },
  {
    name: 'device.map.plain-ioas-does-not-pin (EFAULT only appears with a device)',
    needs: ['device'],
    steps: [
      ok('ioasAlloc', alloc(), undefined, { save: { ioas: 'outIoasId' } }),
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'unbacked'), 0x1000n, 0x100000n), { iova: 0x100000n }),
    ],
  },
  {
    name: 'device.map.in-msi-window-after-attach-is-EINVAL',
    needs: ['device'],
    steps: [...setup, attachIt, fails('EINVAL', 'ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'buf'), 0x1000n, MSI))],
  },
  {
    name: 'device.attach.mapping-in-msi-window-is-EADDRINUSE',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'buf'), 0x1000n, MSI), { iova: MSI }),
      fails('EADDRINUSE', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'ioas'))),
      // Nothing was left: the ranges are whole, and after the unmap the attach succeeds.
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { ranges: [range(0n, U64)], outIovaAlignment: 1n }),
      ok('ioasUnmap', (v: Vars) => unmap(n(v, 'ioas'), MSI, 0x1000n), { length: 0x1000n }),
      attachIt,
    ],
  },
  {
    name: 'device.attach.mapping-beyond-aperture-is-EADDRINUSE',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'buf'), 0x1000n, 0x8000000000n), { iova: 0x8000000000n }),
      fails('EADDRINUSE', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'ioas'))),
    ],
  },
  {
    name: 'device.allow-iovas.over-msi-window-after-attach-is-EADDRINUSE',
    needs: ['device'],
    steps: [...setup, attachIt, fails('EADDRINUSE', 'ioasAllowIovas', (v: Vars) => allow(n(v, 'ioas'), [range(0xf0000000n, 0xffffffffn)]))],
  },
  // ---- Paths the differential test reaches that no case above pinned ----------------------------
  {
    name: 'device.bind.twice-is-EINVAL (one bind per device)',
    needs: ['device'],
    steps: [...setup, fails('EINVAL', 'deviceBind', bind()), ok('deviceUnbind', (v: Vars) => devId(n(v, 'dev'))), ok('deviceBind', bind())],
  },
  {
    name: 'device.attach.bad-targets: a device id EINVAL, a destroyed IOAS ENOENT, an unbound device EBADF',
    needs: ['device'],
    steps: [
      ...setup,
      fails('EINVAL', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'dev'))),
      ok('ioasAlloc', alloc(), undefined, { save: { gone: 'outIoasId' } }),
      ok('destroy', (v: Vars) => destroy(n(v, 'gone'))),
      fails('ENOENT', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'gone'))),
      fails('ENOENT', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), 0x7ffffffe)),
      ok('deviceUnbind', (v: Vars) => devId(n(v, 'dev'))),
      fails('EBADF', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'ioas'))),
    ],
  },
  {
    name: 'device.attach.allowed-range-over-msi-window-is-EADDRINUSE',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasAllowIovas', (v: Vars) => allow(n(v, 'ioas'), [range(0xf0000000n, 0xffffffffn)])),
      fails('EADDRINUSE', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'ioas'))),
      ok('ioasAllowIovas', (v: Vars) => allow(n(v, 'ioas'), [range(0xf0000000n, MSI - 1n)])),
      attachIt,
    ],
  },
  {
    name: 'device.attach.pins-existing-mappings (unbacked: EFAULT, nothing left)',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'unbacked'), 0x1000n, 0x100000n), { iova: 0x100000n }),
      fails('EFAULT', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'ioas'))),
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { ranges: [range(0n, U64)], outIovaAlignment: 1n }),
      ok('ioasUnmap', (v: Vars) => unmap(n(v, 'ioas'), 0x100000n, 0x1000n), { length: 0x1000n }),
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'buf'), 0x1000n, 0x100000n), { iova: 0x100000n }),
      attachIt,
    ],
  },
  {
    name: 'device.map.automatic-iova-steps-over-the-msi-window',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasAllowIovas', (v: Vars) => allow(n(v, 'ioas'), [range(MSI - 0x100000n, MSI - 1n), range(MSI + 0x100000n, MSI + 0x1fffffn)])),
      attachIt,
      // IOVA_RANGES reports the holes the reserved ranges leave, not the allowed ranges.
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { numIovas: 2, ranges: VTD_RANGES }),
      ok('ioasMap', (v: Vars) => autoMap(n(v, 'ioas'), b(v, 'buf'), 0x100000n), { iova: MSI - 0x100000n }),
      ok('ioasMap', (v: Vars) => autoMap(n(v, 'ioas'), b(v, 'buf'), 0x100000n), { iova: MSI + 0x100000n }),
      fails('ENOSPC', 'ioasMap', (v: Vars) => autoMap(n(v, 'ioas'), b(v, 'buf'), 0x1000n)),
    ],
  },
  {
    name: 'device.iova-ranges.too-small-a-buffer-is-EMSGSIZE-with-the-count',
    needs: ['device'],
    steps: [...setup, attachIt, fails('EMSGSIZE', 'ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 1), { numIovas: 2, outIovaAlignment: 0x1000n })],
  },
  {
    name: 'device.map.fixed-iova-past-the-aperture-after-attach-is-EINVAL',
    needs: ['device'],
    steps: [
      ...setup,
      attachIt,
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'buf'), 0x1000n, 0x7ffffff000n), { iova: 0x7ffffff000n }),
      fails('EINVAL', 'ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'buf'), 0x1000n, 0x8000000000n)),
      fails('EINVAL', 'ioasMap', (v: Vars) => fixedMap(n(v, 'ioas'), b(v, 'buf'), 0x2000n, 0x7ffffff000n + 0x1000n)),
    ],
  },
  {
    name: 'device.copy.into-an-attached-ioas-pins (unbacked source EFAULT)',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasAlloc', alloc(), undefined, { save: { src: 'outIoasId' } }),
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'src'), b(v, 'unbacked'), 0x1000n, 0x10000n), { iova: 0x10000n }),
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'src'), b(v, 'buf'), 0x1000n, 0x20000n), { iova: 0x20000n }),
      attachIt,
      fails('EFAULT', 'ioasCopy', (v: Vars) => copy({ flags: R, dst: n(v, 'ioas'), src: n(v, 'src'), length: 0x1000n, srcIova: 0x10000n })),
      ok('ioasCopy', (v: Vars) => copy({ flags: RW, dst: n(v, 'ioas'), src: n(v, 'src'), length: 0x1000n, srcIova: 0x20000n })),
    ],
  },
  {
    name: 'device.unbind.detaches-and-frees-the-hwpt',
    needs: ['device'],
    steps: [
      ...setup,
      attachIt,
      ok('deviceUnbind', (v: Vars) => devId(n(v, 'dev'))),
      fails('ENOENT', 'destroy', (v: Vars) => destroy(n(v, 'pt'))),
      fails('EBADF', 'deviceDetach', (v: Vars) => devId(n(v, 'dev'))),
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { ranges: [range(0n, U64)], outIovaAlignment: 1n }),
      ok('destroy', (v: Vars) => destroy(n(v, 'ioas'))),
    ],
  },
  {
    // Found by the differential test: replace makes the new HWPT while the old one stands.
    name: 'device.attach.replace-takes-a-fresh-hwpt-id-and-frees-the-old',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasAlloc', alloc(), undefined, { save: { other: 'outIoasId' } }),
      attachIt,
      ok('deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'other')), undefined, {
        save: { moved: 'ptId' },
        check: (r, v) => (r.ptId === (v.pt as number) ? 'the replace reused the old HWPT id' : null),
      }),
      fails('ENOENT', 'destroy', (v: Vars) => destroy(n(v, 'pt'))),
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { ranges: [range(0n, U64)], outIovaAlignment: 1n }),
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'other'), 8), { numIovas: 2, ranges: VTD_RANGES, outIovaAlignment: 0x1000n }),
      // Onto the IOAS it is on: its own HWPT, nothing changes.
      ok('deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'other')), undefined, { check: (r, v) => (r.ptId === v.moved ? null : 'a new HWPT') }),
    ],
  },
  {
    name: 'device.attach.failed-replace-keeps-the-old-attachment',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasAlloc', alloc(), undefined, { save: { other: 'outIoasId' } }),
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'other'), b(v, 'buf'), 0x1000n, MSI), { iova: MSI }),
      attachIt,
      fails('EADDRINUSE', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'other'))),
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'ioas'), 8), { numIovas: 2, ranges: VTD_RANGES, outIovaAlignment: 0x1000n }),
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'other'), 8), { ranges: [range(0n, U64)], outIovaAlignment: 1n }),
      fails('EBUSY', 'destroy', (v: Vars) => destroy(n(v, 'pt'))),
      ok('deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'pt')), undefined, { check: (r, v) => (r.ptId === v.pt ? null : 'a new HWPT') }),
    ],
  },
  {
    // A first attach reserves the device's regions before adding the domain (EADDRINUSE for
    // the mapping in the MSI window); a replace adds the domain first, whose fill pins the
    // unbacked mapping (EFAULT).
    name: 'device.attach.replace-fills-before-reserving (EFAULT where a first attach says EADDRINUSE)',
    needs: ['device'],
    steps: [
      ...setup,
      ok('ioasAlloc', alloc(), undefined, { save: { other: 'outIoasId' } }),
      ok('ioasMap', (v: Vars) => fixedMap(n(v, 'other'), b(v, 'unbacked'), 0x1000n, MSI), { iova: MSI }),
      fails('EADDRINUSE', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'other'))),
      attachIt,
      fails('EFAULT', 'deviceAttach', (v: Vars) => attach(n(v, 'dev'), n(v, 'other'))),
      ok('ioasIovaRanges', (v: Vars) => iovaRanges(n(v, 'other'), 8), { ranges: [range(0n, U64)], outIovaAlignment: 1n }),
    ],
  },
  {
    name: 'device.rlimit-mode.bound-device-is-an-object (EBUSY)',
    needs: ['device', 'capSysResource'],
    steps: [
      ok('deviceBind', bind(), undefined, { save: { dev: 'devId' } }),
      fails('EBUSY', 'option', option(RLIMIT, SET, 0, 1n)),
      ok('deviceUnbind', (v: Vars) => devId(n(v, 'dev'))),
      ok('option', option(RLIMIT, SET, 0, 1n)),
    ],
  },
];
