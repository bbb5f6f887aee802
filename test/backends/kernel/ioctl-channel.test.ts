// The kernel backend's ioctl channel (src/backends/kernel/ioctl-channel.ts) and the addon's
// scratch entries behind it. No /dev/iommu here: /dev/null answers every ioctl with ENOTTY and
// fd -1 with EBADF, which is enough to see which bytes and pointers reach the system call; the
// real ioctls run in the QEMU suite (contract and differential tests through openKernel).
import { closeSync, openSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ARRAY_OFFSET, CHANNEL_BYTES, ioctlChannel } from '../../../src/backends/kernel/ioctl-channel.js';
import { openKernel } from '../../../src/backends/kernel/kernel.js';
import { loadFastIoctl, loadNative, type FastIoctlAddon, type NativeAddon } from '../../../src/backends/kernel/native.js';

const ENOTTY = 25;
const EBADF = 9;
const EINVAL = 22;
const IOAS_MAP = 0x3b85;
const IOAS_IOVA_RANGES = 0x3b84;

/** An addon whose ioctl entries record what they were given; the rest is never called here. */
function recordingAddon(withScratch: boolean) {
  const calls: { entry: string; fd: number; cmd: number; arg?: Uint8Array; pointerOffset?: number; data?: Uint8Array; arrayOffset?: number }[] = [];
  const scratch = new ArrayBuffer(2048);
  const addon = {
    ioctl: (fd: number, cmd: number, arg: Uint8Array) => (calls.push({ entry: 'ioctl', fd, cmd, arg }), 0),
    ioctlWithBuffer: (fd: number, cmd: number, arg: Uint8Array, pointerOffset: number, data: Uint8Array) =>
      (calls.push({ entry: 'ioctlWithBuffer', fd, cmd, arg, pointerOffset, data }), 0),
    ...(withScratch
      ? {
          structScratch: () => scratch,
          ioctlScratch: (fd: number, cmd: number) => (calls.push({ entry: 'ioctlScratch', fd, cmd }), 0),
          ioctlScratchArray: (fd: number, cmd: number, pointerOffset: number, arrayOffset: number) =>
            (calls.push({ entry: 'ioctlScratchArray', fd, cmd, pointerOffset, arrayOffset }), 0),
        }
      : {}),
  } as unknown as NativeAddon;
  return { addon, calls, scratch };
}

describe('ioctlChannel', () => {
  it('uses the addon scratch buffer and its two-integer entries when the addon has them', () => {
    const { addon, calls, scratch } = recordingAddon(true);
    const channel = ioctlChannel(addon);
    expect(channel.struct.view.buffer).toBe(scratch);
    channel.call(3, IOAS_MAP);
    channel.callWithArray(3, IOAS_IOVA_RANGES, 16);
    expect(calls).toEqual([
      { entry: 'ioctlScratch', fd: 3, cmd: IOAS_MAP },
      { entry: 'ioctlScratchArray', fd: 3, cmd: IOAS_IOVA_RANGES, pointerOffset: 16, arrayOffset: ARRAY_OFFSET },
    ]);
  });

  it('falls back to ioctl/ioctlWithBuffer on a buffer of its own for an addon built before the scratch entries', () => {
    const { addon, calls } = recordingAddon(false);
    const channel = ioctlChannel(addon);
    expect(channel.struct.view.byteLength).toBeGreaterThanOrEqual(CHANNEL_BYTES);
    channel.struct.view.setUint32(0, 40, true);
    channel.call(3, IOAS_MAP);
    channel.callWithArray(3, IOAS_IOVA_RANGES, 16);
    const [plain, withArray] = calls;
    // The struct the kernel sees is the view's buffer from offset 0...
    expect(plain?.entry).toBe('ioctl');
    expect(plain?.arg?.buffer).toBe(channel.struct.view.buffer);
    expect(plain?.arg?.byteOffset).toBe(0);
    // ...and the array is the same buffer from ARRAY_OFFSET.
    expect(withArray?.entry).toBe('ioctlWithBuffer');
    expect(withArray?.pointerOffset).toBe(16);
    expect(withArray?.data?.buffer).toBe(channel.struct.view.buffer);
    expect(withArray?.data?.byteOffset).toBe(ARRAY_OFFSET);
  });

  it('prefers the fast-call addon: its buffer and entries, the main addon only for an oversized array', () => {
    const { addon, calls } = recordingAddon(true);
    const fastBuffer = new ArrayBuffer(2048);
    const fast: FastIoctlAddon = {
      structScratch: () => fastBuffer,
      ioctlScratch: (fd, cmd) => (calls.push({ entry: 'fast.ioctlScratch', fd, cmd }), 0),
      ioctlScratchArray: (fd, cmd, pointerOffset, arrayOffset) => (calls.push({ entry: 'fast.ioctlScratchArray', fd, cmd, pointerOffset, arrayOffset }), 0),
      slowCalls: () => 0,
    };
    const channel = ioctlChannel(addon, fast);
    expect(channel.struct.view.buffer).toBe(fastBuffer);
    channel.call(3, IOAS_MAP);
    channel.callWithArray(3, IOAS_IOVA_RANGES, 16);
    const big = new Uint8Array(4096);
    channel.callWithBuffer(3, IOAS_IOVA_RANGES, 16, big);
    expect(calls.map((c) => c.entry)).toEqual(['fast.ioctlScratch', 'fast.ioctlScratchArray', 'ioctlWithBuffer']);
    expect(calls[1]).toMatchObject({ pointerOffset: 16, arrayOffset: ARRAY_OFFSET });
    // The oversized call still carries the struct written into the fast buffer.
    expect(calls[2]?.arg?.buffer).toBe(fastBuffer);
    expect(calls[2]?.data).toBe(big);
  });

  it('does not take a fast-call buffer smaller than the channel needs: the addon scratch serves', () => {
    const { addon, calls, scratch } = recordingAddon(true);
    const fast = { structScratch: () => new ArrayBuffer(64), ioctlScratch: () => -1, ioctlScratchArray: () => -1, slowCalls: () => 0 };
    const channel = ioctlChannel(addon, fast);
    expect(channel.struct.view.buffer).toBe(scratch);
    channel.call(3, IOAS_MAP);
    expect(calls.map((c) => c.entry)).toEqual(['ioctlScratch']);
  });

  it('does not take an addon scratch buffer smaller than the channel needs', () => {
    const { addon, calls } = recordingAddon(true);
    const small = { ...addon, structScratch: () => new ArrayBuffer(64) } as NativeAddon;
    ioctlChannel(small).call(3, IOAS_MAP);
    expect(calls.map((c) => c.entry)).toEqual(['ioctl']);
  });
});

const loaded = loadNative();
const describeNative = loaded.ok ? describe : describe.skip;

describeNative(`addon scratch entries${loaded.ok ? '' : ` (skipped: ${loaded.reason})`}`, () => {
  const addon = loaded.ok ? loaded.addon : (undefined as never);
  const devNull = openSync('/dev/null', 'r');
  afterAll(() => closeSync(devNull));

  it('structScratch gives the same buffer every time, large enough for the channel', () => {
    const buffer = addon.structScratch!();
    expect(buffer).toBe(addon.structScratch!());
    expect(buffer.byteLength).toBeGreaterThanOrEqual(CHANNEL_BYTES);
  });

  it('ioctlScratch reaches the system call and answers its errno as a number', () => {
    expect(addon.ioctlScratch!(devNull, IOAS_MAP)).toBe(ENOTTY);
    expect(addon.ioctlScratch!(-1, IOAS_MAP)).toBe(EBADF);
  });

  it('ioctlScratchArray writes the address of scratch + arrayOffset at pointerOffset before the call', () => {
    const view = new DataView(addon.structScratch!());
    expect(addon.ioctlScratchArray!(devNull, IOAS_IOVA_RANGES, 16, 128)).toBe(ENOTTY);
    const first = view.getBigUint64(16, true);
    expect(first).not.toBe(0n);
    addon.ioctlScratchArray!(-1, IOAS_IOVA_RANGES, 16, 256);
    expect(view.getBigUint64(16, true)).toBe(first + 128n);
  });

  it('ioctlScratchArray refuses offsets outside the scratch buffer with EINVAL', () => {
    const size = addon.structScratch!().byteLength;
    expect(addon.ioctlScratchArray!(devNull, IOAS_IOVA_RANGES, size - 7, 128)).toBe(EINVAL);
    expect(addon.ioctlScratchArray!(devNull, IOAS_IOVA_RANGES, 16, size + 1)).toBe(EINVAL);
  });

  it('the scratch entries throw a TypeError for arguments of the wrong type', () => {
    expect(() => (addon.ioctlScratch as unknown as (fd: unknown, cmd: unknown) => number)('3', IOAS_MAP)).toThrow(TypeError);
    expect(() => (addon.ioctlScratchArray as unknown as (...a: unknown[]) => number)(devNull, IOAS_MAP, 16)).toThrow(TypeError);
  });

  it('openKernel answers a failing call with the errno of the real system call, through both channels', () => {
    const k = openKernel({ fd: devNull });
    expect(k.ioasMap({ flags: 0, ioasId: 1, userVa: 0n, length: 4096n, iova: 0n })).toEqual({ errno: ENOTTY, code: 'ENOTTY' });
    expect(k.ioasIovaRanges({ ioasId: 1, numIovas: 4 })).toEqual({ errno: ENOTTY, code: 'ENOTTY' });
    expect(k.ioasIovaRanges({ ioasId: 1, numIovas: 1000 })).toEqual({ errno: ENOTTY, code: 'ENOTTY' });
    // The fallback channel on the same addon without its scratch entries reaches the same errno.
    const old = { ...addon, structScratch: undefined, ioctlScratch: undefined, ioctlScratchArray: undefined } as NativeAddon;
    expect(ioctlChannel(old).call(devNull, IOAS_MAP)).toBe(ENOTTY);
  });
});

const fastAddon = loaded.ok ? loadFastIoctl() : undefined;
const describeFast = fastAddon ? describe : describe.skip;

// The fast-call addon (native/fast-ioctl.cc) shortcuts the N-API scratch entries: the same
// ioctl on a buffer of its own, called directly by optimized code. Each test runs enough
// iterations for TurboFan to optimize the loop, so both the fast C functions and the slow
// callbacks are exercised, and compares every answer with the N-API entry's.
describeFast(`fast-call scratch entries${fastAddon ? '' : ' (skipped: iommufd_fast.node not built for this Node)'}`, () => {
  const addon = loaded.ok ? loaded.addon : (undefined as never);
  const fast = fastAddon as FastIoctlAddon;
  const devNull = openSync('/dev/null', 'r');
  afterAll(() => closeSync(devNull));
  const ROUNDS = 30_000;

  /** The address the entry writes for arrayOffset 0 (its buffer's base), read back from the buffer. */
  function baseOf(view: DataView, entry: (fd: number, cmd: number, p: number, a: number) => number): bigint {
    entry(-1, IOAS_IOVA_RANGES, 16, 0);
    return view.getBigUint64(16, true);
  }

  it('structScratch gives one buffer of its own, large enough for the channel', () => {
    expect(fast.structScratch()).toBe(fast.structScratch());
    expect(fast.structScratch()).not.toBe(addon.structScratch!());
    expect(fast.structScratch().byteLength).toBeGreaterThanOrEqual(CHANNEL_BYTES);
  });

  it('answers every call as the N-API entries do, and optimized code takes the fast C functions', () => {
    const fastView = new DataView(fast.structScratch());
    const napiView = new DataView(addon.structScratch!());
    const fastBase = baseOf(fastView, fast.ioctlScratchArray);
    const napiBase = baseOf(napiView, addon.ioctlScratchArray!);
    const size = fast.structScratch().byteLength;
    const fds = [devNull, -1, devNull + 0.5, -1.5, 1_000_000];
    const cmds = [IOAS_MAP, IOAS_IOVA_RANGES, 0x3b80, 0x3b80 + 0.25];
    const offsets = [0, 16, 24, 128, size - 8, size - 7, size, size + 1];
    const slowBefore = fast.slowCalls();
    let disagreements = 0;
    let checked = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const fd = fds[i % fds.length]!;
      const cmd = cmds[(i >> 2) % cmds.length]!;
      if (fast.ioctlScratch(fd, cmd) !== addon.ioctlScratch!(fd, cmd)) disagreements++;
      const pointerOffset = offsets[i % offsets.length]!;
      const arrayOffset = offsets[(i >> 3) % offsets.length]!;
      const a = fast.ioctlScratchArray(fd, cmd, pointerOffset, arrayOffset);
      const b = addon.ioctlScratchArray!(fd, cmd, pointerOffset, arrayOffset);
      if (a !== b) disagreements++;
      if (a !== EINVAL) {
        // Both wrote the address of their own buffer + arrayOffset at pointerOffset.
        checked++;
        if (fastView.getBigUint64(pointerOffset, true) - fastBase !== napiView.getBigUint64(pointerOffset, true) - napiBase) disagreements++;
        if (fastView.getBigUint64(pointerOffset, true) !== fastBase + BigInt(arrayOffset)) disagreements++;
      }
    }
    expect(disagreements).toBe(0);
    expect(checked).toBeGreaterThan(ROUNDS / 2);
    // Most of the 2 x ROUNDS calls ran the fast C functions (only unoptimized ones are slow).
    expect(fast.slowCalls() - slowBefore).toBeLessThan(ROUNDS);
  });

  it('throws the N-API entries\' TypeErrors for arguments of the wrong type, also from optimized code', () => {
    const call = (f: (...a: unknown[]) => number, ...args: unknown[]): string => {
      try {
        return String(f(...args));
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    const fastCall = fast.ioctlScratch as unknown as (...a: unknown[]) => number;
    const napiCall = addon.ioctlScratch as unknown as (...a: unknown[]) => number;
    const fastArray = fast.ioctlScratchArray as unknown as (...a: unknown[]) => number;
    const napiArray = addon.ioctlScratchArray as unknown as (...a: unknown[]) => number;
    const bad: unknown[][] = [['3', IOAS_MAP], [devNull], [devNull, 1n], [undefined, IOAS_MAP], [devNull, IOAS_MAP, '16', 128]];
    let disagreements = 0;
    for (let i = 0; i < ROUNDS; i++) {
      if (fastCall(devNull, IOAS_MAP) !== napiCall(devNull, IOAS_MAP)) disagreements++;
      // Extra arguments are ignored by both.
      if (fastCall(devNull, IOAS_MAP, 'extra') !== napiCall(devNull, IOAS_MAP, 'extra')) disagreements++;
      if (i % 1000 === 999) {
        for (const args of bad) {
          const a = call(fastCall, ...args);
          // The last bad list is two good arguments for the plain entry.
          if (a !== call(napiCall, ...args) || (args.length < 4 && !a.startsWith('TypeError'))) disagreements++;
          const b = call(fastArray, ...args);
          if (b !== call(napiArray, ...args) || !b.startsWith('TypeError')) disagreements++;
        }
      }
    }
    expect(disagreements).toBe(0);
  });

  it('openKernel answers through the fast channel as through the N-API channel', () => {
    const k = openKernel({ fd: devNull });
    const viaNapi = ioctlChannel(addon);
    expect(viaNapi.call(devNull, IOAS_MAP)).toBe(ENOTTY);
    for (let i = 0; i < 2000; i++) {
      expect(k.ioasMap({ flags: 0, ioasId: 1, userVa: 0n, length: 4096n, iova: 0n })).toEqual({ errno: ENOTTY, code: 'ENOTTY' });
      expect(k.ioasIovaRanges({ ioasId: 1, numIovas: 4 })).toEqual({ errno: ENOTTY, code: 'ENOTTY' });
    }
    expect(ioctlChannel(addon, fast).struct.view.buffer).toBe(fast.structScratch());
  });
});
