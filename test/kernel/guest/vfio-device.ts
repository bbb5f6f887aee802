// Guest helper (QEMU VM only, root): the device VM's NIC on vfio-pci (device-vm.ts, shared with
// devices.guest.ts) plus user memory mapped where a test wants to pin it, for the differential
// test's device calls.
import { readFileSync } from 'node:fs';
import { loadNative } from '../../../src/backends/kernel/native.js';
import { DEVICE_PROFILES, type DeviceProfile } from '../../../src/model/device-profile.js';
import { DEVICE_VM_NIC, handNicToVfio } from './device-vm.js';

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

/** Whether any mapping of this process overlaps [start, last] (from /proc/self/maps). */
function anythingMapped(start: bigint, last: bigint): boolean {
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
  const problem = handNicToVfio();
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
    device: { path: `pci:${DEVICE_VM_NIC}`, profile: DEVICE_PROFILES['intel-vtd-39bit'] as DeviceProfile, bufferVa: buffer.addr, bufferSize: options.bufferSize, unbackedVa },
  };
}
