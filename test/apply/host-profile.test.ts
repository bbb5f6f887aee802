// The host facts for devices, read from a fake sysfs and limits file.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHostProfile, readMemlockLimit, reservedRegionsPath } from '../../src/apply/host-profile.js';

describe('host device profile from sysfs', () => {
  it('reads the reserved regions of a PCI device and of a cdev', () => {
    const sysfs = mkdtempSync(join(tmpdir(), 'ioasform-sysfs-'));
    const pci = { kind: 'pci' as const, address: '0000:00:03.0' };
    const cdev = { kind: 'path' as const, path: '/dev/vfio/devices/vfio0' };
    for (const source of [pci, cdev]) {
      const file = reservedRegionsPath(source, sysfs);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, '0x00000000fee00000 0x00000000feefffff msi\n0x00000000000a0000 0x00000000000bffff direct-relaxable\n');
      const read = readHostProfile(source, sysfs);
      expect(read.ok && read.profile.reserved).toEqual([
        { start: 0xfee00000n, last: 0xfeefffffn, type: 'msi' },
        { start: 0xa0000n, last: 0xbffffn, type: 'direct-relaxable' },
      ]);
    }
    expect(reservedRegionsPath(cdev, sysfs)).toBe(`${sysfs}/class/vfio-dev/vfio0/device/iommu_group/reserved_regions`);
  });

  it('says why when the file is missing or malformed', () => {
    const sysfs = mkdtempSync(join(tmpdir(), 'ioasform-sysfs-'));
    const source = { kind: 'pci' as const, address: '0000:00:04.0' };
    expect(readHostProfile(source, sysfs)).toMatchObject({ ok: false, message: expect.stringContaining('ENOENT') });
    const file = reservedRegionsPath(source, sysfs);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'garbage\n');
    expect(readHostProfile(source, sysfs)).toMatchObject({ ok: false, message: expect.stringContaining('line 1') });
  });
});

describe('memlock limit from /proc/self/limits', () => {
  const limits = (line: string): string => {
    const file = join(mkdtempSync(join(tmpdir(), 'ioasform-limits-')), 'limits');
    writeFileSync(file, `Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n${line}\n`);
    return file;
  };
  it('reads the soft limit in bytes, unlimited as null, and nothing as undefined', () => {
    expect(readMemlockLimit(limits('Max locked memory         8388608              16777216             bytes'))).toBe(8388608n);
    expect(readMemlockLimit(limits('Max locked memory         unlimited            unlimited            bytes'))).toBeNull();
    expect(readMemlockLimit('/nonexistent/limits')).toBeUndefined();
  });
});
