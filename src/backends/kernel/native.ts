// The one place that loads the native addon (build/Release/iommufd.node, built by the package's
// install script from src/backends/kernel/native/iommufd.c) and gives it types. It is loaded
// lazily, on first use, so that everything else in the package works where it was not built.
//
// The addon is deliberately thin: every call answers with errno numbers (positive, or negative
// where the call otherwise returns a count or an fd), never with strings or exceptions.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type MemoryKind = 'anonymous' | 'memfd' | 'hugetlb' | 'file';

export interface MapMemoryOptions {
  readonly kind: MemoryKind;
  readonly size: bigint;
  /** Alignment of the returned address (a power of two); defaults to the page size. */
  readonly align?: bigint;
  /** For 'hugetlb': the huge page size (e.g. 2 MiB); defaults to the system's default. */
  readonly hugePageSize?: bigint;
  /** For 'file': the backing file (created 0600 when missing, grown to `size`). */
  readonly path?: string;
  /**
   * Map exactly at this page-aligned address (MAP_FIXED_NOREPLACE), or fail with EEXIST when
   * something is mapped there; `align` is then ignored. An addon built before this option
   * existed ignores it and maps at an `align`-aligned address instead (check the result).
   */
  readonly at?: bigint;
}

export type MappedMemory = { readonly errno: 0; readonly addr: bigint; readonly fd: number } | { readonly errno: number };
export type Received = { readonly errno: 0; readonly bytes: number; readonly fds: number[]; readonly controlTruncated: boolean } | { readonly errno: number };
export type PeerCred = { readonly errno: 0; readonly pid: number; readonly uid: number; readonly gid: number } | { readonly errno: number };

export interface NativeAddon {
  /** open(2) with O_CLOEXEC added: the fd, or -errno. */
  open(path: string, flags: number): number;
  /** close(2): 0 or errno. */
  close(fd: number): number;
  /** ioctl(2) on the bytes of `arg`, read and written in place: 0 or errno. */
  ioctl(fd: number, cmd: number, arg: Uint8Array): number;
  /** ioctl(2) after writing the address of `data` (u64 LE, 0 when empty) at `pointerOffset` of `arg`. */
  ioctlWithBuffer(fd: number, cmd: number, arg: Uint8Array, pointerOffset: number, data: Uint8Array): number;
  /**
   * The environment's scratch buffer (SCRATCH_BYTES, the same ArrayBuffer on every call): the
   * kernel backend's structs are written into it and ioctlScratch* pass its address, so no typed
   * array is resolved per call. Optional: an addon built before these existed lacks all three,
   * and the backend then uses `ioctl`/`ioctlWithBuffer` on a buffer of its own (ioctl-channel.ts).
   */
  structScratch?(): ArrayBuffer;
  /** ioctl(2) on the scratch buffer's first byte: 0 or errno. */
  ioctlScratch?(fd: number, cmd: number): number;
  /** ioctl(2) after writing the address of scratch + arrayOffset (u64 LE) at pointerOffset of the scratch buffer. */
  ioctlScratchArray?(fd: number, cmd: number, pointerOffset: number, arrayOffset: number): number;
  mapMemory(options: MapMemoryOptions): MappedMemory;
  /** munmap(2): 0 or errno. */
  unmapMemory(addr: bigint, size: bigint): number;
  /** socketpair(AF_UNIX, SOCK_STREAM). */
  socketPair(): { readonly errno: 0; readonly fds: [number, number] } | { readonly errno: number };
  /** sendmsg(2) with SCM_RIGHTS: bytes sent, or -errno. `payload` must not be empty. */
  sendFds(socketFd: number, fds: readonly number[], payload: Uint8Array): number;
  /** recvmsg(2) into `buffer`, collecting SCM_RIGHTS fds (close-on-exec). */
  recvFds(socketFd: number, buffer: Uint8Array): Received;
  /** getsockopt(SO_PEERCRED). */
  peerCred(socketFd: number): PeerCred;
}

/** open(2) flags used by the backend (Linux, all architectures this runs on). */
export const O_RDWR = 2;

export type NativeLoad = { readonly ok: true; readonly addon: NativeAddon } | { readonly ok: false; readonly reason: string };

let cached: NativeLoad | undefined;

/** Where the addon is expected: `<package root>/build/Release/iommufd.node`. */
export function addonPath(): string {
  // This file is src/backends/kernel/native.ts or dist/backends/kernel/native.js: both sit three
  // levels below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', 'build', 'Release', 'iommufd.node');
}

/** Loads the addon once; later calls return the same answer. */
export function loadNative(): NativeLoad {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

function tryLoad(): NativeLoad {
  if (process.platform !== 'linux') return { ok: false, reason: `iommufd exists only on Linux (this is ${process.platform})` };
  const path = addonPath();
  if (!existsSync(path)) {
    return { ok: false, reason: `the native addon was not built (${path} is missing; run \`npm rebuild ioasform\` or \`npm run install\` with a C compiler present)` };
  }
  try {
    const require = createRequire(import.meta.url);
    return { ok: true, addon: require(path) as NativeAddon };
  } catch (error) {
    return { ok: false, reason: `the native addon at ${path} could not be loaded: ${(error as Error).message}` };
  }
}

/**
 * The optional fast-call addon (build/Release/iommufd_fast.node, from native/fast-ioctl.cc): the
 * scratch entries of NativeAddon on a buffer of its own, as V8 fast API calls, so optimized code
 * reaches ioctl(2) without an N-API crossing. Built only against Node 20's V8 (11.3).
 */
export interface FastIoctlAddon {
  structScratch(): ArrayBuffer;
  ioctlScratch(fd: number, cmd: number): number;
  ioctlScratchArray(fd: number, cmd: number, pointerOffset: number, arrayOffset: number): number;
  /** Calls that ran the slow callbacks (not the fast C functions) in this thread, for tests. */
  slowCalls(): number;
}

let fastCached: { readonly addon: FastIoctlAddon | undefined } | undefined;

/** Where the fast-call addon is expected: next to iommufd.node. */
export function fastAddonPath(): string {
  return resolve(dirname(addonPath()), 'iommufd_fast.node');
}

/**
 * Loads the fast-call addon once, or answers undefined: not built (another Node, no C++
 * compiler), not loadable, lacking an entry, or turned off with IOASFORM_FAST_IOCTL=0. The
 * kernel backend then uses the main addon's N-API entries, with the same bytes reaching the kernel.
 */
export function loadFastIoctl(): FastIoctlAddon | undefined {
  if (fastCached) return fastCached.addon;
  fastCached = { addon: tryLoadFast() };
  return fastCached.addon;
}

function tryLoadFast(): FastIoctlAddon | undefined {
  if (process.platform !== 'linux' || process.env['IOASFORM_FAST_IOCTL'] === '0') return undefined;
  const path = fastAddonPath();
  if (!existsSync(path)) return undefined;
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<FastIoctlAddon>;
    const complete =
      typeof addon.structScratch === 'function' &&
      typeof addon.ioctlScratch === 'function' &&
      typeof addon.ioctlScratchArray === 'function' &&
      typeof addon.slowCalls === 'function';
    return complete ? (addon as FastIoctlAddon) : undefined;
  } catch {
    return undefined;
  }
}
