// vitest config for the guest side of the kernel suite: used only inside the QEMU VM started by
// test/kernel/harness.ts. The host's root is read-only there, so caches go to the guest tmpfs.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  cacheDir: '/tmp/ioasform-vite-cache',
  test: {
    // Guest files end in .guest.ts so the host's `kernel` project (test/kernel/**/*.test.ts) never
    // collects them.
    include: ['test/kernel/guest/**/*.guest.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // One worker: the VM has 2 slow (emulated) CPUs, and the tests want a quiet kernel.
    fileParallelism: false,
    pool: 'forks',
  },
});
