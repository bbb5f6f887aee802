// The real-kernel backend: one open /dev/iommu fd behind the same UapiContext interface as the
// simulator, so one contract suite runs on both. Each method encodes its struct (structs.ts),
// runs the ioctl through the native addon (native.ts) and decodes the outputs; errors are the
// kernel's errno as a value, exactly like the simulator's results.
import {
  ERRNO,
  IOMMUFD_CMD,
  errnoName,
  type DestroyArgs,
  type DeviceAttachArgs,
  type DeviceAttachOut,
  type DeviceBindArgs,
  type DeviceBindOut,
  type DeviceIdArgs,
  type Failed,
  type IoasAllocArgs,
  type IoasAllocOut,
  type IoasAllowIovasArgs,
  type IoasCopyArgs,
  type IoasCopyOut,
  type IoasIovaRangesArgs,
  type IoasMapArgs,
  type IoasMapOut,
  type IoasUnmapArgs,
  type IoasUnmapOut,
  type IovaRangesResult,
  type Ok,
  type OptionArgs,
  type OptionOut,
  type SyncUapiContext,
  type UapiResult,
} from '../../model/uapi.js';
import { KernelDevices } from './devices.js';
import { loadNative, O_RDWR, type NativeAddon } from './native.js';
import {
  ALLOWED_IOVAS_OFFSET,
  STRUCT_SCRATCH_SIZE,
  STRUCT_SIZE,
  StructScratch,
  decodeIoasAllocOut,
  decodeIoasCopyOut,
  decodeIoasIovaRangesOut,
  decodeIoasMapOut,
  decodeIoasUnmapOut,
  decodeIovaRangeArray,
  decodeOptionOut,
  encodeDestroy,
  encodeIoasAlloc,
  encodeIoasAllowIovas,
  encodeIoasCopy,
  encodeIoasIovaRanges,
  encodeIoasMap,
  encodeIoasUnmap,
  encodeIovaRangeArray,
  encodeOption,
  encodeTestAddReserved,
} from './structs.js';

export const DEFAULT_IOMMUFD_PATH = '/dev/iommu';

export interface KernelOptions {
  /** The iommufd device node; default /dev/iommu. */
  readonly path?: string;
  /** An iommufd fd already open (e.g. received from the agent's handover); used instead of opening `path`. */
  readonly fd?: number;
}

/** The outcome of a raw ioctl: the errno and the struct bytes as the kernel left them. */
export interface RawResult {
  readonly errno: number;
  readonly code: string;
  readonly bytes: Uint8Array;
}

/** A UapiContext whose calls answer synchronously (ioctls are synchronous system calls). */
export interface KernelContext extends SyncUapiContext {
  /**
   * IOMMU_TEST_CMD / IOMMU_TEST_OP_ADD_RESERVED with an inclusive range (the simulator's
   * `testAddReserved` shape). Only CONFIG_IOMMUFD_TEST kernels have it; others answer ENOTTY.
   */
  testAddReserved(args: { readonly ioasId: number; readonly start: bigint; readonly last: bigint }): UapiResult;
  /** The open iommufd file descriptor (-1 after close). */
  readonly fd: number;
  deviceBind(args: DeviceBindArgs): UapiResult<DeviceBindOut>;
  deviceAttach(args: DeviceAttachArgs): UapiResult<DeviceAttachOut>;
  deviceDetach(args: DeviceIdArgs): UapiResult;
  deviceUnbind(args: DeviceIdArgs): UapiResult;
  deviceInfo(args: DeviceIdArgs): UapiResult;
  /** The open VFIO device fds of the devices bound through this context, by device object id. */
  deviceFds(): ReadonlyMap<number, number>;
  /**
   * Sends `bytes` as the ioctl argument of `cmd` unchanged, whatever its size: the way to
   * exercise the generic size rules (EINVAL short, E2BIG non-zero tail, ENOTTY unknown cmd).
   * The input is copied; the returned bytes are the buffer after the call.
   */
  raw(cmd: number, bytes: Uint8Array): RawResult;
}

export type KernelUnavailableCode = 'UNSUPPORTED_PLATFORM' | 'ADDON_MISSING' | 'NO_DEVICE' | 'PERMISSION' | 'OPEN_FAILED';

/** openKernel could not give a context; `code` says why, the message says what to do. */
export class KernelUnavailableError extends Error {
  readonly code: KernelUnavailableCode;
  constructor(code: KernelUnavailableCode, message: string) {
    super(message);
    this.name = 'KernelUnavailableError';
    this.code = code;
  }
}

/**
 * Opens a fresh iommufd context on the running kernel. Throws KernelUnavailableError when the
 * native addon is missing or the device cannot be opened; every later failure is an errno value.
 */
export function openKernel(options: KernelOptions = {}): KernelContext {
  const path = options.path ?? DEFAULT_IOMMUFD_PATH;
  const loaded = loadNative();
  if (!loaded.ok) {
    const code = process.platform === 'linux' ? 'ADDON_MISSING' : 'UNSUPPORTED_PLATFORM';
    throw new KernelUnavailableError(code, `The kernel backend is unavailable: ${loaded.reason}. The simulator backend works without it.`);
  }
  if (options.fd !== undefined) return new KernelBackend(loaded.addon, options.fd);
  const fd = loaded.addon.open(path, O_RDWR);
  if (fd < 0) throw openError(path, -fd);
  return new KernelBackend(loaded.addon, fd);
}

function openError(path: string, errno: number): KernelUnavailableError {
  const name = errnoName(errno);
  if (errno === ERRNO.ENOENT || errno === ERRNO.ENODEV || errno === 6 /* ENXIO */) {
    return new KernelUnavailableError(
      'NO_DEVICE',
      `Cannot open ${path} (${name}): this kernel has no iommufd (CONFIG_IOMMUFD), or the module is not loaded (try \`modprobe iommufd\`).`,
    );
  }
  if (errno === ERRNO.EACCES || errno === ERRNO.EPERM) {
    return new KernelUnavailableError(
      'PERMISSION',
      `Cannot open ${path} (${name}): the device is root-only by default (mode 0660); run as root or grant access to the device node.`,
    );
  }
  return new KernelUnavailableError('OPEN_FAILED', `Cannot open ${path} (${name}).`);
}

/** Above this many entries, IOVA_RANGES first asks the kernel for the true count (see below). */
const MAX_DIRECT_RANGE_CAPACITY = 65536;

function failed(errno: number): Failed {
  return { errno, code: errnoName(errno) };
}

function ok<T extends object>(outputs: T): Ok<T> {
  return { errno: 0, code: 'OK', ...outputs } as Ok<T>;
}

/** IOVA_RANGES answers with up to this many ranges use the reusable array buffer. */
const SCRATCH_RANGES = 64;

class KernelBackend implements KernelContext {
  #fd: number;
  readonly #addon: NativeAddon;
  // Every call's struct, and IOVA_RANGES' array, are written into these instead of fresh
  // buffers: safe because each ioctl is synchronous and decoded before the next call.
  readonly #scratch = new StructScratch(STRUCT_SCRATCH_SIZE);
  readonly #rangeScratch = new StructScratch(SCRATCH_RANGES * STRUCT_SIZE.iovaRange);
  readonly #devices: KernelDevices;

  constructor(addon: NativeAddon, fd: number) {
    this.#addon = addon;
    this.#fd = fd;
    this.#devices = new KernelDevices(addon, () => this.#fd);
  }

  // VFIO cdev devices (devices.ts): bind to this context, attach/detach, unbind = close.
  deviceBind(args: DeviceBindArgs): UapiResult<DeviceBindOut> {
    return this.#fd < 0 ? failed(ERRNO.EBADF) : this.#devices.bind(args, failed);
  }

  deviceAttach(args: DeviceAttachArgs): UapiResult<DeviceAttachOut> {
    return this.#fd < 0 ? failed(ERRNO.EBADF) : this.#devices.attach(args, failed);
  }

  deviceDetach(args: DeviceIdArgs): UapiResult {
    return this.#fd < 0 ? failed(ERRNO.EBADF) : this.#devices.detach(args, failed);
  }

  deviceUnbind(args: DeviceIdArgs): UapiResult {
    return this.#fd < 0 ? failed(ERRNO.EBADF) : this.#devices.unbind(args, failed);
  }

  deviceInfo(args: DeviceIdArgs): UapiResult {
    return this.#fd < 0 ? failed(ERRNO.EBADF) : this.#devices.info(args, failed);
  }

  deviceFds(): ReadonlyMap<number, number> {
    return this.#fd < 0 ? new Map() : this.#devices.fds();
  }

  get fd(): number {
    return this.#fd;
  }

  #ioctl(cmd: number, bytes: Uint8Array): number {
    return this.#addon.ioctl(this.#fd, cmd, bytes);
  }

  destroy(args: DestroyArgs): UapiResult {
    const errno = this.#ioctl(IOMMUFD_CMD.DESTROY, encodeDestroy(args, this.#scratch));
    return errno ? failed(errno) : ok({});
  }

  ioasAlloc(args: IoasAllocArgs): UapiResult<IoasAllocOut> {
    const bytes = encodeIoasAlloc(args, this.#scratch);
    const errno = this.#ioctl(IOMMUFD_CMD.IOAS_ALLOC, bytes);
    return errno ? failed(errno) : ok(decodeIoasAllocOut(bytes));
  }

  ioasAllowIovas(args: IoasAllowIovasArgs): UapiResult {
    const bytes = encodeIoasAllowIovas({ ioasId: args.ioasId, numIovas: args.ranges.length }, this.#scratch);
    // With no ranges the kernel never reads the pointer, which stays 0.
    const errno = args.ranges.length === 0
      ? this.#ioctl(IOMMUFD_CMD.IOAS_ALLOW_IOVAS, bytes)
      : this.#addon.ioctlWithBuffer(this.#fd, IOMMUFD_CMD.IOAS_ALLOW_IOVAS, bytes, ALLOWED_IOVAS_OFFSET, encodeIovaRangeArray(args.ranges));
    return errno ? failed(errno) : ok({});
  }

  ioasIovaRanges(args: IoasIovaRangesArgs): IovaRangesResult {
    const capacity = args.numIovas <= MAX_DIRECT_RANGE_CAPACITY ? args.numIovas : this.#trueRangeCount(args);
    if (typeof capacity !== 'number') return capacity;
    const bytes = encodeIoasIovaRanges({ ioasId: args.ioasId, numIovas: capacity }, this.#scratch);
    const arrayBytes = capacity * STRUCT_SIZE.iovaRange;
    const array = capacity <= SCRATCH_RANGES ? this.#rangeScratch.take(arrayBytes).bytes : new Uint8Array(arrayBytes);
    const errno = capacity === 0
      ? this.#ioctl(IOMMUFD_CMD.IOAS_IOVA_RANGES, bytes)
      : this.#addon.ioctlWithBuffer(this.#fd, IOMMUFD_CMD.IOAS_IOVA_RANGES, bytes, ALLOWED_IOVAS_OFFSET, array);
    // Only success and EMSGSIZE write the struct and the first `capacity` entries (spec §9).
    if (errno !== 0 && errno !== ERRNO.EMSGSIZE) return failed(errno);
    const out = decodeIoasIovaRangesOut(bytes);
    const ranges = decodeIovaRangeArray(array, Math.min(out.numIovas, capacity));
    const outputs = { numIovas: out.numIovas, ranges, outIovaAlignment: out.outIovaAlignment };
    return errno === 0 ? ok(outputs) : { ...failed(errno), ...outputs };
  }

  /**
   * A caller may claim a huge capacity (num_iovas is a u32) that we must not allocate. A
   * capacity at least the true count gives the same answer as the true count itself, so ask the
   * kernel for the count with capacity 0 and use min(claimed, true count).
   */
  #trueRangeCount(args: IoasIovaRangesArgs): number | Failed {
    const probe = encodeIoasIovaRanges({ ioasId: args.ioasId, numIovas: 0 }, this.#scratch);
    const errno = this.#ioctl(IOMMUFD_CMD.IOAS_IOVA_RANGES, probe);
    if (errno !== 0 && errno !== ERRNO.EMSGSIZE) return failed(errno);
    return Math.min(args.numIovas, decodeIoasIovaRangesOut(probe).numIovas);
  }

  ioasMap(args: IoasMapArgs): UapiResult<IoasMapOut> {
    const bytes = encodeIoasMap(args, this.#scratch);
    const errno = this.#ioctl(IOMMUFD_CMD.IOAS_MAP, bytes);
    return errno ? failed(errno) : ok(decodeIoasMapOut(bytes));
  }

  ioasCopy(args: IoasCopyArgs): UapiResult<IoasCopyOut> {
    const bytes = encodeIoasCopy(args, this.#scratch);
    const errno = this.#ioctl(IOMMUFD_CMD.IOAS_COPY, bytes);
    return errno ? failed(errno) : ok(decodeIoasCopyOut(bytes));
  }

  ioasUnmap(args: IoasUnmapArgs): UapiResult<IoasUnmapOut> {
    const bytes = encodeIoasUnmap(args, this.#scratch);
    const errno = this.#ioctl(IOMMUFD_CMD.IOAS_UNMAP, bytes);
    return errno ? failed(errno) : ok(decodeIoasUnmapOut(bytes));
  }

  option(args: OptionArgs): UapiResult<OptionOut> {
    const bytes = encodeOption(args, this.#scratch);
    const errno = this.#ioctl(IOMMUFD_CMD.OPTION, bytes);
    return errno ? failed(errno) : ok(decodeOptionOut(bytes));
  }

  testAddReserved(args: { readonly ioasId: number; readonly start: bigint; readonly last: bigint }): UapiResult {
    // The kernel takes a length; last - start + 1 wraps to 0 for the full range, which the kernel
    // rejects (EINVAL) just as it would a zero length.
    const length = BigInt.asUintN(64, args.last - args.start + 1n);
    const errno = this.#ioctl(IOMMUFD_CMD.TEST_CMD, encodeTestAddReserved({ ioasId: args.ioasId, start: args.start, length }, this.#scratch));
    return errno ? failed(errno) : ok({});
  }

  raw(cmd: number, bytes: Uint8Array): RawResult {
    const buffer = Uint8Array.from(bytes);
    const errno = this.#ioctl(cmd, buffer);
    return { errno, code: errnoName(errno), bytes: buffer };
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#devices.closeAll();
    this.#addon.close(this.#fd);
    this.#fd = -1;
  }
}
