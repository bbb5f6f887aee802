import { defineConfig } from 'vitest/config';

// Two projects: `unit` (everything that runs on any machine, simulator included) and
// `kernel` (boots the shared 6.12 kernel under QEMU; skips with a printed reason when no
// kernel image or QEMU is present). `npm test` runs both.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/kernel/**'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'kernel',
          include: ['test/kernel/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
