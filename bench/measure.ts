// Timing helpers: the median of several runs, with a full GC before each run (when node runs
// with --expose-gc) so one phase's garbage is not collected on the next phase's clock.

export interface Timing {
  /** Median wall time, milliseconds. */
  readonly medianMs: number;
  /** Every run, milliseconds, in run order. */
  readonly runsMs: readonly number[];
}

const collect = (globalThis as { gc?: () => void }).gc;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `work` `runs` times; `work` returns a value so the optimizer cannot drop it. */
export async function measure<T>(runs: number, work: () => T | Promise<T>): Promise<{ timing: Timing; last: T }> {
  const runsMs: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < runs; i++) {
    collect?.();
    const start = process.hrtime.bigint();
    last = await work();
    runsMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  if (runs < 1) throw new Error('measure needs at least one run');
  return { timing: { medianMs: median(runsMs), runsMs }, last: last as T };
}
