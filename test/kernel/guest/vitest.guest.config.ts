// vitest config for the guest side of the kernel suite: used only inside the QEMU VM started by
// test/kernel/harness.ts. The host's root is read-only there, so caches go to the guest tmpfs.
// Guest files end in .guest.ts so the host's `kernel` project (test/kernel/**/*.test.ts) never
// collects them; the harness runs this config once per profile (IOASFORM_GUEST_PROFILE), and
// only the no-CAP_SYS_RESOURCE profile runs the *.nocap.guest.ts files.
import { defineConfig } from 'vitest/config';

const noCap = process.env.IOASFORM_GUEST_PROFILE === 'no-cap-sys-resource';

export default defineConfig({
  cacheDir: '/tmp/ioasform-vite-cache',
  test: {
    include: noCap ? ['test/kernel/guest/**/*.nocap.guest.ts'] : ['test/kernel/guest/**/*.guest.ts'],
    exclude: noCap ? [] : ['test/kernel/guest/**/*.nocap.guest.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // One file at a time: the VM has 2 slow (emulated) CPUs.
    fileParallelism: false,
    pool: 'forks',
  },
});
