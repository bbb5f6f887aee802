// The kernel backend's ioctl channel (src/backends/kernel/ioctl-channel.ts) and the addon's
// scratch entries behind it. No /dev/iommu here: /dev/null answers every ioctl with ENOTTY and
// fd -1 with EBADF, which is enough to see which bytes and pointers reach the system call; the
// real ioctls run in the QEMU suite (contract and differential tests through openKernel).
import { closeSync, openSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ARRAY_OFFSET, CHANNEL_BYTES, ioctlChannel } from '../../../src/backends/kernel/ioctl-channel.js';
import { openKernel } from '../../../src/backends/kernel/kernel.js';
import { loadNative, type NativeAddon } from '../../../src/backends/kernel/native.js';

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
    expect(channel.view.buffer).toBe(scratch);
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
    expect(channel.view.byteLength).toBeGreaterThanOrEqual(CHANNEL_BYTES);
    channel.view.setUint32(0, 40, true);
    channel.call(3, IOAS_MAP);
    channel.callWithArray(3, IOAS_IOVA_RANGES, 16);
    const [plain, withArray] = calls;
    // The struct the kernel sees is the view's buffer from offset 0...
    expect(plain?.entry).toBe('ioctl');
    expect(plain?.arg?.buffer).toBe(channel.view.buffer);
    expect(plain?.arg?.byteOffset).toBe(0);
    // ...and the array is the same buffer from ARRAY_OFFSET.
    expect(withArray?.entry).toBe('ioctlWithBuffer');
    expect(withArray?.pointerOffset).toBe(16);
    expect(withArray?.data?.buffer).toBe(channel.view.buffer);
    expect(withArray?.data?.byteOffset).toBe(ARRAY_OFFSET);
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
