// The commit design (docs/state.md "Commits"): the applier commits the state at the end of an
// operation and at checkpoints, not after every call; journal records are made durable before
// any state that refers to them; a rollback commits once; a held backend commits only at the end
// and, when storage fails, undoes its calls in memory.
import { describe, expect, it } from 'vitest';
import type { ApplySink } from '../../src/apply/apply.js';
import { applySteps } from '../../src/apply/apply.js';
import type { JournalRecord } from '../../src/apply/journal-records.js';
import { openTarget } from '../../src/apply/target.js';
import { openSimulator } from '../../src/backends/sim/index.js';
import { withFault } from '../../src/backends/faulty.js';
import type { Layout } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import { ERRNO } from '../../src/model/uapi.js';
import { makePlan } from '../../src/plan/plan.js';
import { faultyHolder, simHolder } from '../../src/apply/holder.js';
import { host } from '../support/random-layout.js';
import { comparable, exampleLayout } from './support.js';

/** A sink that records what the applier asks of storage, in order. */
function recordingSink(options: { failCommit?: number } = {}): ApplySink & { log: string[]; durable: JournalRecord[]; commits: StateBody[] } {
  const queued: JournalRecord[] = [];
  const durable: JournalRecord[] = [];
  const commits: StateBody[] = [];
  const log: string[] = [];
  const flush = async (): Promise<void> => {
    durable.push(...queued.splice(0));
    log.push('flush');
  };
  return {
    log,
    durable,
    commits,
    journal: (r) => void queued.push(r),
    flush,
    commit: async (body) => {
      await flush();
      if (options.failCommit === commits.length + 1) throw new Error('disk full');
      // Every call the body says it includes has its records on disk already.
      const calls = durable.filter((r) => r.type === 'done' && r.seq <= body.journalSeq).length;
      log.push(`commit@${body.journalSeq} (${calls} done records durable)`);
      commits.push(body);
    },
  };
}

/** What a simulated kernel holds, without the counters an undo legitimately moves on (pages ids; NONE reads as USER). */
function kernelView(sim: { snapshot(): unknown }): string {
  const snap = sim.snapshot() as { accountMode: string; objects: { hugePages: boolean; allowed: unknown; areas: { iova: string; last: string; flags: number }[] }[] };
  return JSON.stringify({
    accountMode: snap.accountMode === 'none' ? 'user' : snap.accountMode,
    objects: snap.objects.map((o) => ({ hugePages: o.hugePages, allowed: o.allowed, areas: o.areas.map((a) => [a.iova, a.last, a.flags]) })),
  });
}

function planSteps(layout: Layout, from: StateBody = emptyStateBody('sim')) {
  const made = makePlan({ desired: layout, recorded: from, basis: { lineage: null, serial: 0 }, host });
  if (!made.ok) throw new Error(made.error.message);
  return made.plan.steps;
}

describe('commits', () => {
  it('an apply commits once, at its end, with every call journaled and durable before it', async () => {
    const steps = planSteps(await exampleLayout('test-lab'));
    const opened = openTarget('sim', emptyStateBody('sim'));
    if (!opened.ok) throw new Error(opened.message);
    const sink = recordingSink();
    const report = await applySteps(opened.target.env, sink, { snapshot: opened.target.snapshot }, emptyStateBody('sim'), steps, 'apply');
    expect(report.outcome).toBe('applied');
    expect(sink.commits).toHaveLength(1);
    expect(sink.commits[0]!.journalSeq).toBe(steps.length);
    // The begin record is flushed before the first call; the commit flushes everything else first.
    expect(sink.log.slice(0, 3)).toEqual(['flush', 'flush', `commit@${steps.length} (${steps.length} done records durable)`]);
    expect(sink.durable[0]).toMatchObject({ type: 'begin', firstSeq: 1 });
    // The end record comes after the commit, and is flushed too.
    expect(sink.durable.at(-1)).toMatchObject({ type: 'end', outcome: 'applied' });
    expect(sink.log.at(-1)).toBe('flush');
  });

  it('with commitFinal, a completed apply drops the queued records instead of encoding them', async () => {
    const steps = planSteps(await exampleLayout('test-lab'));
    const opened = openTarget('sim', emptyStateBody('sim'));
    if (!opened.ok) throw new Error(opened.message);
    const sink = recordingSink();
    const finals: StateBody[] = [];
    const report = await applySteps(opened.target.env, { ...sink, commitFinal: async (b) => void finals.push(b) }, { snapshot: opened.target.snapshot }, emptyStateBody('sim'), steps, 'apply');
    expect(report.outcome).toBe('applied');
    expect(sink.commits).toHaveLength(0);
    expect(finals.map((b) => b.journalSeq)).toEqual([steps.length]);
    // Durable: the begin record (before the first call) and, after the commit, the end record only
    // (the recording sink's queue still held the calls' records when commitFinal ran; a real sink drops them).
    expect(sink.durable[0]).toMatchObject({ type: 'begin', firstSeq: 1 });
    expect(sink.durable.at(-1)).toMatchObject({ type: 'end', outcome: 'applied' });
  });

  it('checkpoints every N calls when the policy says so, and does not repeat a commit at the last call', async () => {
    const steps = planSteps(await exampleLayout('test-lab'));
    for (const every of [1, 3, 5]) {
      const opened = openTarget('sim', emptyStateBody('sim'));
      if (!opened.ok) throw new Error(opened.message);
      const sink = recordingSink();
      await applySteps(opened.target.env, sink, { snapshot: opened.target.snapshot, checkpoints: { everyCalls: every, everyMs: Infinity, costRatio: 0 } }, emptyStateBody('sim'), steps, 'apply');
      expect(sink.commits.map((c) => c.journalSeq)).toEqual([...Array.from({ length: Math.floor(steps.length / every) }, (_, i) => (i + 1) * every), ...(steps.length % every === 0 ? [] : [steps.length])]);
      for (const line of sink.log.filter((l) => l.startsWith('commit@'))) {
        const [, seq, durableDone] = /commit@(\d+) \((\d+)/.exec(line)!;
        expect(durableDone).toBe(seq);
      }
    }
  });

  it('a rollback commits once, at its end, and the committed body equals the one before the apply', async () => {
    const steps = planSteps(await exampleLayout('test-lab'));
    // One counter for uapi and holder calls, so call 12 is step 12.
    const counter = { n: 0 };
    const opened = openTarget('sim', emptyStateBody('sim'), { wrap: (ctx) => withFault(ctx, { failCall: 12, errno: ERRNO.ENOMEM }, counter), holder: faultyHolder(simHolder, 12, ERRNO.ENOMEM, 'ENOMEM', counter) });
    if (!opened.ok) throw new Error(opened.message);
    const start = opened.target.snapshot(emptyStateBody('sim'));
    const sink = recordingSink();
    const report = await applySteps(opened.target.env, sink, { snapshot: opened.target.snapshot, checkpoints: { everyCalls: 4, everyMs: Infinity, costRatio: 0 } }, start, steps, 'apply');
    expect(report.outcome).toBe('rolled-back');
    expect(report.failure?.step).toEqual(steps[11]);
    // Checkpoints at 4 and 8 during the forward calls, then one commit for the whole rollback.
    expect(sink.commits.map((c) => c.journalSeq).slice(0, -1)).toEqual([4, 8]);
    expect(sink.commits).toHaveLength(3);
    expect(comparable({ ...sink.commits.at(-1)!, journalSeq: 0 })).toEqual(comparable({ ...start, journalSeq: 0 }));
    expect(sink.durable.at(-1)).toMatchObject({ type: 'end', outcome: 'rolled-back' });
  });

  it('a held backend commits only at the end, names its instance, and undoes in memory when the commit fails', async () => {
    const steps = planSteps(await exampleLayout('test-lab'));
    const sim = openSimulator();
    const before = kernelView(sim);
    const held = { kind: 'sim' as const, ctx: sim, holder: simHolder, snapshot: (b: StateBody) => b, instance: 'agent 1' };
    const opened = openTarget('sim', emptyStateBody('sim'), { held });
    if (!opened.ok) throw new Error(opened.message);
    expect(opened.target.instance).toBe('agent 1');
    const sink = recordingSink({ failCommit: 1 });
    const options = { snapshot: opened.target.snapshot, checkpoints: null, undoOnStorageFailure: true, backendInstance: 'agent 1' };
    const failed = applySteps(opened.target.env, sink, options, emptyStateBody('sim'), steps, 'apply');
    await expect(failed).rejects.toThrow(/disk full; the \d+ call\(s\) this apply had made were undone in memory/);
    // Every call was made, none committed, and the kernel the agent holds is back as it was.
    expect(sink.durable[0]).toMatchObject({ type: 'begin', backendInstance: 'agent 1' });
    expect(kernelView(sim)).toBe(before);

    // Without the failure: exactly one commit, even for a long apply on a slow clock.
    const ok = recordingSink();
    const report = await applySteps(opened.target.env, ok, { ...options, stepDelayMs: 0 }, emptyStateBody('sim'), steps, 'apply');
    expect(report.outcome).toBe('applied');
    expect(ok.commits).toHaveLength(1);
    expect(kernelView(sim)).not.toBe(before);
  });
});
