// Host facts for devices, read from the running system: the `host` device profile (the reserved
// regions of the device's IOMMU group in sysfs) and the RLIMIT_MEMLOCK soft limit. The pure model
// (model/device-profile.ts) parses; this module only finds and reads the files.
import { readFileSync } from 'node:fs';
import { hostProfile, parseReservedRegions, type DeviceProfile } from '../model/device-profile.js';
import type { DeviceSource } from '../model/layout.js';

/** Where the device's IOMMU group's reserved_regions file is under `sysfs`. */
export function reservedRegionsPath(source: DeviceSource, sysfs = '/sys'): string {
  if (source.kind === 'pci') return `${sysfs}/bus/pci/devices/${source.address}/iommu_group/reserved_regions`;
  const cdev = source.path.slice(source.path.lastIndexOf('/') + 1);
  return `${sysfs}/class/vfio-dev/${cdev}/device/iommu_group/reserved_regions`;
}

export type HostProfileResult = { readonly ok: true; readonly profile: DeviceProfile } | { readonly ok: false; readonly message: string };

/** The `host` profile of one device, or why it cannot be read here. */
export function readHostProfile(source: DeviceSource, sysfs = '/sys'): HostProfileResult {
  const path = reservedRegionsPath(source, sysfs);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
  const parsed = parseReservedRegions(text);
  if (!parsed.ok) return { ok: false, message: `${path}: ${parsed.error}` };
  return { ok: true, profile: hostProfile(parsed.regions) };
}

/**
 * RLIMIT_MEMLOCK's soft limit in bytes from /proc/self/limits ("Max locked memory"): null when
 * unlimited, undefined when it cannot be read (not Linux).
 */
export function readMemlockLimit(limitsFile = '/proc/self/limits'): bigint | null | undefined {
  let text: string;
  try {
    text = readFileSync(limitsFile, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith('Max locked memory'));
  const soft = line?.slice('Max locked memory'.length).trim().split(/\s+/)[0];
  if (soft === undefined) return undefined;
  if (soft === 'unlimited') return null;
  return /^\d+$/.test(soft) ? BigInt(soft) : undefined;
}
