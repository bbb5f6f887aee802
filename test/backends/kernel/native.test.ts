// Host-side checks of the native addon and openKernel's refusal paths. Nothing here needs
// /dev/iommu: the real ioctls are exercised in the QEMU suite (test/kernel/).
import { closeSync, fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../../src/backends/kernel/native.js';
import { KernelUnavailableError, openKernel } from '../../../src/backends/kernel/kernel.js';

const loaded = loadNative();
const describeNative = loaded.ok ? describe : describe.skip;
const skipReason = loaded.ok ? '' : ` (skipped: ${loaded.reason})`;

describeNative(`native addon${skipReason}`, () => {
  const addon = loaded.ok ? loaded.addon : (undefined as never);
  const scratch = mkdtempSync(join(tmpdir(), 'ioasform-native-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('open reports a missing path as -ENOENT', () => {
    expect(addon.open(join(scratch, 'missing'), 2)).toBe(-2);
  });

  it('ioctl on a regular file answers ENOTTY, as a number', () => {
    const fd = addon.open(join(scratch, 'plain'), 2 | 0o100 /* O_CREAT */);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(addon.ioctl(fd, 0x3b81, new Uint8Array(12))).toBe(25);
    expect(addon.close(fd)).toBe(0);
    expect(addon.close(fd)).toBe(9); // EBADF: already closed
  });

  it('ioctlWithBuffer rejects a pointer offset outside the struct with EINVAL', () => {
    expect(addon.ioctlWithBuffer(-1, 0x3b84, new Uint8Array(16), 9, new Uint8Array(16))).toBe(22);
  });

  it('ioctlWithBuffer patches the data address in before the call', () => {
    const arg = new Uint8Array(32);
    addon.ioctlWithBuffer(-1, 0x3b84, arg, 16, new Uint8Array(16)); // EBADF, but the pointer is written
    const view = new DataView(arg.buffer);
    expect(view.getBigUint64(16, true)).not.toBe(0n);
    addon.ioctlWithBuffer(-1, 0x3b84, arg, 16, new Uint8Array(0));
    expect(view.getBigUint64(16, true)).toBe(0n);
  });

  for (const align of [0x1000n, 0x200000n, 0x40000000n]) {
    it(`mapMemory anonymous honours alignment ${align.toString(16)}`, () => {
      const m = addon.mapMemory({ kind: 'anonymous', size: 0x3000n, align });
      expect(m.errno).toBe(0);
      if (m.errno !== 0 || !('addr' in m)) return;
      expect(m.addr % align).toBe(0n);
      expect(m.fd).toBe(-1);
      expect(addon.unmapMemory(m.addr, 0x3000n)).toBe(0);
    });
  }

  it('mapMemory memfd returns an fd of the requested size', () => {
    const m = addon.mapMemory({ kind: 'memfd', size: 0x5000n, align: 0x10000n });
    expect(m.errno).toBe(0);
    if (!('addr' in m)) return;
    expect(m.addr % 0x10000n).toBe(0n);
    expect(fstatSync(m.fd).size).toBe(0x5000);
    expect(addon.unmapMemory(m.addr, 0x5000n)).toBe(0);
    closeSync(m.fd);
  });

  it('mapMemory file creates and grows the backing file', () => {
    const path = join(scratch, 'backing');
    const m = addon.mapMemory({ kind: 'file', size: 0x2000n, path });
    expect(m.errno).toBe(0);
    if (!('addr' in m)) return;
    expect(statSync(path).size).toBe(0x2000);
    expect(addon.unmapMemory(m.addr, 0x2000n)).toBe(0);
    closeSync(m.fd);
  });

  it('mapMemory answers EINVAL for a zero size, a non-power-of-two alignment or an unknown kind', () => {
    expect(addon.mapMemory({ kind: 'anonymous', size: 0n })).toEqual({ errno: 22 });
    expect(addon.mapMemory({ kind: 'anonymous', size: 0x1000n, align: 0x3000n })).toEqual({ errno: 22 });
    expect(addon.mapMemory({ kind: 'bogus' as 'anonymous', size: 0x1000n })).toEqual({ errno: 22 });
  });

  it('passes fds over a Unix socket with SCM_RIGHTS and reports the peer credentials', () => {
    const pair = addon.socketPair();
    expect(pair.errno).toBe(0);
    if (!('fds' in pair)) return;
    const [a, b] = pair.fds;
    const memfd = addon.mapMemory({ kind: 'memfd', size: 0x1000n });
    if (!('addr' in memfd)) throw new Error(`memfd failed: ${memfd.errno}`);
    expect(addon.sendFds(a, [memfd.fd], new Uint8Array([1, 2, 3]))).toBe(3);
    const buffer = new Uint8Array(16);
    const got = addon.recvFds(b, buffer);
    expect(got.errno).toBe(0);
    if (!('fds' in got)) return;
    expect(got.bytes).toBe(3);
    expect([...buffer.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(got.fds).toHaveLength(1);
    const received = got.fds[0]!;
    expect(received).not.toBe(memfd.fd);
    expect(fstatSync(received).ino).toBe(fstatSync(memfd.fd).ino); // the same open file
    const cred = addon.peerCred(a);
    expect(cred).toEqual({ errno: 0, pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    expect(addon.sendFds(a, [], new Uint8Array(0))).toBe(-22);
    for (const fd of [a, b, memfd.fd, received]) closeSync(fd);
    addon.unmapMemory(memfd.addr, 0x1000n);
  });

  it('peerCred on an fd number that is not open answers EBADF', () => {
    expect(addon.peerCred(0x7ffffff0)).toEqual({ errno: 9 });
  });
});

describe('openKernel refusals', () => {
  it('throws KernelUnavailableError with a code when the device node does not exist', () => {
    const attempt = () => openKernel({ path: '/nonexistent/iommu' });
    expect(attempt).toThrow(KernelUnavailableError);
    try {
      attempt();
    } catch (error) {
      const e = error as KernelUnavailableError;
      expect(e.code).toBe(loaded.ok ? 'NO_DEVICE' : 'ADDON_MISSING');
      expect(e.message).toContain(loaded.ok ? '/nonexistent/iommu' : 'simulator');
    }
  });
});
