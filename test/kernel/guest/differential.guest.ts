// Runs inside the QEMU VM only. The differential test: random uapi operation sequences run on
// a fresh kernel context and on a fresh simulator (testKernel: true, as this is a
// CONFIG_IOMMUFD_TEST kernel); every errno and every output must be identical. The seed is
// printed; IOASFORM_DIFF_SEED=<n> replays a run, IOASFORM_DIFF_RUNS=<n> changes the count.
//
// In the device VM (IOASFORM_KERNEL_DEVICE=1) the sequences also bind, attach, detach and unbind
// its e1000e (vfio-device.ts), and pin the HEAP the plain sequences map from: that memory is
// really mapped here, and the simulator is told so. Without the device the device calls are not
// generated (the test says so) and the run is the plain one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openKernel } from '../../../src/backends/kernel/kernel.js';
import { openSimulator } from '../../../src/backends/sim/index.js';
import type { DeviceBindArgs } from '../../../src/model/uapi.js';
import {
  canonical,
  deviceOperationSequence,
  HEAP,
  HEAP_SIZE,
  newSession,
  operationSequence,
  outcomeLabel,
  runOperation,
  type DiffBackend,
  type Operation,
} from './operations.js';
import { setUpGuestDevice, type GuestDevice } from './vfio-device.js';

const RUNS = Number(process.env.IOASFORM_DIFF_RUNS ?? 500);
const SEED = Number(process.env.IOASFORM_DIFF_SEED ?? Date.now() % 0x7fffffff);

const setup = setUpGuestDevice({ bufferSize: HEAP_SIZE, at: HEAP });
const device: GuestDevice | undefined = setup.ok ? setup.device : undefined;
const bind: DeviceBindArgs | undefined = device ? { path: device.path, profile: device.profile } : undefined;

interface Mismatch {
  readonly step: number;
  readonly operation: string;
  readonly kernel: string;
  readonly simulator: string;
}

/** How often each `operation:result code` pair occurred: proof that the sequences reach deep. */
const outcomes = new Map<string, number>();
const DEVICE_OPS = new Set<string>(['deviceBind', 'deviceAttach', 'deviceDetach', 'deviceUnbind', 'destroyRef']);
let deviceCalls = 0;
/** Calls made while the device was bound (their answers may depend on it). */
let callsWhileBound = 0;

function count(key: string): void {
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}

/** Runs one sequence on both backends; the first differing step, or undefined. */
async function firstMismatch(ops: readonly Operation[]): Promise<Mismatch | undefined> {
  const kernel: DiffBackend = openKernel();
  const simulator = openSimulator({ testKernel: true });
  if (device) simulator.setUserMemory([{ start: device.bufferVa, last: device.bufferVa + device.bufferSize - 1n }]);
  const kernelSession = newSession(bind);
  const simulatorSession = newSession(bind);
  try {
    for (const [step, op] of ops.entries()) {
      // Labelled by the kernel's view before the call (after it, an attach would label itself).
      const before = { ...kernelSession };
      if (kernelSession.deviceBound) callsWhileBound++;
      const kernelResult = await runOperation(kernel, op, kernelSession);
      const k = canonical(kernelResult);
      const s = canonical(await runOperation(simulator, op, simulatorSession));
      const code = (kernelResult as { code?: string }).code ?? '?';
      count(`${op.op}:${code}`);
      const label = outcomeLabel(op, before, code);
      if (label !== `${op.op}:${code}`) count(label);
      if (DEVICE_OPS.has(op.op)) deviceCalls++;
      if (k !== s) return { step, operation: canonical(op), kernel: k, simulator: s };
    }
    return undefined;
  } finally {
    // Closing the kernel context closes the device fd too: the device is free for the next
    // sequence even when this one failed half-way.
    await kernel.close();
    await simulator.close();
  }
}

/** Every errno path the plain sequences must reach. */
const PLAIN_OUTCOMES = [
  'ioasAlloc:OK', 'ioasAlloc:EOPNOTSUPP', 'destroy:OK', 'destroy:ENOENT',
  'ioasMap:OK', 'ioasMap:EEXIST', 'ioasMap:EINVAL', 'ioasMap:EOVERFLOW', 'ioasMap:ENOENT', 'ioasMap:ENOSPC',
  'ioasCopy:OK', 'ioasCopy:ENOENT', 'ioasCopy:EOVERFLOW', 'ioasUnmap:OK', 'ioasUnmap:ENOENT', 'ioasUnmap:EOVERFLOW',
  'ioasAllowIovas:OK', 'ioasAllowIovas:EINVAL', 'ioasIovaRanges:OK', 'ioasIovaRanges:EMSGSIZE',
  'option:OK', 'option:EOPNOTSUPP', 'option:EBUSY', 'testAddReserved:OK', 'testAddReserved:EADDRINUSE',
];

/**
 * The device errno paths (issue #9): each must occur in a device run of the CI size. `[attached]`
 * is a call on the IOAS the device is attached to, `[bound]` a context-wide OPTION while bound.
 */
const DEVICE_OUTCOMES = [
  'deviceBind:OK', 'deviceBind:EINVAL', 'deviceAttach:OK', 'deviceAttach:ENOENT', 'deviceAttach:EINVAL', 'deviceAttach:EADDRINUSE',
  'deviceAttach:EBADF', 'deviceDetach:OK', 'deviceUnbind:OK', 'destroyRef:EBUSY', 'destroyRef:ENOENT',
  'ioasMap[attached]:OK', 'ioasMap[attached]:EFAULT', 'ioasMap[attached]:EINVAL', 'ioasMap[attached]:ENOSPC',
  'ioasCopy[attached]:OK', 'ioasUnmap[attached]:OK', 'ioasIovaRanges[attached]:OK',
  'ioasAllowIovas[attached]:OK', 'ioasAllowIovas[attached]:EADDRINUSE', 'destroy[attached]:EBUSY', 'option[bound]:EBUSY',
];

describe('differential: real kernel vs simulator', () => {
  it(`${RUNS} random operation sequences give identical errnos and outputs (seed ${SEED})`, async () => {
    const mode = device ? `with device calls (${device.path}, profile ${device.profile.name})` : 'without device calls';
    console.log(`differential test: ${RUNS} sequences ${mode}, seed ${SEED} (replay with IOASFORM_DIFF_SEED=${SEED})`);
    if (!device) console.log(`differential test: no device calls generated: ${setup.ok ? '' : setup.reason}`);
    const started = Date.now();
    let sequences = 0;
    let operations = 0;
    const generator = device ? deviceOperationSequence({ unbackedVa: device.unbackedVa }) : operationSequence;
    await fc.assert(
      fc.asyncProperty(generator, async (ops) => {
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
    console.log(
      `differential test: ${sequences} sequences, ${operations} operations compared (${deviceCalls} device calls, ` +
        `${callsWhileBound} calls while the device was bound) in ${((Date.now() - started) / 1000).toFixed(1)} s; outcomes:\n${table.join('\n')}`,
    );
    expect(sequences).toBeGreaterThanOrEqual(RUNS);
    // The comparison means something only if the sequences reach the interesting outcomes.
    for (const expected of [...PLAIN_OUTCOMES, ...(device ? DEVICE_OUTCOMES : [])]) {
      expect(outcomes.get(expected) ?? 0, `no sequence produced ${expected}`).toBeGreaterThan(0);
    }
  });
});
