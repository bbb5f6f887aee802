// Device profiles: what an attached device brings to an IOAS, as plain data. The simulator
// applies a profile on attach the way the kernel applies the device's IOMMU domain and its
// reserved regions (io_pagetable.c: iopt_table_enforce_dev_resv_regions, iopt_table_add_domain);
// the config rules use the same data to warn about fixed mappings in a reserved window.
//
// Pure: the `host` profile is read from sysfs by the caller (see parseReservedRegions), never here.

import type { IovaRange } from './uapi.js';

/** One line of /sys/kernel/iommu_groups/N/reserved_regions: `start last type`, inclusive. */
export interface ReservedRegion extends IovaRange {
  /** `msi`, `direct`, `direct-relaxable`, `reserved`, `msi-remap` (sysfs spelling). */
  readonly type: string;
}

export interface DeviceProfile {
  readonly name: string;
  /** The device's reserved regions (each becomes a reserved IOVA range while attached). */
  readonly reserved: readonly ReservedRegion[];
  /** The domain's aperture (geometry): everything outside it is reserved while attached. */
  readonly aperture: IovaRange;
  /** The smallest IOMMU page size (lowest bit of pgsize_bitmap): the IOAS alignment while attached. */
  readonly pageSize: bigint;
}

/** The x86 MSI window every Intel VT-d and AMD-Vi device reserves. */
export const X86_MSI_WINDOW: ReservedRegion = { start: 0xfee00000n, last: 0xfeefffffn, type: 'msi' };

/**
 * Built-in profiles. `intel-vtd-39bit` is what the measured QEMU q35 + intel-iommu + e1000e
 * setup reports (shared/kernel/README.md): IOVA_RANGES [0, 0xfedfffff] and
 * [0xfef00000, 0x7fffffffff], out_iova_alignment 0x1000.
 */
export const DEVICE_PROFILES: Readonly<Record<string, DeviceProfile>> = {
  'intel-vtd-39bit': { name: 'intel-vtd-39bit', reserved: [X86_MSI_WINDOW], aperture: { start: 0n, last: (1n << 39n) - 1n }, pageSize: 4096n },
  'intel-vtd-48bit': { name: 'intel-vtd-48bit', reserved: [X86_MSI_WINDOW], aperture: { start: 0n, last: (1n << 48n) - 1n }, pageSize: 4096n },
};

/** The profile name that means "read the host's sysfs at plan time". */
export const HOST_PROFILE = 'host';

export function builtinProfile(name: string): DeviceProfile | null {
  return Object.hasOwn(DEVICE_PROFILES, name) ? (DEVICE_PROFILES[name] as DeviceProfile) : null;
}

/**
 * Parses the text of a sysfs reserved_regions file (`0x00000000fee00000 0x00000000feefffff msi`
 * per line). Returns the regions, or an error naming the first bad line.
 */
export function parseReservedRegions(text: string): { ok: true; regions: ReservedRegion[] } | { ok: false; error: string } {
  const regions: ReservedRegion[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const match = /^(0x[0-9a-fA-F]{1,16})\s+(0x[0-9a-fA-F]{1,16})\s+(\S+)$/.exec(line);
    if (!match) return { ok: false, error: `line ${i + 1}: expected "0xSTART 0xLAST type", got "${line}"` };
    const start = BigInt(match[1] as string);
    const last = BigInt(match[2] as string);
    if (last < start) return { ok: false, error: `line ${i + 1}: last is below start` };
    regions.push({ start, last, type: match[3] as string });
  }
  return { ok: true, regions };
}

/**
 * A profile from host reserved regions. sysfs does not show the domain aperture, so the host
 * profile assumes the whole 64-bit space and 4 KiB pages: it only narrows by the regions.
 */
export function hostProfile(regions: readonly ReservedRegion[]): DeviceProfile {
  return { name: HOST_PROFILE, reserved: regions, aperture: { start: 0n, last: (1n << 64n) - 1n }, pageSize: 4096n };
}

/**
 * The IOVA ranges a profile makes unusable while attached, as the kernel reserves them: the
 * device regions the kernel enforces (direct-relaxable ones are skipped, as
 * iopt_table_enforce_dev_resv_regions does), then the complement of the aperture.
 */
export function profileReservedRanges(profile: DeviceProfile): { device: IovaRange[]; aperture: IovaRange[] } {
  const device = profile.reserved.filter((r) => r.type !== 'direct-relaxable').map(({ start, last }) => ({ start, last }));
  const aperture: IovaRange[] = [];
  if (profile.aperture.start !== 0n) aperture.push({ start: 0n, last: profile.aperture.start - 1n });
  if (profile.aperture.last !== (1n << 64n) - 1n) aperture.push({ start: profile.aperture.last + 1n, last: (1n << 64n) - 1n });
  return { device, aperture };
}
