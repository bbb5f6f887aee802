// VFIO cdev devices on the real kernel: each bound device is an open /dev/vfio/devices/vfioN fd
// bound to the context's iommufd (VFIO_DEVICE_BIND_IOMMUFD), attached and detached with the
// *_IOMMUFD_PT ioctls; unbinding is closing that fd. The kernel learns the device's reserved
// regions and aperture itself, so the DeviceBindArgs profile is not used here.
import { readdirSync } from 'node:fs';
import { ERRNO, type DeviceAttachArgs, type DeviceAttachOut, type DeviceBindArgs, type DeviceBindOut, type DeviceIdArgs, type UapiResult } from '../../model/uapi.js';
import { loadNative, O_RDWR, type NativeAddon } from './native.js';
import { errnoName, IOMMUFD_CMD } from '../../model/uapi.js';
import { decodeAttachOut, decodeBindOut, decodeDeviceInfo, encodeAttach, encodeBind, encodeDetach, encodeDeviceInfo, encodeHwInfo, VFIO_CMD, type VfioDeviceInfo } from './vfio-structs.js';

type Answer = (errno: number) => UapiResult;

/**
 * The cdev of a bind path: the path itself, or for `pci:<address>` the vfio-dev entry sysfs lists
 * under the PCI device (present once vfio-pci drives it). null when there is none.
 */
export function cdevPath(path: string, sysfs = '/sys'): string | null {
  if (!path.startsWith('pci:')) return path;
  const address = path.slice('pci:'.length);
  try {
    const entries = readdirSync(`${sysfs}/bus/pci/devices/${address}/vfio-dev`).filter((e) => /^vfio\d+$/.test(e));
    return entries.length === 1 ? `/dev/vfio/devices/${entries[0]}` : null;
  } catch {
    return null;
  }
}

export class KernelDevices {
  readonly #addon: NativeAddon;
  readonly #iommufd: () => number;
  /** Device id -> its open cdev fd. */
  readonly #fds = new Map<number, number>();

  constructor(addon: NativeAddon, iommufd: () => number) {
    this.#addon = addon;
    this.#iommufd = iommufd;
  }

  bind(args: DeviceBindArgs, answer: Answer): UapiResult<DeviceBindOut> {
    const cdev = cdevPath(args.path);
    if (cdev === null) return answer(ERRNO.ENODEV);
    const fd = this.#addon.open(cdev, O_RDWR);
    if (fd < 0) return answer(-fd);
    const bytes = encodeBind(this.#iommufd());
    const errno = this.#addon.ioctl(fd, VFIO_CMD.DEVICE_BIND_IOMMUFD, bytes);
    if (errno !== 0) {
      this.#addon.close(fd);
      return answer(errno);
    }
    const { devId } = decodeBindOut(bytes);
    this.#fds.set(devId, fd);
    return { errno: 0, code: 'OK', devId };
  }

  attach(args: DeviceAttachArgs, answer: Answer): UapiResult<DeviceAttachOut> {
    const fd = this.#fds.get(args.devId);
    if (fd === undefined) return answer(ERRNO.EBADF);
    const bytes = encodeAttach(args.ptId);
    const errno = this.#addon.ioctl(fd, VFIO_CMD.DEVICE_ATTACH_IOMMUFD_PT, bytes);
    return errno !== 0 ? answer(errno) : { errno: 0, code: 'OK', ...decodeAttachOut(bytes) };
  }

  detach(args: DeviceIdArgs, answer: Answer): UapiResult {
    const fd = this.#fds.get(args.devId);
    if (fd === undefined) return answer(ERRNO.EBADF);
    const errno = this.#addon.ioctl(fd, VFIO_CMD.DEVICE_DETACH_IOMMUFD_PT, encodeDetach());
    return errno !== 0 ? answer(errno) : { errno: 0, code: 'OK' };
  }

  /** Closing the device fd unbinds (and detaches) it. */
  unbind(args: DeviceIdArgs, answer: Answer): UapiResult {
    const fd = this.#fds.get(args.devId);
    if (fd === undefined) return answer(ERRNO.EBADF);
    this.#fds.delete(args.devId);
    this.#addon.close(fd);
    return { errno: 0, code: 'OK' };
  }

  /** IOMMU_GET_HW_INFO with no data buffer: OK while `devId` is a device bound to this context. */
  info(args: DeviceIdArgs, answer: Answer): UapiResult {
    const errno = this.#addon.ioctl(this.#iommufd(), IOMMUFD_CMD.GET_HW_INFO, encodeHwInfo(args.devId));
    return errno !== 0 ? answer(errno) : { errno: 0, code: 'OK' };
  }

  /** The open device fds by device id (for a hand-over to a VMM or dataplane). */
  fds(): ReadonlyMap<number, number> {
    return new Map(this.#fds);
  }

  /** Before the iommufd closes: every device fd goes first. */
  closeAll(): void {
    for (const fd of this.#fds.values()) this.#addon.close(fd);
    this.#fds.clear();
  }
}

/**
 * VFIO_DEVICE_GET_INFO on a device fd (e.g. one received in a hand-over): the device's flags and
 * its region and irq counts, or the errno (ENOSYS-like `errno: -1` when the addon is missing).
 * Proof that the fd drives the device.
 */
export function vfioDeviceInfo(fd: number): { readonly errno: 0; readonly info: VfioDeviceInfo } | { readonly errno: number; readonly code: string } {
  const native = loadNative();
  if (!native.ok) return { errno: -1, code: 'ADDON_MISSING' };
  const bytes = encodeDeviceInfo();
  const errno = native.addon.ioctl(fd, VFIO_CMD.DEVICE_GET_INFO, bytes);
  return errno !== 0 ? { errno, code: errnoName(errno) } : { errno: 0, info: decodeDeviceInfo(bytes) };
}
