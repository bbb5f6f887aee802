// The openKernel() side of the kernel micro-benchmark: the same calls as bench/kernel/raw-loop.c
// (IOAS_ALLOC once; per iteration IOAS_MAP of a 4 KiB anonymous buffer at a fixed IOVA,
// IOAS_IOVA_RANGES with room for 4 ranges, OPTION get HUGE_PAGES, IOAS_UNMAP; DESTROY at the
// end), through the built package (dist/), the way the CLI reaches the kernel. Runs inside the VM:
//   node dist-bench/bench/kernel/loop.js ITERATIONS WARMUP
// Prints one JSON line in the C program's format, with "impl":"openKernel" (bestChunkNsPerCall:
// the fastest CHUNK consecutive timed iterations, as raw-loop.c measures it), plus `slowCalls`:
// with the fast-call addon loaded, how many of its calls ran the slow callback (null without it;
// IOASFORM_FAST_IOCTL=0 turns it off), so a run shows which crossing it measured.

import { join, resolve, dirname } from 'node:path';
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

async function main(iterations: number, warmup: number): Promise<LoopResult & { readonly slowCalls: number | null }> {
  const { openKernel } = await importBuilt<typeof KernelModule>('backends/kernel/kernel.js');
  const { loadNative, loadFastIoctl } = await importBuilt<typeof NativeModule>('backends/kernel/native.js');
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
  const mapFlags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;

  let start = 0n;
  let chunkStart = 0n;
  let bestChunk = 0n;
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) {
      start = process.hrtime.bigint();
      chunkStart = start;
    } else if (i > warmup && (i - warmup) % CHUNK === 0) {
      const now = process.hrtime.bigint();
      if (bestChunk === 0n || now - chunkStart < bestChunk) bestChunk = now - chunkStart;
      chunkStart = now;
    }
    must('IOAS_MAP', k.ioasMap({ flags: mapFlags, ioasId, userVa, length: BUFFER_SIZE, iova: FIXED_IOVA }));
    must('IOAS_IOVA_RANGES', k.ioasIovaRanges({ ioasId, numIovas: RANGE_CAPACITY }));
    must('OPTION', k.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, objectId: ioasId, val64: 0n }));
    if (must('IOAS_UNMAP', k.ioasUnmap({ ioasId, iova: FIXED_IOVA, length: BUFFER_SIZE })).length !== BUFFER_SIZE) fail('IOAS_UNMAP length', 0);
  }
  const end = process.hrtime.bigint();
  if (iterations % CHUNK === 0 && (bestChunk === 0n || end - chunkStart < bestChunk)) bestChunk = end - chunkStart;
  const seconds = Number(end - start) / 1e9;

  must('DESTROY', k.destroy({ id: ioasId }));
  k.close();
  const slowCalls = loadFastIoctl()?.slowCalls() ?? null;
  const calls = iterations * CALLS_PER_ITERATION;
  const nsPerCall = (seconds * 1e9) / calls;
  // Fewer than CHUNK iterations: the whole run is the only chunk.
  const bestChunkNsPerCall = bestChunk > 0n ? Number(bestChunk) / (CHUNK * CALLS_PER_ITERATION) : nsPerCall;
  return { impl: 'openKernel', iterations, calls, seconds, callsPerSecond: calls / seconds, nsPerCall, bestChunkNsPerCall, slowCalls };
}

const iterations = Number(process.argv[2]);
const warmup = Number(process.argv[3]);
if (!Number.isInteger(iterations) || iterations <= 0 || !Number.isInteger(warmup) || warmup < 0) {
  process.stderr.write('usage: loop.js ITERATIONS WARMUP\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await main(iterations, warmup))}\n`);
