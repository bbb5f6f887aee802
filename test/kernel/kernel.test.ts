// The real-kernel suite, host side: boots the shared test kernel under QEMU once, runs the guest
// suite (test/kernel/guest/*.guest.ts) inside it, once per guest profile (as root; as root
// without CAP_SYS_RESOURCE), and reports every guest test as its own assertion here. Without a
// kernel image or QEMU it skips, printing the reason.
import { describe, expect, it } from 'vitest';
import { checkKernelEnvironment, runGuestSuite, type GuestRun, type ProfileRun } from './harness.js';

const check = checkKernelEnvironment();

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

function describeProfile(vm: GuestRun, run: ProfileRun): void {
  const context = () =>
    `guest output (${vm.outDir}/${run.profile.name}/guest-output.txt):\n${tail(run.guestOutput)}\n` +
    `--- console (${vm.outDir}/console.log):\n${tail(vm.consoleLog, 30)}`;

  describe(`guest ${run.profile.description}`, () => {
    it('ran the guest suite and wrote its results', () => {
      expect(vm.timedOut, `QEMU was killed after the timeout\n${context()}`).toBe(false);
      expect(run.exitCode, `the guest test command did not finish\n${context()}`).toBeDefined();
      expect(run.report, `no vitest JSON report from the guest\n${context()}`).toBeDefined();
      expect(run.report?.numTotalTests ?? 0, 'the guest ran no tests').toBeGreaterThan(0);
    });

    for (const file of run.report?.testResults ?? []) {
      const fileName = file.name.slice(file.name.indexOf('test/kernel/guest/'));
      describe(fileName, () => {
        if (file.assertionResults.length === 0) {
          it('loads and runs', () => {
            expect(file.status, file.message).toBe('passed');
          });
        }
        for (const test of file.assertionResults) {
          // A guest test skipped for a stated reason (e.g. a contract case that needs a kernel
          // without CONFIG_IOMMUFD_TEST) is reported as skipped here too, its reason in the name.
          if (test.status === 'skipped' || test.status === 'pending' || test.status === 'todo') {
            it.skip(test.fullName, () => {});
            continue;
          }
          it(test.fullName, () => {
            expect(test.status, test.failureMessages.join('\n')).toBe('passed');
          });
        }
      });
    }

    it('the guest test command exited 0', () => {
      expect(run.exitCode, context()).toBe(0);
    });
  });
}

if (!check.ok) {
  console.log(`ioasform kernel suite skipped: ${check.reason}`);
  it.skip(`real-kernel suite (skipped: ${check.reason})`, () => {});
} else {
  // Booting happens while the file is collected, so that each guest test can be reported below
  // as a test of its own.
  const vm = await runGuestSuite(check.env);
  describe(`real kernel under QEMU (${check.env.kernel}, ${vm.seconds} s)`, () => {
    for (const run of vm.runs) describeProfile(vm, run);
  });
}
