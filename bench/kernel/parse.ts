// Reading the kernel micro-benchmark's output: each loop program (raw-loop.c, loop.ts) prints
// one JSON line; the guest script runs them alternately several times. Plain functions so that a
// unit test (test/bench/kernel-parse.test.ts) can check them without a VM.

export type LoopImpl = 'c' | 'openKernel';

/** One timed run of one loop program. */
export interface LoopResult {
  readonly impl: LoopImpl;
  readonly iterations: number;
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly nsPerCall: number;
  /** ns/call of the run's fastest 1000 consecutive iterations (absent in lines of older programs). */
  readonly bestChunkNsPerCall?: number;
}

export type ParsedLoop = { readonly ok: true; readonly result: LoopResult } | { readonly ok: false; readonly reason: string };

const NUMERIC_FIELDS = ['iterations', 'calls', 'seconds', 'callsPerSecond', 'nsPerCall'] as const;

/** The last line of a loop program's stdout that is a JSON object: a result, or why not. */
export function parseLoopOutput(stdout: string): ParsedLoop {
  const line = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{')).pop();
  if (line === undefined) return { ok: false, reason: 'no JSON line in the output' };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: `not JSON: ${line}` };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: `not an object: ${line}` };
  const record = value as Record<string, unknown>;
  if (typeof record['error'] === 'string') return { ok: false, reason: `${String(record['impl'])}: ${record['error']} failed, errno ${String(record['errno'])}` };
  if (record['impl'] !== 'c' && record['impl'] !== 'openKernel') return { ok: false, reason: `unknown impl in: ${line}` };
  for (const field of NUMERIC_FIELDS) {
    const n = record[field];
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return { ok: false, reason: `field ${field} is not a positive number in: ${line}` };
  }
  const best = record['bestChunkNsPerCall'];
  if (best !== undefined && (typeof best !== 'number' || !Number.isFinite(best) || best <= 0)) return { ok: false, reason: `field bestChunkNsPerCall is not a positive number in: ${line}` };
  if (record['calls'] !== (record['iterations'] as number) * 4) return { ok: false, reason: `calls is not 4 x iterations in: ${line}` };
  return { ok: true, result: value as LoopResult };
}

/** What the benchmark reports: both sides' median per-call cost and their ratio. */
export interface KernelLoopSummary {
  readonly iterations: number;
  readonly cNsPerCall: number;
  readonly openKernelNsPerCall: number;
  /** per-call cost(openKernel) / per-call cost(C); the target is <= 2. */
  readonly ratio: number;
  /**
   * The least disturbed figures: each side's fastest chunk over all its runs, and their ratio;
   * absent when a run did not report chunks. On a loaded machine the medians carry the load.
   */
  readonly best?: { readonly cNsPerCall: number; readonly openKernelNsPerCall: number; readonly ratio: number };
  readonly runs: readonly LoopResult[];
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Medians of each side's ns/call over runs of the same iteration count, or why there is no answer. */
export function summarizeLoops(runs: readonly LoopResult[]): KernelLoopSummary | { readonly error: string } {
  const c = runs.filter((r) => r.impl === 'c');
  const js = runs.filter((r) => r.impl === 'openKernel');
  if (c.length === 0 || js.length === 0) return { error: `needs runs of both programs (C: ${c.length}, openKernel: ${js.length})` };
  const iterations = new Set(runs.map((r) => r.iterations));
  if (iterations.size !== 1) return { error: `the runs used different iteration counts (${[...iterations].join(', ')})` };
  const cNsPerCall = medianOf(c.map((r) => r.nsPerCall));
  const openKernelNsPerCall = medianOf(js.map((r) => r.nsPerCall));
  const summary = { iterations: runs[0]!.iterations, cNsPerCall, openKernelNsPerCall, ratio: openKernelNsPerCall / cNsPerCall, runs };
  const cBest = bestChunkOf(c);
  const jsBest = bestChunkOf(js);
  if (cBest === undefined || jsBest === undefined) return summary;
  return { ...summary, best: { cNsPerCall: cBest, openKernelNsPerCall: jsBest, ratio: jsBest / cBest } };
}

function bestChunkOf(runs: readonly LoopResult[]): number | undefined {
  const chunks = runs.map((r) => r.bestChunkNsPerCall);
  return chunks.every((n): n is number => n !== undefined) ? Math.min(...chunks) : undefined;
}
