// One boot of the test VM that runs several variants of the kernel micro-benchmark alternately,
// so every variant sees the same host load (the shared machine's load moves the per-call cost by
// 2x or more between boots). Variants, in this order per round:
//   c        raw-loop.c (as run.ts)
//   fast     loop.js of this checkout (the fast-call addon when it is built)
//   napi     the same loop.js with IOASFORM_FAST_IOCTL=0 (the main addon's N-API entries)
//   base     loop.js of another checkout (BENCH_KERNEL_BASE=/path, built: dist/, dist-bench/, build/)
// Prints every run's ns/call and fastest-chunk ns/call per variant, and each variant's ratios to C.
//   node dist-bench/bench/kernel/interleave.js        (BENCH_KERNEL_ITERATIONS, _WARMUP, _REPEATS as run.ts)
// Not part of `npm run bench`: a measuring aid for before/after comparisons (bench/README.md).

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GUEST_OUT, bootGuest, checkKernelEnvironment } from '../../test/kernel/harness.js';
import { parseLoopOutput, type LoopResult } from './parse.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const outDir = join(repoRoot, 'test-output', 'bench-kernel-interleave');
const binary = join(repoRoot, 'dist-bench', 'bench', 'kernel', 'raw-loop');

interface Variant {
  readonly name: string;
  readonly command: string;
}

function count(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

function variants(iterations: number, warmup: number): Variant[] {
  const node = JSON.stringify(process.execPath);
  const loop = (root: string): string => `${node} ${JSON.stringify(join(root, 'dist-bench', 'bench', 'kernel', 'loop.js'))} ${iterations} ${warmup}`;
  const list: Variant[] = [
    { name: 'c', command: `${JSON.stringify(binary)} ${iterations} ${warmup}` },
    { name: 'fast', command: loop(repoRoot) },
    { name: 'napi', command: `IOASFORM_FAST_IOCTL=0 ${loop(repoRoot)}` },
  ];
  const base = process.env['BENCH_KERNEL_BASE'];
  if (base) list.push({ name: 'base', command: loop(resolve(base)) });
  return list;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<number> {
  const env = checkKernelEnvironment(repoRoot);
  if (!env.ok) {
    process.stdout.write(`skipped: ${env.reason}\n`);
    return 0;
  }
  await promisify(execFile)('cc', ['-O2', '-Wall', '-Wextra', '-o', binary, join(repoRoot, 'bench', 'kernel', 'raw-loop.c')]);
  const iterations = count('BENCH_KERNEL_ITERATIONS', 20_000);
  const warmup = count('BENCH_KERNEL_WARMUP', 10_000);
  const repeats = Math.max(1, count('BENCH_KERNEL_REPEATS', 3));
  const list = variants(iterations, warmup);
  const results = `${GUEST_OUT}/runs.txt`;
  const commands = [
    `echo "ioasform-guest: kernel bench interleaved, ${repeats} x (${list.map((v) => v.name).join(', ')})"`,
    `for i in $(seq ${repeats}); do`,
    ...list.map((v) => `  printf '%s ' ${v.name} >> ${results}; ${v.command} >> ${results} 2>> ${GUEST_OUT}/errors.txt || echo >> ${results}`),
    'done',
  ].join('\n');
  const boot = await bootGuest(env.env, { repoRoot, outDir, commands, timeoutMs: 30 * 60_000 });
  const text = existsSync(join(outDir, 'runs.txt')) ? readFileSync(join(outDir, 'runs.txt'), 'utf8') : '';
  const byVariant = new Map<string, (LoopResult & { readonly slowCalls?: number | null; readonly gcCount?: number; readonly gcMs?: number })[]>();
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    const space = line.indexOf(' ');
    const name = line.slice(0, space);
    const parsed = parseLoopOutput(line.slice(space + 1));
    if (!parsed.ok) {
      process.stdout.write(`${name}: ${parsed.reason}\n`);
      continue;
    }
    byVariant.set(name, [...(byVariant.get(name) ?? []), parsed.result]);
  }
  const c = byVariant.get('c') ?? [];
  if (c.length === 0) {
    process.stdout.write(`no C runs (timed out: ${boot.timedOut}); errors: ${existsSync(join(outDir, 'errors.txt')) ? readFileSync(join(outDir, 'errors.txt'), 'utf8').slice(0, 2000) : ''}\n`);
    return 1;
  }
  const cMedian = median(c.map((r) => r.nsPerCall));
  const cBest = Math.min(...c.map((r) => r.bestChunkNsPerCall ?? r.nsPerCall));
  process.stdout.write(`${iterations} iterations x 4 calls, warm-up ${warmup}, ${repeats} rounds, VM ${boot.seconds.toFixed(0)} s\n`);
  for (const [name, runs] of byVariant) {
    const ns = runs.map((r) => r.nsPerCall);
    const best = runs.map((r) => r.bestChunkNsPerCall ?? r.nsPerCall);
    const slow = runs.map((r) => r.slowCalls).filter((s) => s !== undefined);
    const gc = runs.filter((r) => r.gcMs !== undefined).map((r) => `${r.gcCount} in ${r.gcMs!.toFixed(0)} ms`);
    const ratios = name === 'c' ? '' : `  ratio median ${(median(ns) / cMedian).toFixed(2)}x, fastest chunk ${(Math.min(...best) / cBest).toFixed(2)}x`;
    process.stdout.write(
      `${name.padEnd(5)} ns/call ${ns.map((v) => v.toFixed(0)).join(', ')}; fastest chunks ${best.map((v) => v.toFixed(0)).join(', ')}${ratios}${slow.length ? `; slowCalls ${slow.join(', ')}` : ''}${gc.length ? `; GCs ${gc.join(', ')}` : ''}\n`,
    );
  }
  return 0;
}

process.exitCode = await main();
