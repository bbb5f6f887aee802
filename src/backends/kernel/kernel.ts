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
import { loadFastIoctl, loadNative, O_RDWR, type NativeAddon } from './native.js';
import { ARRAY_CAPACITY, ARRAY_OFFSET, ioctlChannel, type IoctlChannel } from './ioctl-channel.js';
import {
  ALLOWED_IOVAS_OFFSET,
  STRUCT_SIZE,
  decodeIovaRangeArray,
  encodeIovaRangeArray,
  readIoasAllocId,
  readIoasCopyDstIova,
  readIoasIovaRangesAlignment,
  readIoasIovaRangesCount,
  readIoasMapIova,
  readIoasUnmapLength,
  readIovaRangeArray,
  readOptionVal64,
  writeDestroy,
  writeIoasAlloc,
  writeIoasAllowIovas,
  writeIoasCopy,
  writeIoasIovaRanges,
  writeIoasMap,
  writeIoasUnmap,
  writeOption,
  writeTestAddReserved,
  type StructView,
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

// Results are built as literals, not by spreading a decoded outputs object: one allocation per
// call instead of two plus a spread (bench/README.md, "Kernel micro-benchmark").
function okEmpty(): Ok {
  return { errno: 0, code: 'OK' };
}

class KernelBackend implements KernelContext {
  #fd: number;
  readonly #addon: NativeAddon;
  // Every call's struct is written into the channel's buffer and its outputs read back from it
  // (ioctl-channel.ts); IOVA_RANGES' array sits in the same buffer.
  readonly #channel: IoctlChannel;
  readonly #view: StructView;
  readonly #devices: KernelDevices;

  constructor(addon: NativeAddon, fd: number) {
    this.#addon = addon;
    this.#fd = fd;
    this.#channel = ioctlChannel(addon, loadFastIoctl());
    this.#view = this.#channel.struct;
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

  destroy(args: DestroyArgs): UapiResult {
    writeDestroy(this.#view, args);
    const errno = this.#channel.call(this.#fd, IOMMUFD_CMD.DESTROY);
    return errno ? failed(errno) : okEmpty();
  }

  ioasAlloc(args: IoasAllocArgs): UapiResult<IoasAllocOut> {
    writeIoasAlloc(this.#view, args);
    const errno = this.#channel.call(this.#fd, IOMMUFD_CMD.IOAS_ALLOC);
    return errno ? failed(errno) : { errno: 0, code: 'OK', outIoasId: readIoasAllocId(this.#view) };
  }

  ioasAllowIovas(args: IoasAllowIovasArgs): UapiResult {
    writeIoasAllowIovas(this.#view, { ioasId: args.ioasId, numIovas: args.ranges.length });
    // With no ranges the kernel never reads the pointer, which stays 0.
    const errno = args.ranges.length === 0
      ? this.#channel.call(this.#fd, IOMMUFD_CMD.IOAS_ALLOW_IOVAS)
      : this.#channel.callWithBuffer(this.#fd, IOMMUFD_CMD.IOAS_ALLOW_IOVAS, ALLOWED_IOVAS_OFFSET, encodeIovaRangeArray(args.ranges));
    return errno ? failed(errno) : okEmpty();
  }

  ioasIovaRanges(args: IoasIovaRangesArgs): IovaRangesResult {
    const capacity = args.numIovas <= MAX_DIRECT_RANGE_CAPACITY ? args.numIovas : this.#trueRangeCount(args);
    if (typeof capacity !== 'number') return capacity;
    const view = this.#view;
    writeIoasIovaRanges(view, { ioasId: args.ioasId, numIovas: capacity });
    // Up to ARRAY_CAPACITY entries land in the channel's own array, more in a fresh one.
    const large = capacity > ARRAY_CAPACITY ? new Uint8Array(capacity * STRUCT_SIZE.iovaRange) : undefined;
    const errno = capacity === 0
      ? this.#channel.call(this.#fd, IOMMUFD_CMD.IOAS_IOVA_RANGES)
      : large === undefined
        ? this.#channel.callWithArray(this.#fd, IOMMUFD_CMD.IOAS_IOVA_RANGES, ALLOWED_IOVAS_OFFSET)
        : this.#channel.callWithBuffer(this.#fd, IOMMUFD_CMD.IOAS_IOVA_RANGES, ALLOWED_IOVAS_OFFSET, large);
    // Only success and EMSGSIZE write the struct and the first `capacity` entries (spec §9).
    if (errno !== 0 && errno !== ERRNO.EMSGSIZE) return failed(errno);
    const numIovas = readIoasIovaRangesCount(view);
    const outIovaAlignment = readIoasIovaRangesAlignment(view);
    const count = Math.min(numIovas, capacity);
    const ranges = large === undefined ? readIovaRangeArray(view, ARRAY_OFFSET, count) : decodeIovaRangeArray(large, count);
    return errno === 0
      ? { errno: 0, code: 'OK', numIovas, ranges, outIovaAlignment }
      : { errno, code: errnoName(errno), numIovas, ranges, outIovaAlignment };
  }

  /**
   * A caller may claim a huge capacity (num_iovas is a u32) that we must not allocate. A
   * capacity at least the true count gives the same answer as the true count itself, so ask the
   * kernel for the count with capacity 0 and use min(claimed, true count).
   */
  #trueRangeCount(args: IoasIovaRangesArgs): number | Failed {
    writeIoasIovaRanges(this.#view, { ioasId: args.ioasId, numIovas: 0 });
    const errno = this.#channel.call(this.#fd, IOMMUFD_CMD.IOAS_IOVA_RANGES);
    if (errno !== 0 && errno !== ERRNO.EMSGSIZE) return failed(errno);
    return Math.min(args.numIovas, readIoasIovaRangesCount(this.#view));
  }

  ioasMap(args: IoasMapArgs): UapiResult<IoasMapOut> {
    writeIoasMap(this.#view, args);
    const errno = this.#channel.call(this.#fd, IOMMUFD_CMD.IOAS_MAP);
    return errno ? failed(errno) : { errno: 0, code: 'OK', iova: readIoasMapIova(this.#view) };
  }

  ioasCopy(args: IoasCopyArgs): UapiResult<IoasCopyOut> {
    writeIoasCopy(this.#view, args);
    const errno = this.#channel.call(this.#fd, IOMMUFD_CMD.IOAS_COPY);
    return errno ? failed(errno) : { errno: 0, code: 'OK', dstIova: readIoasCopyDstIova(this.#view) };
  }

  ioasUnmap(args: IoasUnmapArgs): UapiResult<IoasUnmapOut> {
    writeIoasUnmap(this.#view, args);
    const errno = this.#channel.call(this.#fd, IOMMUFD_CMD.IOAS_UNMAP);
    return errno ? failed(errno) : { errno: 0, code: 'OK', length: readIoasUnmapLength(this.#view) };
  }

  option(args: OptionArgs): UapiResult<OptionOut> {
    writeOption(this.#view, args);
    const errno = this.#channel.call(this.#fd, IOMMUFD_CMD.OPTION);
    return errno ? failed(errno) : { errno: 0, code: 'OK', val64: readOptionVal64(this.#view) };
  }

  testAddReserved(args: { readonly ioasId: number; readonly start: bigint; readonly last: bigint }): UapiResult {
    // The kernel takes a length; last - start + 1 wraps to 0 for the full range, which the kernel
    // rejects (EINVAL) just as it would a zero length.
    const length = BigInt.asUintN(64, args.last - args.start + 1n);
    writeTestAddReserved(this.#view, { ioasId: args.ioasId, start: args.start, length });
    const errno = this.#channel.call(this.#fd, IOMMUFD_CMD.TEST_CMD);
    return errno ? failed(errno) : okEmpty();
  }

  raw(cmd: number, bytes: Uint8Array): RawResult {
    const buffer = Uint8Array.from(bytes);
    const errno = this.#addon.ioctl(this.#fd, cmd, buffer);
    return { errno, code: errnoName(errno), bytes: buffer };
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#devices.closeAll();
    this.#addon.close(this.#fd);
    this.#fd = -1;
  }
}
