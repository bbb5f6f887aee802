// How the kernel backend's structs reach ioctl(2): one reusable buffer with the call's struct at
// offset 0 and, for IOVA_RANGES, its range array at ARRAY_OFFSET, plus the addon entry that runs
// the ioctl on it. An ioctl is synchronous and its outputs are read before the next call starts,
// so one buffer serves every call (and every context) of a Node environment.
//
// Per call, the cheapest crossing measured (bench/README.md, "Kernel micro-benchmark") is the
// addon's own scratch buffer: `ioctlScratch(fd, cmd)` takes two small integers and N-API never
// resolves a typed array. An addon built before that entry existed still works, through
// `ioctl`/`ioctlWithBuffer` on a buffer allocated here (the same bytes reach the kernel).
import type { NativeAddon } from './native.js';
import { STRUCT_SIZE } from './structs.js';

/** Where an IOVA_RANGES answer's array lives in the channel's buffer (after the largest struct). */
export const ARRAY_OFFSET = 128;
/** Range entries that fit the channel's array; larger answers take a buffer of their own. */
export const ARRAY_CAPACITY = 64;
/** The buffer's minimum size; the addon's scratch buffer (SCRATCH_BYTES in iommufd.c) is 2048. */
export const CHANNEL_BYTES = ARRAY_OFFSET + ARRAY_CAPACITY * STRUCT_SIZE.iovaRange;

export interface IoctlChannel {
  /** The buffer: write the struct at offset 0 before `call`, read the outputs after it. */
  readonly view: DataView;
  /** ioctl(fd, cmd, &struct): 0 or errno. */
  call(fd: number, cmd: number): number;
  /** The same after pointing the struct's user pointer at `pointerOffset` to the array at ARRAY_OFFSET. */
  callWithArray(fd: number, cmd: number, pointerOffset: number): number;
  /** The same with the pointer to `data`, an array too large for the channel's own. */
  callWithBuffer(fd: number, cmd: number, pointerOffset: number, data: Uint8Array): number;
}

type ScratchAddon = NativeAddon & Required<Pick<NativeAddon, 'structScratch' | 'ioctlScratch' | 'ioctlScratchArray'>>;

function hasScratch(addon: NativeAddon): addon is ScratchAddon {
  return typeof addon.structScratch === 'function' && typeof addon.ioctlScratch === 'function' && typeof addon.ioctlScratchArray === 'function';
}

/** The addon's scratch buffer, passed by address inside the addon. */
class ScratchChannel implements IoctlChannel {
  readonly view: DataView;
  readonly #addon: ScratchAddon;
  readonly #bytes: Uint8Array;

  constructor(addon: ScratchAddon, buffer: ArrayBuffer) {
    this.#addon = addon;
    this.view = new DataView(buffer);
    this.#bytes = new Uint8Array(buffer);
  }

  call(fd: number, cmd: number): number {
    return this.#addon.ioctlScratch(fd, cmd);
  }

  callWithArray(fd: number, cmd: number, pointerOffset: number): number {
    return this.#addon.ioctlScratchArray(fd, cmd, pointerOffset, ARRAY_OFFSET);
  }

  callWithBuffer(fd: number, cmd: number, pointerOffset: number, data: Uint8Array): number {
    return this.#addon.ioctlWithBuffer(fd, cmd, this.#bytes, pointerOffset, data);
  }
}

/** A buffer of our own, passed as a typed array on each call (addons without the scratch entries). */
class TypedArrayChannel implements IoctlChannel {
  readonly view: DataView;
  readonly #addon: NativeAddon;
  readonly #bytes: Uint8Array;
  readonly #array: Uint8Array;

  constructor(addon: NativeAddon) {
    const buffer = new ArrayBuffer(CHANNEL_BYTES);
    this.#addon = addon;
    this.view = new DataView(buffer);
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

/** The channel for `addon`: its scratch buffer when it has one of at least CHANNEL_BYTES, else a buffer of our own. */
export function ioctlChannel(addon: NativeAddon): IoctlChannel {
  if (hasScratch(addon)) {
    const buffer = addon.structScratch();
    if (buffer.byteLength >= CHANNEL_BYTES) return new ScratchChannel(addon, buffer);
  }
  return new TypedArrayChannel(addon);
}
