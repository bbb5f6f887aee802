// IOASFORM_FAST_IOCTL=0 turns the fast-call addon off (the kernel backend then uses the main
// addon's N-API entries). loadFastIoctl caches its answer per module instance, so each case
// loads a fresh copy of native.ts with the environment it needs.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fastAddonPath } from '../../../src/backends/kernel/native.js';
import type * as NativeModule from '../../../src/backends/kernel/native.js';

const freshNative = async (): Promise<typeof NativeModule> => {
  vi.resetModules();
  return import('../../../src/backends/kernel/native.js');
};

const saved = process.env['IOASFORM_FAST_IOCTL'];
afterEach(() => {
  if (saved === undefined) delete process.env['IOASFORM_FAST_IOCTL'];
  else process.env['IOASFORM_FAST_IOCTL'] = saved;
});

const built = process.platform === 'linux' && existsSync(fastAddonPath());

describe('IOASFORM_FAST_IOCTL', () => {
  // Without a built addon the answer is undefined anyway, and the case could not fail: skipped.
  it.skipIf(!built)('=0 makes loadFastIoctl answer undefined although the fast addon is built', async () => {
    process.env['IOASFORM_FAST_IOCTL'] = '0';
    expect((await freshNative()).loadFastIoctl()).toBeUndefined();
  });

  it.skipIf(!built)(`unset, a built fast addon is loaded${built ? '' : ' (skipped: iommufd_fast.node not built)'}`, async () => {
    delete process.env['IOASFORM_FAST_IOCTL'];
    const addon = (await freshNative()).loadFastIoctl();
    expect(addon).toBeDefined();
    expect(typeof addon?.ioctlScratch).toBe('function');
  });
});
