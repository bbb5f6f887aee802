// Runs inside the QEMU VM only. The differential test: random uapi operation sequences run on
// a fresh kernel context and on a fresh simulator (testKernel: true, as this is a
// CONFIG_IOMMUFD_TEST kernel); every errno and every output must be identical. The seed is
// printed; IOASFORM_DIFF_SEED=<n> replays a run, IOASFORM_DIFF_RUNS=<n> changes the count.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openKernel } from '../../../src/backends/kernel/kernel.js';
import { openSimulator } from '../../../src/backends/sim/index.js';
import { canonical, operationSequence, runOperation, type DiffBackend, type Operation } from './operations.js';

const RUNS = Number(process.env.IOASFORM_DIFF_RUNS ?? 500);
const SEED = Number(process.env.IOASFORM_DIFF_SEED ?? Date.now() % 0x7fffffff);

interface Mismatch {
  readonly step: number;
  readonly operation: string;
  readonly kernel: string;
  readonly simulator: string;
}

/** How often each `operation:result code` pair occurred: proof that the sequences reach deep. */
const outcomes = new Map<string, number>();

/** Runs one sequence on both backends; the first differing step, or undefined. */
async function firstMismatch(ops: readonly Operation[]): Promise<Mismatch | undefined> {
  const kernel: DiffBackend = openKernel();
  const simulator: DiffBackend = openSimulator({ testKernel: true });
  try {
    for (const [step, op] of ops.entries()) {
      const kernelResult = await runOperation(kernel, op);
      const k = canonical(kernelResult);
      const s = canonical(await runOperation(simulator, op));
      const key = `${op.op}:${(kernelResult as { code?: string }).code ?? '?'}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (k !== s) return { step, operation: canonical(op), kernel: k, simulator: s };
    }
    return undefined;
  } finally {
    await kernel.close();
    await simulator.close();
  }
}

describe('differential: real kernel vs simulator', () => {
  it(`${RUNS} random operation sequences give identical errnos and outputs (seed ${SEED})`, async () => {
    console.log(`differential test: ${RUNS} sequences, seed ${SEED} (replay with IOASFORM_DIFF_SEED=${SEED})`);
    let sequences = 0;
    let operations = 0;
    await fc.assert(
      fc.asyncProperty(operationSequence, async (ops) => {
        sequences++;
        operations += ops.length;
        const mismatch = await firstMismatch(ops);
        if (mismatch) {
          throw new Error(
            `step ${mismatch.step}: ${mismatch.operation}\n  kernel:    ${mismatch.kernel}\n  simulator: ${mismatch.simulator}`,
          );
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    const table = [...outcomes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, n]) => `  ${key} ${n}`);
    console.log(`differential test: ${sequences} sequences, ${operations} operations compared; outcomes:\n${table.join('\n')}`);
    expect(sequences).toBeGreaterThanOrEqual(RUNS);
    // The comparison means something only if the sequences reach the interesting outcomes.
    for (const expected of [
      'ioasAlloc:OK', 'ioasAlloc:EOPNOTSUPP', 'destroy:OK', 'destroy:ENOENT',
      'ioasMap:OK', 'ioasMap:EEXIST', 'ioasMap:EINVAL', 'ioasMap:EOVERFLOW', 'ioasMap:ENOENT', 'ioasMap:ENOSPC',
      'ioasCopy:OK', 'ioasCopy:ENOENT', 'ioasCopy:EOVERFLOW', 'ioasUnmap:OK', 'ioasUnmap:ENOENT', 'ioasUnmap:EOVERFLOW',
      'ioasAllowIovas:OK', 'ioasAllowIovas:EINVAL', 'ioasIovaRanges:OK', 'ioasIovaRanges:EMSGSIZE',
      'option:OK', 'option:EOPNOTSUPP', 'option:EBUSY', 'testAddReserved:OK', 'testAddReserved:EADDRINUSE',
    ]) {
      expect(outcomes.get(expected) ?? 0, `no sequence produced ${expected}`).toBeGreaterThan(0);
    }
  });
});
