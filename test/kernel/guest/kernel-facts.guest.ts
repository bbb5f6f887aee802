// Runs inside the QEMU VM only (test/kernel/harness.ts), as root, on the shared 6.12 test kernel.
// Facts of the real kernel the rest of the project relies on, checked through openKernel and
// the native addon: plain-IOAS ranges, automatic IOVAs, the generic size rules of the raw call,
// the TEST-kernel probe, real backing memory and fd passing.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openKernel, type KernelContext } from '../../../src/backends/kernel/kernel.js';
import { loadNative, type NativeAddon } from '../../../src/backends/kernel/native.js';
import {
  IOMMUFD_CMD,
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
  U64_MAX,
} from '../../../src/model/uapi.js';

const loaded = loadNative();
if (!loaded.ok) throw new Error(`guest suite needs the addon: ${loaded.reason}`);
const addon: NativeAddon = loaded.addon;

/** A 2 MiB-aligned user VA whose lowest set bit is high (spec §6 worked examples use "B"). */
const B = 0x7f0000000000n;
const MiB2 = 0x200000n;

let open: KernelContext[] = [];
function fresh(): KernelContext {
  const k = openKernel();
  open.push(k);
  return k;
}
afterEach(() => {
  for (const k of open) k.close();
  open = [];
});

/** A struct buffer: the given u32 `size` word, then zeros, `length` bytes in all. */
function sized(size: number, length = size): Uint8Array {
  const bytes = new Uint8Array(length);
  new DataView(bytes.buffer).setUint32(0, size, true);
  return bytes;
}

describe('plain IOAS on the real kernel', () => {
  it('ids start at 1 and the lowest free id is reused', () => {
    const k = fresh();
    expect(k.ioasAlloc({ flags: 0 })).toEqual({ errno: 0, code: 'OK', outIoasId: 1 });
    expect(k.ioasAlloc({ flags: 0 })).toMatchObject({ outIoasId: 2 });
    expect(k.ioasAlloc({ flags: 0 })).toMatchObject({ outIoasId: 3 });
    expect(k.destroy({ id: 2 })).toEqual({ errno: 0, code: 'OK' });
    expect(k.ioasAlloc({ flags: 0 })).toMatchObject({ outIoasId: 2 });
    expect(k.destroy({ id: 9 })).toEqual({ errno: 2, code: 'ENOENT' });
    expect(k.ioasAlloc({ flags: 1 })).toEqual({ errno: 95, code: 'EOPNOTSUPP' });
  });

  it('IOVA_RANGES is [0, U64_MAX] with alignment 1, and EMSGSIZE still reports the count', () => {
    const k = fresh();
    const id = 1;
    expect(k.ioasAlloc({ flags: 0 })).toMatchObject({ outIoasId: id });
    expect(k.ioasIovaRanges({ ioasId: id, numIovas: 4 })).toEqual({
      errno: 0, code: 'OK', numIovas: 1, ranges: [{ start: 0n, last: U64_MAX }], outIovaAlignment: 1n,
    });
    expect(k.ioasIovaRanges({ ioasId: id, numIovas: 0 })).toEqual({
      errno: 90, code: 'EMSGSIZE', numIovas: 1, ranges: [], outIovaAlignment: 1n,
    });
    // A capacity far beyond what is allocated directly goes through the count probe.
    expect(k.ioasIovaRanges({ ioasId: id, numIovas: 0xffffffff })).toMatchObject({ errno: 0, numIovas: 1 });
    expect(k.ioasIovaRanges({ ioasId: 5, numIovas: 1 })).toEqual({ errno: 2, code: 'ENOENT' });
  });

  it('automatic MAP is lowest first-fit from PAGE_SIZE (spec §6 worked examples)', () => {
    const k = fresh();
    k.ioasAlloc({ flags: 0 });
    const map = (userVa: bigint, length: bigint) => k.ioasMap({ flags: R | W, ioasId: 1, userVa, length, iova: 0n });
    expect(map(B, 0x1000n)).toEqual({ errno: 0, code: 'OK', iova: 0x1000n });
    expect(map(B, 0x1000n)).toMatchObject({ iova: 0x2000n });
    expect(map(B, 0x3000n)).toMatchObject({ iova: 0x4000n });
    expect(map(B, 0x1000n)).toMatchObject({ iova: 0x3000n });
    expect(map(B + 0x30n, 0x1000n)).toMatchObject({ iova: 0x7030n });
    // On a second, fresh IOAS: the OR with the page offset (a = 0x20) skips 0x14a0 to 0x16a0.
    k.ioasAlloc({ flags: 0 });
    const map2 = () => k.ioasMap({ flags: R, ioasId: 2, userVa: 0x55555555a2a0n, length: 0x100n, iova: 0n });
    expect([map2(), map2(), map2()].map((r) => ('iova' in r ? r.iova : r.code))).toEqual([0x12a0n, 0x13a0n, 0x16a0n]);
  });

  it('UNMAP of part of an area fails ENOENT; whole areas report the bytes removed', () => {
    const k = fresh();
    k.ioasAlloc({ flags: 0 });
    expect(k.ioasMap({ flags: R | FIXED, ioasId: 1, userVa: B, length: 0x2000n, iova: 0x10000n })).toMatchObject({ iova: 0x10000n });
    expect(k.ioasUnmap({ ioasId: 1, iova: 0x10000n, length: 0x1000n })).toEqual({ errno: 2, code: 'ENOENT' });
    expect(k.ioasUnmap({ ioasId: 1, iova: 0n, length: U64_MAX })).toEqual({ errno: 0, code: 'OK', length: 0x2000n });
  });

  it('ALLOW_IOVAS passes its array through the addon and steers automatic allocation', () => {
    const k = fresh();
    k.ioasAlloc({ flags: 0 });
    expect(k.ioasAllowIovas({ ioasId: 1, ranges: [{ start: 0x10000n, last: 0x1ffffn }] })).toEqual({ errno: 0, code: 'OK' });
    expect(k.ioasMap({ flags: R, ioasId: 1, userVa: B, length: 0x2000n, iova: 0n })).toMatchObject({ iova: 0x10000n });
    expect(k.ioasAllowIovas({ ioasId: 1, ranges: [{ start: 0x5000n, last: 0x5000n }] })).toEqual({ errno: 22, code: 'EINVAL' });
    expect(k.ioasAllowIovas({ ioasId: 1, ranges: [] })).toEqual({ errno: 0, code: 'OK' });
    expect(k.ioasMap({ flags: R, ioasId: 1, userVa: B, length: 0x1000n, iova: 0n })).toMatchObject({ iova: 0x1000n });
  });

  it('OPTION HUGE_PAGES=0 raises out_iova_alignment to PAGE_SIZE', () => {
    const k = fresh();
    k.ioasAlloc({ flags: 0 });
    expect(k.option({ optionId: 1, op: 1, objectId: 1, val64: 0n })).toEqual({ errno: 0, code: 'OK', val64: 1n });
    expect(k.option({ optionId: 1, op: 0, objectId: 1, val64: 0n })).toMatchObject({ errno: 0 });
    expect(k.ioasIovaRanges({ ioasId: 1, numIovas: 1 })).toMatchObject({ outIovaAlignment: 0x1000n });
    expect(k.option({ optionId: 0, op: 0, objectId: 0, val64: 1n })).toEqual({ errno: 16, code: 'EBUSY' });
  });
});

describe('TEST-kernel reserved ranges (IOMMU_TEST_OP_ADD_RESERVED)', () => {
  it('split IOVA_RANGES, make fixed MAP fail EINVAL and ALLOW_IOVAS fail EADDRINUSE', () => {
    const k = fresh();
    k.ioasAlloc({ flags: 0 });
    expect(k.testAddReserved({ ioasId: 1, start: 0x1000n, last: 0x1fffn })).toEqual({ errno: 0, code: 'OK' });
    expect(k.ioasIovaRanges({ ioasId: 1, numIovas: 2 })).toMatchObject({
      errno: 0, ranges: [{ start: 0n, last: 0xfffn }, { start: 0x2000n, last: U64_MAX }],
    });
    expect(k.ioasMap({ flags: R | FIXED, ioasId: 1, userVa: B, length: 0x1000n, iova: 0x1800n })).toEqual({ errno: 22, code: 'EINVAL' });
    expect(k.ioasMap({ flags: R, ioasId: 1, userVa: B, length: 0x1000n, iova: 0n })).toMatchObject({ iova: 0x2000n });
    expect(k.ioasAllowIovas({ ioasId: 1, ranges: [{ start: 0n, last: 0x10000n }] })).toEqual({ errno: 98, code: 'EADDRINUSE' });
    expect(k.testAddReserved({ ioasId: 1, start: 0x2000n, last: 0x2fffn })).toEqual({ errno: 98, code: 'EADDRINUSE' });
    expect(k.testAddReserved({ ioasId: 7, start: 0x8000n, last: 0x8fffn })).toEqual({ errno: 2, code: 'ENOENT' });
  });
});

describe('raw calls: the generic size rules (spec §1.2)', () => {
  it('a size below the struct size is EINVAL', () => {
    expect(fresh().raw(IOMMUFD_CMD.IOAS_ALLOC, sized(11, 16))).toMatchObject({ errno: 22, code: 'EINVAL' });
  });

  it('a larger size with a non-zero tail is E2BIG and a zero tail is accepted', () => {
    const k = fresh();
    const withTail = sized(16);
    withTail[13] = 1;
    expect(k.raw(IOMMUFD_CMD.IOAS_ALLOC, withTail).errno).toBe(7);
    const zeroTail = sized(4096);
    const result = k.raw(IOMMUFD_CMD.IOAS_ALLOC, zeroTail);
    expect(result.errno).toBe(0);
    const view = new DataView(result.bytes.buffer);
    expect(view.getUint32(0, true)).toBe(4096); // size echoed
    expect(view.getUint32(8, true)).toBe(1); // out_ioas_id
    expect(zeroTail[8]).toBe(0); // the caller's buffer is not touched: raw copies it
  });

  it('an unknown command is ENOTTY, inside and outside the table range', () => {
    const k = fresh();
    expect(k.raw(0x3b8f, sized(64)).errno).toBe(25); // IOMMU_IOAS_MAP_FILE: 6.13, not in 6.12
    expect(k.raw(0x7885, sized(64)).errno).toBe(25); // _IO('x', 0x85)
    expect(k.raw(0x3b01, sized(64)).errno).toBe(25); // VFIO compat range, not a VFIO command
  });

  it('this is a CONFIG_IOMMUFD_TEST kernel: IOMMU_TEST_CMD with a short size is EINVAL, not ENOTTY', () => {
    expect(fresh().raw(IOMMUFD_CMD.TEST_CMD, sized(8)).errno).toBe(22);
  });
});

describe('real memory and fd passing', () => {
  it('maps real anonymous memory at 2 MiB alignment: automatic IOVA 0x200000', () => {
    const k = fresh();
    k.ioasAlloc({ flags: 0 });
    const mem = addon.mapMemory({ kind: 'anonymous', size: MiB2, align: MiB2 });
    if (!('addr' in mem)) throw new Error(`mapMemory failed: errno ${mem.errno}`);
    expect(k.ioasMap({ flags: R | W, ioasId: 1, userVa: mem.addr, length: MiB2, iova: 0n })).toMatchObject({ iova: 0x200000n });
    expect(addon.unmapMemory(mem.addr, MiB2)).toBe(0);
  });

  it('maps hugetlb memory (2 MiB pages reserved for the test)', () => {
    writeFileSync('/proc/sys/vm/nr_hugepages', '4');
    expect(Number(readFileSync('/proc/sys/vm/nr_hugepages', 'utf8'))).toBeGreaterThanOrEqual(1);
    const mem = addon.mapMemory({ kind: 'hugetlb', size: MiB2, hugePageSize: MiB2 });
    if (!('addr' in mem)) throw new Error(`hugetlb mapMemory failed: errno ${mem.errno}`);
    expect(mem.addr % MiB2).toBe(0n);
    const k = fresh();
    k.ioasAlloc({ flags: 0 });
    expect(k.ioasMap({ flags: R | W, ioasId: 1, userVa: mem.addr, length: MiB2, iova: 0n })).toMatchObject({ iova: 0x200000n });
    expect(addon.unmapMemory(mem.addr, MiB2)).toBe(0);
    expect(addon.close(mem.fd)).toBe(0);
  });

  it('an iommufd passed over SCM_RIGHTS is the same context', () => {
    const k = fresh();
    k.ioasAlloc({ flags: 0 });
    const pair = addon.socketPair();
    if (!('fds' in pair)) throw new Error(`socketpair failed: errno ${pair.errno}`);
    expect(addon.sendFds(pair.fds[0], [k.fd], new Uint8Array([0x42]))).toBe(1);
    const got = addon.recvFds(pair.fds[1], new Uint8Array(4));
    if (!('fds' in got)) throw new Error(`recvmsg failed: errno ${got.errno}`);
    const passed = got.fds[0]!;
    // IOAS 1 exists in the shared context: destroying it through the passed fd works once.
    const destroy = new Uint8Array([8, 0, 0, 0, 1, 0, 0, 0]);
    expect(addon.ioctl(passed, IOMMUFD_CMD.DESTROY, destroy)).toBe(0);
    expect(k.destroy({ id: 1 })).toEqual({ errno: 2, code: 'ENOENT' });
    expect(addon.peerCred(pair.fds[1])).toMatchObject({ errno: 0, uid: 0, pid: process.pid });
    for (const fd of [passed, ...pair.fds]) addon.close(fd);
  });
});
