import { describe, expect, it } from 'vitest';
import { parseLoopOutput, summarizeLoops, type LoopResult } from '../../bench/kernel/parse.js';

const line = (fields: Record<string, unknown>) => JSON.stringify(fields);
const run = (impl: 'c' | 'openKernel', nsPerCall: number, iterations = 1000): LoopResult => {
  const calls = iterations * 4;
  const seconds = (nsPerCall * calls) / 1e9;
  return { impl, iterations, calls, seconds, callsPerSecond: calls / seconds, nsPerCall };
};

describe('kernel micro-benchmark output parser', () => {
  it('reads the C program line, taking the last JSON line of the output', () => {
    const out = `noise\n${line({ impl: 'c', iterations: 10, calls: 40, seconds: 0.002, callsPerSecond: 20000, nsPerCall: 50000 })}\n`;
    const parsed = parseLoopOutput(out);
    expect(parsed).toEqual({ ok: true, result: { impl: 'c', iterations: 10, calls: 40, seconds: 0.002, callsPerSecond: 20000, nsPerCall: 50000 } });
  });

  it('reports a failed call with its name and errno', () => {
    const parsed = parseLoopOutput(line({ impl: 'openKernel', error: 'IOAS_MAP', errno: 22 }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toBe('openKernel: IOAS_MAP failed, errno 22');
  });

  it.each([
    ['no JSON at all', 'Segmentation fault'],
    ['truncated JSON', '{"impl":"c","iterations":10'],
    ['an unknown program', line({ impl: 'python', iterations: 10, calls: 40, seconds: 1, callsPerSecond: 40, nsPerCall: 1 })],
    ['a zero time', line({ impl: 'c', iterations: 10, calls: 40, seconds: 0, callsPerSecond: 40, nsPerCall: 1 })],
    ['a missing field', line({ impl: 'c', iterations: 10, calls: 40, seconds: 1, callsPerSecond: 40 })],
    ['a non-positive fastest chunk', line({ impl: 'c', iterations: 10, calls: 40, seconds: 1, callsPerSecond: 40, nsPerCall: 1, bestChunkNsPerCall: 0 })],
    ['a fastest chunk that is not a number', line({ impl: 'c', iterations: 10, calls: 40, seconds: 1, callsPerSecond: 40, nsPerCall: 1, bestChunkNsPerCall: '5' })],
    ['calls that are not 4 per iteration', line({ impl: 'c', iterations: 10, calls: 30, seconds: 1, callsPerSecond: 30, nsPerCall: 1 })],
  ])('rejects %s', (_what, text) => {
    expect(parseLoopOutput(text).ok).toBe(false);
  });
});

describe('kernel micro-benchmark summary', () => {
  it('takes the median of each side and divides openKernel by C', () => {
    const summary = summarizeLoops([run('c', 100), run('openKernel', 150), run('c', 300), run('openKernel', 120), run('c', 110), run('openKernel', 900)]);
    if ('error' in summary) throw new Error(summary.error);
    expect(summary.cNsPerCall).toBe(110);
    expect(summary.openKernelNsPerCall).toBe(150);
    expect(summary.ratio).toBeCloseTo(150 / 110, 12);
    expect(summary.iterations).toBe(1000);
  });

  it('takes each side\'s fastest chunk over all its runs for the least disturbed ratio', () => {
    const withBest = (r: LoopResult, best: number): LoopResult => ({ ...r, bestChunkNsPerCall: best });
    const summary = summarizeLoops([withBest(run('c', 100), 60), withBest(run('openKernel', 150), 90), withBest(run('c', 300), 50), withBest(run('openKernel', 120), 110)]);
    if ('error' in summary) throw new Error(summary.error);
    expect(summary.best).toEqual({ cNsPerCall: 50, openKernelNsPerCall: 90, ratio: 90 / 50 });
    // A run of an older program without chunks: no best figures, the medians still stand.
    const mixed = summarizeLoops([withBest(run('c', 100), 60), run('openKernel', 150)]);
    if ('error' in mixed) throw new Error(mixed.error);
    expect(mixed.best).toBeUndefined();
    expect(mixed.ratio).toBe(1.5);
  });

  it('needs both programs and one iteration count', () => {
    expect(summarizeLoops([run('c', 100)])).toHaveProperty('error');
    expect(summarizeLoops([run('c', 100, 10), run('openKernel', 100, 20)])).toHaveProperty('error');
  });
});
