// The kernel micro-benchmark (issue 7 item 2): boots the test VM once (test/kernel/harness.ts)
// and runs, alternately, the raw C loop (raw-loop.c, compiled here with `cc`; the guest shares
// the host's root, so the binary runs inside) and the same calls through openKernel()
// (loop.ts, using the built dist/), with the same iteration count. `npm run bench` calls it
// after the sizes; on its own: `node dist-bench/bench/kernel/run.js`.
//   BENCH_KERNEL=0 skips it; BENCH_KERNEL_ITERATIONS (default 20000), BENCH_KERNEL_WARMUP
//   (default 10000) and BENCH_KERNEL_REPEATS (default 3 runs of each program) tune it.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GUEST_OUT, bootGuest, checkKernelEnvironment } from '../../test/kernel/harness.js';
import { parseLoopOutput, summarizeLoops, type KernelLoopSummary, type LoopResult } from './parse.js';

/** dist-bench/bench/kernel/ -> the checkout (its dist/, build/ and bench/ sources). */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const outDir = join(repoRoot, 'test-output', 'bench-kernel');
const binary = join(repoRoot, 'dist-bench', 'bench', 'kernel', 'raw-loop');
const loopScript = join(repoRoot, 'dist-bench', 'bench', 'kernel', 'loop.js');
// TCG boots and node's start over 9p take minutes on a loaded 2-core machine.
const TIMEOUT_MS = 15 * 60_000;

export type KernelBenchOutcome =
  | { readonly status: 'measured'; readonly summary: KernelLoopSummary; readonly vmSeconds: number }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string };

function positiveInteger(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

/** The guest's script: each program REPEATS times, alternately, one JSON line each. */
function guestCommands(iterations: number, warmup: number, repeats: number): string {
  const results = `${GUEST_OUT}/loops.jsonl`;
  const errors = `${GUEST_OUT}/errors.txt`;
  const c = `${JSON.stringify(binary)} ${iterations} ${warmup}`;
  const js = `${JSON.stringify(process.execPath)} ${JSON.stringify(loopScript)} ${iterations} ${warmup}`;
  return [
    `echo "ioasform-guest: kernel bench, ${repeats} x (C, openKernel), ${iterations} iterations"`,
    `for i in $(seq ${repeats}); do`,
    `  ${c} >> ${results} 2>> ${errors}`,
    `  ${js} >> ${results} 2>> ${errors}`,
    'done',
  ].join('\n');
}

export async function runKernelBench(): Promise<KernelBenchOutcome> {
  if (process.env['BENCH_KERNEL'] === '0') return { status: 'skipped', reason: 'BENCH_KERNEL=0' };
  const env = checkKernelEnvironment(repoRoot);
  if (!env.ok) return { status: 'skipped', reason: env.reason };
  if (!existsSync(join(repoRoot, 'dist', 'backends', 'kernel', 'kernel.js'))) {
    return { status: 'skipped', reason: 'dist/ is not built (run `npm run build`): the openKernel loop uses the built package' };
  }
  try {
    await promisify(execFile)('cc', ['-O2', '-Wall', '-Wextra', '-o', binary, join(repoRoot, 'bench', 'kernel', 'raw-loop.c')]);
  } catch (error) {
    return { status: 'skipped', reason: `cannot compile bench/kernel/raw-loop.c with cc: ${(error as Error).message}` };
  }
  const iterations = positiveInteger('BENCH_KERNEL_ITERATIONS', 20_000);
  // Under TCG, V8's optimizing compiles take seconds: the in-VM warm-up curve of the openKernel
  // loop was still falling after 5000 iterations (bench/README.md). Both sides get the same.
  const warmup = positiveInteger('BENCH_KERNEL_WARMUP', 10_000);
  const repeats = Math.max(1, positiveInteger('BENCH_KERNEL_REPEATS', 3));

  const boot = await bootGuest(env.env, { repoRoot, outDir, commands: guestCommands(iterations, warmup, repeats), timeoutMs: TIMEOUT_MS });
  const read = (name: string): string => (existsSync(join(outDir, name)) ? readFileSync(join(outDir, name), 'utf8') : '');
  const lines = read('loops.jsonl').split('\n').filter((line) => line.trim() !== '');
  const runs: LoopResult[] = [];
  for (const line of lines) {
    const parsed = parseLoopOutput(line);
    if (!parsed.ok) return { status: 'failed', reason: `${parsed.reason}; guest stderr: ${read('errors.txt').slice(0, 2000)}` };
    runs.push(parsed.result);
  }
  const summary = summarizeLoops(runs);
  if ('error' in summary) {
    const why = boot.timedOut ? `the VM timed out after ${TIMEOUT_MS / 1000} s` : summary.error;
    return { status: 'failed', reason: `${why}; guest stderr: ${read('errors.txt').slice(0, 2000)}; console tail: ${boot.consoleLog.slice(-2000)}` };
  }
  return { status: 'measured', summary, vmSeconds: boot.seconds };
}

export function formatKernelBench(outcome: KernelBenchOutcome): string {
  if (outcome.status !== 'measured') return `kernel micro-benchmark ${outcome.status}: ${outcome.reason}`;
  const s = outcome.summary;
  return [
    `kernel micro-benchmark (in the QEMU/TCG VM, ${s.iterations} iterations x 4 calls, median of ${s.runs.length / 2} runs each):`,
    `  raw C loop   ${s.cNsPerCall.toFixed(0)} ns/call (${(1e9 / s.cNsPerCall).toFixed(0)} calls/s)`,
    `  openKernel   ${s.openKernelNsPerCall.toFixed(0)} ns/call (${(1e9 / s.openKernelNsPerCall).toFixed(0)} calls/s)`,
    `  ratio ${s.ratio.toFixed(2)}x`,
    ...(s.best
      ? [`  fastest 1000-iteration chunk: C ${s.best.cNsPerCall.toFixed(0)}, openKernel ${s.best.openKernelNsPerCall.toFixed(0)} ns/call, ratio ${s.best.ratio.toFixed(2)}x`]
      : []),
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const outcome = await runKernelBench();
  process.stdout.write(`${formatKernelBench(outcome)}\n`);
  if (outcome.status === 'failed') process.exitCode = 1;
}
