// The openKernel() side of the kernel micro-benchmark: the same calls as bench/kernel/raw-loop.c
// (IOAS_ALLOC once; per iteration IOAS_MAP of a 4 KiB anonymous buffer at a fixed IOVA,
// IOAS_IOVA_RANGES with room for 4 ranges, OPTION get HUGE_PAGES, IOAS_UNMAP; DESTROY at the
// end), through the built package (dist/), the way the CLI reaches the kernel. Runs inside the VM:
//   node dist-bench/bench/kernel/loop.js ITERATIONS WARMUP
// Prints one JSON line in the C program's format, with "impl":"openKernel" (bestChunkNsPerCall:
// the fastest CHUNK consecutive timed iterations, as raw-loop.c measures it), plus `slowCalls`:
// with the fast-call addon loaded, how many of its calls ran the slow callback (null without it;
// IOASFORM_FAST_IOCTL=0 turns it off), so a run shows which crossing it measured, and `gcCount`
// / `gcMs`: the garbage collections inside the timed loop.

import { join, resolve, dirname } from 'node:path';
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as KernelModule from '../../src/backends/kernel/kernel.js';
import type * as NativeModule from '../../src/backends/kernel/native.js';
import { isOk, type Ok, type UapiResult, IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET } from '../../src/model/uapi.js';
import type { LoopResult } from './parse.js';

// The same constants as raw-loop.c.
const BUFFER_SIZE = 4096n;
const FIXED_IOVA = 0x100000n;
const RANGE_CAPACITY = 4;
const CALLS_PER_ITERATION = 4;
const CHUNK = 1000;

/** dist-bench/bench/kernel/ -> the repository root, whose dist/ holds the built package. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function importBuilt<T>(relative: string): Promise<T> {
  return (await import(pathToFileURL(join(repoRoot, 'dist', relative)).href)) as T;
}

function fail(call: string, errno: number): never {
  process.stdout.write(`${JSON.stringify({ impl: 'openKernel', error: call, errno })}\n`);
  process.exit(1);
}

/** The call's outputs; any errno ends the benchmark (the sequence never fails on a working kernel). */
function must<T extends object>(call: string, result: UapiResult<T>): Ok<T> {
  if (!isOk(result)) fail(call, result.errno);
  return result;
}

const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;

/** `n` iterations of the four calls, each checked as raw-loop.c checks them. */
function runIterations(k: KernelModule.KernelContext, ioasId: number, userVa: bigint, n: number): void {
  for (let i = 0; i < n; i++) {
    must('IOAS_MAP', k.ioasMap({ flags: MAP_FLAGS, ioasId, userVa, length: BUFFER_SIZE, iova: FIXED_IOVA }));
    must('IOAS_IOVA_RANGES', k.ioasIovaRanges({ ioasId, numIovas: RANGE_CAPACITY }));
    must('OPTION', k.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, objectId: ioasId, val64: 0n }));
    if (must('IOAS_UNMAP', k.ioasUnmap({ ioasId, iova: FIXED_IOVA, length: BUFFER_SIZE })).length !== BUFFER_SIZE) fail('IOAS_UNMAP length', 0);
  }
}

async function main(iterations: number, warmup: number): Promise<LoopResult & { readonly slowCalls: number | null; readonly gcCount: number; readonly gcMs: number }> {
  const { openKernel } = await importBuilt<typeof KernelModule>('backends/kernel/kernel.js');
  // Partial: a checkout from before the fast-call addon (an interleaved "base" run) has no loadFastIoctl.
  const { loadNative, loadFastIoctl } = await importBuilt<Partial<typeof NativeModule> & Pick<typeof NativeModule, 'loadNative'>>('backends/kernel/native.js');
  const native = loadNative();
  if (!native.ok) fail(`addon: ${native.reason}`, 0);
  const buffer = native.addon.mapMemory({ kind: 'anonymous', size: BUFFER_SIZE });
  if (buffer.errno !== 0) fail('mmap', buffer.errno);
  const userVa = (buffer as { addr: bigint }).addr;

  let k: KernelModule.KernelContext;
  try {
    k = openKernel();
  } catch (error) {
    fail(`open: ${(error as Error).message}`, 0);
  }
  const ioasId = must('IOAS_ALLOC', k.ioasAlloc({ flags: 0 })).outIoasId;

  // Garbage collections during the timed loop (reported, not subtracted): the results' objects
  // and bigints are allocated per call, and under TCG a scavenge took 18-78 ms in a --trace-gc run.
  const collections: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => collections.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  let timedFrom = 0;

  // The calls run in chunks of CHUNK iterations in their own function (`runIterations`), warm-up
  // included; the timing sits between chunks, in `main`. With the timing inside the loop body,
  // as before, the loop was optimized during the warm-up without feedback for the timing branches,
  // so it was deoptimized when the timed part began and again at the first chunk boundary; under
  // TCG re-optimizing took 13-20 chunks at 2-7x the settled cost (bench/README.md, session 4).
  // The C loop has no such cost, so this kept the harness's own deopts in the JavaScript figure.
  const run = (n: number): void => runIterations(k, ioasId, userVa, n);
  for (let done = 0; done < warmup; done += CHUNK) run(Math.min(CHUNK, warmup - done));
  timedFrom = performance.now();
  const start = process.hrtime.bigint();
  let bestChunk = 0n;
  for (let done = 0; done < iterations; done += CHUNK) {
    const n = Math.min(CHUNK, iterations - done);
    const chunkStart = process.hrtime.bigint();
    run(n);
    const took = process.hrtime.bigint() - chunkStart;
    if (n === CHUNK && (bestChunk === 0n || took < bestChunk)) bestChunk = took;
  }
  const end = process.hrtime.bigint();
  const timedTo = performance.now();
  const seconds = Number(end - start) / 1e9;

  must('DESTROY', k.destroy({ id: ioasId }));
  k.close();
  const slowCalls = loadFastIoctl?.()?.slowCalls() ?? null;
  // GC entries are delivered asynchronously, after the synchronous loop.
  await new Promise((done) => setTimeout(done, 50));
  observer.disconnect();
  const timedGc = collections.filter((e) => e.startTime >= timedFrom && e.startTime <= timedTo);
  const gcMs = timedGc.reduce((sum, e) => sum + e.duration, 0);
  const calls = iterations * CALLS_PER_ITERATION;
  const nsPerCall = (seconds * 1e9) / calls;
  // Fewer than CHUNK iterations: the whole run is the only chunk.
  const bestChunkNsPerCall = bestChunk > 0n ? Number(bestChunk) / (CHUNK * CALLS_PER_ITERATION) : nsPerCall;
  return { impl: 'openKernel', iterations, calls, seconds, callsPerSecond: calls / seconds, nsPerCall, bestChunkNsPerCall, slowCalls, gcCount: timedGc.length, gcMs };
}

const iterations = Number(process.argv[2]);
const warmup = Number(process.argv[3]);
if (!Number.isInteger(iterations) || iterations <= 0 || !Number.isInteger(warmup) || warmup < 0) {
  process.stderr.write('usage: loop.js ITERATIONS WARMUP\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await main(iterations, warmup))}\n`);
