// The harness boots again only when the guest kernel died before our init script ran (a QEMU/TCG
// boot flake), never when a test run itself went wrong.
import { describe, expect, it } from 'vitest';
import { panickedBeforeInit } from './harness.js';

describe('panickedBeforeInit', () => {
  it('a panic before the init script printed anything is a boot flake', () => {
    expect(panickedBeforeInit('[ 3.67] Oops: int3\n[ 3.67] Kernel panic - not syncing: Fatal exception in interrupt\n')).toBe(true);
  });
  it('a panic after the init script started is the run’s own failure, not retried', () => {
    expect(panickedBeforeInit('ioasform-guest: kernel 6.12.117, running tests\n[ 90.1] Kernel panic - not syncing\n')).toBe(false);
  });
  it('a clean boot is not retried', () => {
    expect(panickedBeforeInit('ioasform-guest: kernel 6.12.117, running tests\nioasform-guest: done\n')).toBe(false);
  });
});
