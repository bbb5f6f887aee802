// The iommufd IOAS user API as plain TypeScript data: constants from include/uapi/linux/iommufd.h
// (Linux 6.12) and the one contract every uapi-level backend implements (the simulator and the
// kernel backend alike). One method per ioctl; every 64-bit quantity is a bigint; every call
// answers with an errno instead of throwing, exactly as the kernel does.
//
// This module is pure data and types: it imports only types (the device profile), so model/,
// plan/ and backends/ can all depend on it.

import type { DeviceProfile } from './device-profile.js';

/** MAP/COPY flag bits (enum iommufd_ioas_map_flags). */
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1;
export const IOMMU_IOAS_MAP_WRITEABLE = 2;
export const IOMMU_IOAS_MAP_READABLE = 4;

/** IOMMU_OPTION option ids (enum iommufd_option). */
export const IOMMU_OPTION_RLIMIT_MODE = 0;
export const IOMMU_OPTION_HUGE_PAGES = 1;

/** IOMMU_OPTION ops (enum iommufd_option_ops). */
export const IOMMU_OPTION_OP_SET = 0;
export const IOMMU_OPTION_OP_GET = 1;

/** ioctl numbers on x86-64: _IO(';', nr) = 0x3b00 | nr (spec §1.1). */
export const IOMMUFD_CMD = {
  DESTROY: 0x3b80,
  IOAS_ALLOC: 0x3b81,
  IOAS_ALLOW_IOVAS: 0x3b82,
  IOAS_COPY: 0x3b83,
  IOAS_IOVA_RANGES: 0x3b84,
  IOAS_MAP: 0x3b85,
  IOAS_UNMAP: 0x3b86,
  OPTION: 0x3b87,
  VFIO_IOAS: 0x3b88,
  GET_HW_INFO: 0x3b8a,
  TEST_CMD: 0x3ba0,
} as const;

export const U64_MAX = (1n << 64n) - 1n;

/** Linux errno numbers (x86-64, asm-generic) for every errno this API can produce. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  EDEADLK: 35,
  EOVERFLOW: 75,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const ERRNO_BY_NUMBER: ReadonlyMap<number, ErrnoName> = new Map(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([name, n]) => [n, name]),
);

/** The symbolic name of an errno number, or `E<n>` for one this API never produces. */
export function errnoName(errno: number): string {
  if (errno === 0) return 'OK';
  return ERRNO_BY_NUMBER.get(errno) ?? `E${errno}`;
}

/** A successful call: errno 0, code 'OK', plus the ioctl's outputs. */
export type Ok<T extends object = object> = { readonly errno: 0; readonly code: 'OK' } & Readonly<T>;
/** A failed call: the positive errno the kernel returned and its name. */
export interface Failed {
  readonly errno: number;
  readonly code: string;
}
export type UapiResult<T extends object = object> = Ok<T> | Failed;

export function isOk<T extends object>(r: UapiResult<T>): r is Ok<T> {
  return r.errno === 0;
}

export interface IovaRange {
  readonly start: bigint;
  /** Inclusive. */
  readonly last: bigint;
}

export interface DestroyArgs { readonly id: number }
export interface IoasAllocArgs { readonly flags: number }
export interface IoasAllowIovasArgs { readonly ioasId: number; readonly ranges: readonly IovaRange[] }
export interface IoasIovaRangesArgs {
  readonly ioasId: number;
  /** Capacity of the caller's array (the input `num_iovas`). */
  readonly numIovas: number;
}
export interface IoasMapArgs {
  readonly flags: number;
  readonly ioasId: number;
  readonly userVa: bigint;
  readonly length: bigint;
  /** Used when FIXED_IOVA is set; still checked for U64_MAX otherwise (spec §5.1 step 2). */
  readonly iova: bigint;
}
export interface IoasCopyArgs {
  readonly flags: number;
  readonly dstIoasId: number;
  readonly srcIoasId: number;
  readonly length: bigint;
  readonly dstIova: bigint;
  readonly srcIova: bigint;
}
export interface IoasUnmapArgs { readonly ioasId: number; readonly iova: bigint; readonly length: bigint }
export interface OptionArgs {
  readonly optionId: number;
  readonly op: number;
  readonly objectId: number;
  readonly val64: bigint;
}

export interface IoasAllocOut { readonly outIoasId: number }
export interface IoasIovaRangesOut {
  /** The true number of ranges (may exceed the input capacity: then errno is EMSGSIZE). */
  readonly numIovas: number;
  /** At most the input capacity of entries. */
  readonly ranges: readonly IovaRange[];
  readonly outIovaAlignment: bigint;
}
/** IOVA_RANGES is the one call that also reports outputs with an error (EMSGSIZE, spec §9). */
export type IovaRangesResult = Ok<IoasIovaRangesOut> | (Failed & Partial<IoasIovaRangesOut>);
export interface IoasMapOut { readonly iova: bigint }
export interface IoasCopyOut { readonly dstIova: bigint }
export interface IoasUnmapOut { readonly length: bigint }
export interface OptionOut { readonly val64: bigint }

/**
 * VFIO cdev device calls (vfio.h): VFIO_DEVICE_BIND_IOMMUFD binds the device at `path` to this
 * context and yields its device object id; VFIO_DEVICE_ATTACH_IOMMUFD_PT attaches it to an IOAS
 * (the kernel then allocates or reuses an automatic HWPT and answers its id); DETACH undoes that;
 * unbind is closing the device fd. `profile` is only read by the simulator (the device model);
 * the kernel learns the real device's regions itself.
 */
export interface DeviceBindArgs {
  /** The cdev (/dev/vfio/devices/vfioN), or `pci:<address>` for the backend to resolve through sysfs. */
  readonly path: string;
  readonly profile?: DeviceProfile;
}
export interface DeviceBindOut { readonly devId: number }
export interface DeviceAttachArgs { readonly devId: number; readonly ptId: number }
export interface DeviceAttachOut { readonly ptId: number }
export interface DeviceIdArgs { readonly devId: number }

/** A value or a promise of it: the simulator answers synchronously, remote backends may not. */
export type Awaitable<T> = T | Promise<T>;

/**
 * One iommufd context (one open /dev/iommu fd). The same method set for the simulator and the
 * kernel backend, so one contract suite runs on both.
 */
export interface UapiContext {
  destroy(args: DestroyArgs): Awaitable<UapiResult>;
  ioasAlloc(args: IoasAllocArgs): Awaitable<UapiResult<IoasAllocOut>>;
  ioasAllowIovas(args: IoasAllowIovasArgs): Awaitable<UapiResult>;
  ioasIovaRanges(args: IoasIovaRangesArgs): Awaitable<IovaRangesResult>;
  ioasMap(args: IoasMapArgs): Awaitable<UapiResult<IoasMapOut>>;
  ioasCopy(args: IoasCopyArgs): Awaitable<UapiResult<IoasCopyOut>>;
  ioasUnmap(args: IoasUnmapArgs): Awaitable<UapiResult<IoasUnmapOut>>;
  option(args: OptionArgs): Awaitable<UapiResult<OptionOut>>;
  /** Closes the context: every object in it is destroyed (as closing the fd does). */
  close(): Awaitable<void>;
  // Device calls (optional: a backend without them cannot apply layouts with devices).
  deviceBind?(args: DeviceBindArgs): Awaitable<UapiResult<DeviceBindOut>>;
  deviceAttach?(args: DeviceAttachArgs): Awaitable<UapiResult<DeviceAttachOut>>;
  deviceDetach?(args: DeviceIdArgs): Awaitable<UapiResult>;
  deviceUnbind?(args: DeviceIdArgs): Awaitable<UapiResult>;
  /**
   * IOMMU_GET_HW_INFO on a device object id with no data buffer: OK while the device is bound to
   * this context, ENOENT when no device object has that id. Reads nothing else and changes
   * nothing, so the drift check uses it to see whether a recorded device is still bound.
   */
  deviceInfo?(args: DeviceIdArgs): Awaitable<UapiResult>;
}

/** The device methods of UapiContext (not part of UapiMethod: they are optional). */
export type DeviceMethod = 'deviceBind' | 'deviceAttach' | 'deviceDetach' | 'deviceUnbind' | 'deviceInfo';

/** The ioctl methods every backend has (the optional device methods are DeviceMethod). */
export type UapiMethod = Exclude<keyof UapiContext, 'close' | DeviceMethod>;

/**
 * The same contract answered synchronously. Both in-process backends are synchronous (the
 * simulator is plain computation, and ioctls are synchronous system calls), so their contexts
 * extend this rather than restating the method set.
 */
export interface SyncUapiContext extends UapiContext {
  destroy(args: DestroyArgs): UapiResult;
  ioasAlloc(args: IoasAllocArgs): UapiResult<IoasAllocOut>;
  ioasAllowIovas(args: IoasAllowIovasArgs): UapiResult;
  ioasIovaRanges(args: IoasIovaRangesArgs): IovaRangesResult;
  ioasMap(args: IoasMapArgs): UapiResult<IoasMapOut>;
  ioasCopy(args: IoasCopyArgs): UapiResult<IoasCopyOut>;
  ioasUnmap(args: IoasUnmapArgs): UapiResult<IoasUnmapOut>;
  option(args: OptionArgs): UapiResult<OptionOut>;
  close(): void;
}
