// How the kernel backend's structs reach ioctl(2): one reusable buffer with the call's struct at
// offset 0 and, for IOVA_RANGES, its range array at ARRAY_OFFSET, plus the addon entry that runs
// the ioctl on it. An ioctl is synchronous and its outputs are read before the next call starts,
// so one buffer serves every call (and every context) of a Node environment.
//
// Per call, the cheapest crossing measured (bench/README.md, "Kernel micro-benchmark") is a
// scratch buffer owned by native code: `ioctlScratch(fd, cmd)` takes two small integers and no
// typed array is resolved. The fast-call addon (native/fast-ioctl.cc) has these entries as V8
// fast API calls, which optimized code reaches without an N-API crossing; without it the main
// addon's N-API scratch entries serve. An addon built before those existed still works, through
// `ioctl`/`ioctlWithBuffer` on a buffer allocated here. Every path hands the kernel the same bytes.
import type { FastIoctlAddon, NativeAddon } from './native.js';
import { STRUCT_SIZE, structView, type StructView } from './structs.js';

/** Where an IOVA_RANGES answer's array lives in the channel's buffer (after the largest struct). */
export const ARRAY_OFFSET = 128;
/** Range entries that fit the channel's array; larger answers take a buffer of their own. */
export const ARRAY_CAPACITY = 64;
/** The buffer's minimum size; the addon's scratch buffer (SCRATCH_BYTES in iommufd.c) is 2048. */
export const CHANNEL_BYTES = ARRAY_OFFSET + ARRAY_CAPACITY * STRUCT_SIZE.iovaRange;

export interface IoctlChannel {
  /** The buffer: write the struct at offset 0 before `call`, read the outputs after it. */
  readonly struct: StructView;
  /** ioctl(fd, cmd, &struct): 0 or errno. */
  call(fd: number, cmd: number): number;
  /** The same after pointing the struct's user pointer at `pointerOffset` to the array at ARRAY_OFFSET. */
  callWithArray(fd: number, cmd: number, pointerOffset: number): number;
  /** The same with the pointer to `data`, an array too large for the channel's own. */
  callWithBuffer(fd: number, cmd: number, pointerOffset: number, data: Uint8Array): number;
}

/** A native scratch buffer and the entries that run an ioctl on it by address. */
type ScratchEntries = Pick<FastIoctlAddon, 'structScratch' | 'ioctlScratch' | 'ioctlScratchArray'>;

function hasScratch(addon: NativeAddon): addon is NativeAddon & ScratchEntries {
  return typeof addon.structScratch === 'function' && typeof addon.ioctlScratch === 'function' && typeof addon.ioctlScratchArray === 'function';
}

/** A native scratch buffer, passed by address inside native code. */
class ScratchChannel implements IoctlChannel {
  readonly struct: StructView;
  readonly #entries: ScratchEntries;
  readonly #addon: NativeAddon;
  readonly #bytes: Uint8Array;

  /** `entries` own `buffer`; `addon` runs the rare call whose array does not fit the buffer. */
  constructor(entries: ScratchEntries, addon: NativeAddon, buffer: ArrayBuffer) {
    this.#entries = entries;
    this.#addon = addon;
    this.struct = structView(buffer);
    this.#bytes = new Uint8Array(buffer);
  }

  call(fd: number, cmd: number): number {
    return this.#entries.ioctlScratch(fd, cmd);
  }

  callWithArray(fd: number, cmd: number, pointerOffset: number): number {
    return this.#entries.ioctlScratchArray(fd, cmd, pointerOffset, ARRAY_OFFSET);
  }

  callWithBuffer(fd: number, cmd: number, pointerOffset: number, data: Uint8Array): number {
    return this.#addon.ioctlWithBuffer(fd, cmd, this.#bytes, pointerOffset, data);
  }
}

/** A buffer of our own, passed as a typed array on each call (addons without the scratch entries). */
class TypedArrayChannel implements IoctlChannel {
  readonly struct: StructView;
  readonly #addon: NativeAddon;
  readonly #bytes: Uint8Array;
  readonly #array: Uint8Array;

  constructor(addon: NativeAddon) {
    const buffer = new ArrayBuffer(CHANNEL_BYTES);
    this.#addon = addon;
    this.struct = structView(buffer);
    this.#bytes = new Uint8Array(buffer);
    this.#array = this.#bytes.subarray(ARRAY_OFFSET);
  }

  call(fd: number, cmd: number): number {
    // The kernel reads the struct's own `size` bytes, whatever the typed array's length.
    return this.#addon.ioctl(fd, cmd, this.#bytes);
  }

  callWithArray(fd: number, cmd: number, pointerOffset: number): number {
    return this.#addon.ioctlWithBuffer(fd, cmd, this.#bytes, pointerOffset, this.#array);
  }

  callWithBuffer(fd: number, cmd: number, pointerOffset: number, data: Uint8Array): number {
    return this.#addon.ioctlWithBuffer(fd, cmd, this.#bytes, pointerOffset, data);
  }
}

/**
 * The channel for `addon`: the fast-call addon's scratch buffer when one is given, else the
 * addon's own scratch buffer, each only when it holds at least CHANNEL_BYTES; else a buffer of
 * our own passed as a typed array.
 */
export function ioctlChannel(addon: NativeAddon, fast?: FastIoctlAddon): IoctlChannel {
  for (const entries of [fast, hasScratch(addon) ? addon : undefined]) {
    if (entries === undefined) continue;
    const buffer = entries.structScratch();
    if (buffer.byteLength >= CHANNEL_BYTES) return new ScratchChannel(entries, addon, buffer);
  }
  return new TypedArrayChannel(addon);
}
