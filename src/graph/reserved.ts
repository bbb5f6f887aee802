// The windows an attached device reserves on its IOAS, for the pictures: the profile's reserved
// regions the kernel enforces (as profileReservedRanges picks them) and the space outside the
// IOMMU aperture. Pure; only built-in profiles are known here (the `host` profile is read from
// sysfs at plan time, which a picture does not do, so it draws nothing).
import { builtinProfile, profileReservedRanges } from '../model/device-profile.js';
import { devicesOf, type Layout } from '../model/layout.js';
import type { ReservedWindow } from './model.js';

function regionKind(type: string): string {
  return type === 'msi' ? 'MSI' : type;
}

/** The reserved windows of every device attached to `ioas`, in device order then IOVA order. */
export function reservedWindows(layout: Layout, ioas: string): ReservedWindow[] {
  const windows: ReservedWindow[] = [];
  for (const device of devicesOf(layout)) {
    if (device.ioas !== ioas) continue;
    const profile = builtinProfile(device.profile);
    if (profile === null) continue;
    const owner = `device.${device.name}`;
    const own: ReservedWindow[] = profile.reserved
      .filter((r) => r.type !== 'direct-relaxable')
      .map((r) => ({ start: r.start, last: r.last, kind: regionKind(r.type), owner }));
    for (const outside of profileReservedRanges(profile).aperture) {
      own.push({ ...outside, kind: outside.start === 0n ? 'below aperture' : 'beyond aperture', owner });
    }
    windows.push(...own.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)));
  }
  return windows;
}
