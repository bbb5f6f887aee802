// Guest helper (QEMU VM only, root): the device VM's e1000e handed to vfio-pci, for every guest
// file that needs a real VFIO device behind a real (emulated) IOMMU (devices.guest.ts,
// differential.guest.ts). The device VM is IOASFORM_KERNEL_DEVICE=1 (q35 + intel-iommu + an
// e1000e at 0000:00:10.0, see ../README.md); the steps are those of
// ../../../../shared/kernel/README.md. Nothing but an e1000e (8086:10d3) is ever unbound: the 9p
// root is a PCI device too.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadNative } from '../../../src/backends/kernel/native.js';
import { DEVICE_PROFILES, type DeviceProfile } from '../../../src/model/device-profile.js';

export const DEVICE_PCI = '0000:00:10.0';
const sysfsDevice = `/sys/bus/pci/devices/${DEVICE_PCI}`;

/** The device and the memory a test pins through it. */
export interface GuestDevice {
  /** The bind path the kernel backend resolves (`pci:<address>`). */
  readonly path: string;
  /** The simulator profile the real device matches (measured: intel-vtd-39bit). */
  readonly profile: DeviceProfile;
  /** Backed anonymous memory, kept mapped for the whole test file. */
  readonly bufferVa: bigint;
  readonly bufferSize: bigint;
  /** A VA with nothing mapped there. */
  readonly unbackedVa: bigint;
}

export type GuestDeviceSetup = { readonly ok: true; readonly device: GuestDevice } | { readonly ok: false; readonly reason: string };

/** Binds the NIC to vfio-pci (idempotent); the reason when it cannot be done here. */
function handToVfio(): string | null {
  if (!existsSync(`${sysfsDevice}/iommu_group`)) return `no PCI device behind an IOMMU at ${DEVICE_PCI} (run with IOASFORM_KERNEL_DEVICE=1)`;
  const id = `${readFileSync(`${sysfsDevice}/vendor`, 'utf8').trim()}:${readFileSync(`${sysfsDevice}/device`, 'utf8').trim()}`;
  if (id !== '0x8086:0x10d3') return `${DEVICE_PCI} is ${id}, not the e1000e (0x8086:0x10d3) of the device VM: left alone`;
  const vfioDevs = (): string[] => (existsSync(`${sysfsDevice}/vfio-dev`) ? readdirSync(`${sysfsDevice}/vfio-dev`) : []);
  // An earlier guest file of the same VM may have handed it over already.
  if (vfioDevs().length === 1) return null;
  try {
    if (existsSync(`${sysfsDevice}/driver`)) writeFileSync(`${sysfsDevice}/driver/unbind`, DEVICE_PCI);
    writeFileSync(`${sysfsDevice}/driver_override`, 'vfio-pci');
    writeFileSync('/sys/bus/pci/drivers_probe', DEVICE_PCI);
  } catch (error) {
    return `cannot hand ${DEVICE_PCI} to vfio-pci: ${String(error)}`;
  }
  return vfioDevs().length === 1 ? null : `${DEVICE_PCI} has no VFIO cdev after binding vfio-pci (CONFIG_VFIO_DEVICE_CDEV?)`;
}

/** Whether any mapping of this process overlaps [start, last] (from /proc/self/maps). */
export function anythingMapped(start: bigint, last: bigint): boolean {
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+)\s/.exec(line);
    if (!match) continue;
    const from = BigInt(`0x${match[1]}`);
    const to = BigInt(`0x${match[2]}`);
    if (from <= last && start < to) return true;
  }
  return false;
}

/**
 * The e1000e on vfio-pci plus `bufferSize` bytes of anonymous memory to pin, mapped exactly at
 * `at` when given (else 2 MiB aligned anywhere). The unbacked VA is the page right after the
 * buffer when nothing is mapped there, else a page below vm.mmap_min_addr.
 */
export function setUpGuestDevice(options: { readonly bufferSize: bigint; readonly at?: bigint }): GuestDeviceSetup {
  const problem = handToVfio();
  if (problem !== null) return { ok: false, reason: problem };
  const native = loadNative();
  if (!native.ok) return { ok: false, reason: native.reason };
  const buffer = native.addon.mapMemory({
    kind: 'anonymous',
    size: options.bufferSize,
    ...(options.at !== undefined ? { at: options.at } : { align: 2n << 20n }),
  });
  if (buffer.errno !== 0 || !('addr' in buffer)) return { ok: false, reason: `cannot map the ${options.bufferSize} byte buffer (errno ${buffer.errno})` };
  if (options.at !== undefined && buffer.addr !== options.at) {
    return { ok: false, reason: `the buffer landed at 0x${buffer.addr.toString(16)}, not at 0x${options.at.toString(16)}` };
  }
  const after = buffer.addr + options.bufferSize;
  const unbackedVa = anythingMapped(after, after + 0xfffn) ? 0x1000n : after;
  return {
    ok: true,
    device: { path: `pci:${DEVICE_PCI}`, profile: DEVICE_PROFILES['intel-vtd-39bit'] as DeviceProfile, bufferVa: buffer.addr, bufferSize: options.bufferSize, unbackedVa },
  };
}
