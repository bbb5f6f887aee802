// The kernel backend's VFIO device calls without a kernel: the struct bytes against vfio.h
// (6.12), the PCI -> cdev resolution through sysfs, and the fd bookkeeping with a fake addon.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cdevPath, KernelDevices } from '../../../src/backends/kernel/devices.js';
import type { NativeAddon } from '../../../src/backends/kernel/native.js';
import { decodeAttachOut, decodeBindOut, decodeDeviceInfo, encodeAttach, encodeBind, encodeDetach, encodeDeviceInfo, encodeHwInfo, VFIO_CMD } from '../../../src/backends/kernel/vfio-structs.js';
import { errnoName, ERRNO } from '../../../src/model/uapi.js';

const answer = (errno: number) => ({ errno, code: errnoName(errno) });

describe('VFIO cdev structs and ioctl numbers (vfio.h, 6.12)', () => {
  it('uses _IO(";", 100 + 18/19/20) and GET_INFO _IO(";", 100 + 7)', () => {
    expect(VFIO_CMD).toEqual({ DEVICE_BIND_IOMMUFD: 0x3b76, DEVICE_ATTACH_IOMMUFD_PT: 0x3b77, DEVICE_DETACH_IOMMUFD_PT: 0x3b78, DEVICE_GET_INFO: 0x3b6b });
  });

  it('lays out iommu_hw_info {size 40, flags, dev_id, data_len 0, ...} and vfio_device_info {argsz 24, flags, num_regions, num_irqs}', () => {
    const hw = encodeHwInfo(0x205);
    expect(hw.length).toBe(40);
    expect([...hw.subarray(0, 16)]).toEqual([40, 0, 0, 0, 0, 0, 0, 0, 5, 2, 0, 0, 0, 0, 0, 0]);
    expect(hw.subarray(16).every((b) => b === 0)).toBe(true);
    const info = encodeDeviceInfo();
    expect([...info]).toEqual([24, ...Array<number>(23).fill(0)]);
    info.set([3, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0], 4);
    expect(decodeDeviceInfo(info)).toEqual({ flags: 3, numRegions: 9, numIrqs: 5 });
  });

  it('lays out bind {argsz, flags, iommufd, out_devid}, attach {argsz, flags, pt_id}, detach {argsz, flags}', () => {
    expect([...encodeBind(7)]).toEqual([16, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
    const bound = encodeBind(7);
    bound.set([0x34, 0x12, 0, 0], 12);
    expect(decodeBindOut(bound)).toEqual({ devId: 0x1234 });
    expect([...encodeAttach(0x102)]).toEqual([12, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0]);
    expect(decodeAttachOut(Uint8Array.from([12, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0]))).toEqual({ ptId: 9 });
    expect([...encodeDetach()]).toEqual([8, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('cdev resolution', () => {
  it('passes a cdev path through and finds the vfio-dev entry of a PCI address', () => {
    const sysfs = mkdtempSync(join(tmpdir(), 'ioasform-sysfs-'));
    mkdirSync(join(sysfs, 'bus/pci/devices/0000:00:03.0/vfio-dev/vfio4'), { recursive: true });
    expect(cdevPath('/dev/vfio/devices/vfio1', sysfs)).toBe('/dev/vfio/devices/vfio1');
    expect(cdevPath('pci:0000:00:03.0', sysfs)).toBe('/dev/vfio/devices/vfio4');
    expect(cdevPath('pci:0000:00:04.0', sysfs)).toBeNull();
  });
});

describe('KernelDevices fd bookkeeping (fake addon)', () => {
  function fakeAddon(bindErrno: number) {
    const open = new Set<number>();
    const calls: number[] = [];
    let next = 40;
    const addon = {
      open: () => {
        open.add(next);
        return next++;
      },
      close: (fd: number) => (open.delete(fd) ? 0 : -ERRNO.EBADF),
      ioctl: (_fd: number, cmd: number, arg: Uint8Array) => {
        calls.push(cmd);
        if (cmd === VFIO_CMD.DEVICE_BIND_IOMMUFD) {
          if (bindErrno) return bindErrno;
          new DataView(arg.buffer).setUint32(12, 3, true);
        }
        if (cmd === VFIO_CMD.DEVICE_ATTACH_IOMMUFD_PT) new DataView(arg.buffer).setUint32(8, 5, true);
        return 0;
      },
    } as unknown as NativeAddon;
    return { addon, open, calls };
  }

  it('binds with the iommufd, attaches, detaches, and unbinding closes the device fd', () => {
    const { addon, open, calls } = fakeAddon(0);
    const devices = new KernelDevices(addon, () => 9);
    expect(devices.bind({ path: '/dev/vfio/devices/vfio0' }, answer)).toEqual({ errno: 0, code: 'OK', devId: 3 });
    expect(open.size).toBe(1);
    expect(devices.attach({ devId: 3, ptId: 1 }, answer)).toEqual({ errno: 0, code: 'OK', ptId: 5 });
    expect(devices.detach({ devId: 3 }, answer).errno).toBe(0);
    expect(devices.unbind({ devId: 3 }, answer).errno).toBe(0);
    expect(open.size).toBe(0);
    expect(calls).toEqual([VFIO_CMD.DEVICE_BIND_IOMMUFD, VFIO_CMD.DEVICE_ATTACH_IOMMUFD_PT, VFIO_CMD.DEVICE_DETACH_IOMMUFD_PT]);
    expect(devices.attach({ devId: 3, ptId: 1 }, answer).code).toBe('EBADF');
  });

  it('a failed bind closes the fd it opened; closeAll closes every device fd', () => {
    const failing = fakeAddon(ERRNO.EINVAL);
    expect(new KernelDevices(failing.addon, () => 9).bind({ path: '/dev/vfio/devices/vfio0' }, answer).code).toBe('EINVAL');
    expect(failing.open.size).toBe(0);
    const { addon, open } = fakeAddon(0);
    const devices = new KernelDevices(addon, () => 9);
    devices.bind({ path: '/dev/vfio/devices/vfio0' }, answer);
    devices.closeAll();
    expect(open.size).toBe(0);
  });
});
