// Issue 6.2: real `ioasform apply` child processes on the simulator backend, SIGKILLed at random
// times and at exact durability boundaries (IOASFORM_TEST_CRASH_AT: right after a journal append
// is fsynced, after the new state is written under its temp name but before the rename, right
// after the rename). After each kill the next command must find the stale lock (every 5th kill
// goes through the CLI's stale-lock report and `force-unlock`; the others remove the dead
// holder's lock file as force-unlock would), recover, and leave the recorded state equal to
// exactly the old layout or the new one, never a mix; a rollback must say so.
// Each kill runs under one of two commit policies: the default (the state is committed at the end
// of the apply; checkpoints only every >= 2 s, so none in this short apply) and
// IOASFORM_TEST_CHECKPOINT_EVERY=1 (a checkpoint after every call, so kills land after committed
// calls and the recovery has real undo work, at many more boundaries).
// CI: every boundary of both policies plus 135 random-time kills (>= 200), 4 applies in flight at
// a time. Long (IOASFORM_RELIABILITY_LONG=1): 1000 random-time kills.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { comparable, readBody } from '../apply/support.js';
import { memoryIo } from '../../src/cli/io.js';
import { run as runCli } from '../../src/cli/main.js';
import { cli, ensureBuilt, start, workdir } from '../cli/support.js';
import { LONG, record, seedFor } from './figures.js';

const OLD = 'examples/vmm-guest-ram.yaml';
const NEW = 'examples/test-lab.yaml';
const STATE = 'ioasform.state.json';
const PARALLEL = 4;
const RANDOM_KILLS = LONG ? 1000 : 135;
/**
 * Every boundary of each kind: with a checkpoint per call about 24 journal flushes and 23 state
 * writes in this apply; with the default policy 2 flushes (before the final commit, after the end
 * record) and 1 state write; `journal-ended` (end record durable, journal not yet removed) once.
 */
const BOUNDARY_STRIDE = 1;
const POINTS = ['journal-appended', 'state-temp-written', 'state-renamed', 'journal-ended'] as const;
const POLICIES = { default: {}, perCall: { IOASFORM_TEST_CHECKPOINT_EVERY: '1' } } as const;
type Policy = keyof typeof POLICIES;

interface Outcome { readonly killed: boolean; readonly landed: 'old' | 'new'; readonly saidRolledBack: boolean; readonly saidCompleted: boolean }

let template = '';
let oldView = '';
let newView = '';
let applyMs = 0;
const view = async (dir: string): Promise<string> => JSON.stringify(comparable(await readBody(join(dir, STATE))), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

beforeAll(async () => {
  ensureBuilt();
  template = workdir();
  expect((await cli(['apply', '--auto-approve', OLD], template)).code).toBe(0);
  oldView = await view(template);
  const probe = copyOf(template);
  const t0 = Date.now();
  expect((await cli(['apply', '--auto-approve', NEW], probe, { IOASFORM_TEST_STEP_DELAY_MS: '10' })).code).toBe(0);
  applyMs = Date.now() - t0;
  newView = await view(probe);
  expect(newView).not.toEqual(oldView);
}, 120_000);

function copyOf(dir: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'ioasform-crash-'));
  cpSync(dir, copy, { recursive: true });
  return copy;
}

/**
 * The command after a kill runs in-process (the same `run` the binary calls, on the same files):
 * the killed apply must be a real process, the recovery need not, and this halves the processes.
 */
async function after(args: readonly string[], dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await runCli(['--state', join(dir, STATE), ...args.map((a) => (a.startsWith('examples/') ? join(dir, a) : a))], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

/** One kill: start the OLD -> NEW apply, let it die, then recover and classify the result. */
async function killOnce(kill: { atMs: number } | { crashAt: string }, viaCli: boolean, policy: Policy): Promise<Outcome> {
  const dir = copyOf(template);
  try {
    // Boundary kills need no delay (they land exactly); random ones need the calls spread out.
    const env: Record<string, string> = { ...POLICIES[policy], ...('crashAt' in kill ? { IOASFORM_TEST_CRASH_AT: kill.crashAt } : { IOASFORM_TEST_STEP_DELAY_MS: '10' }) };
    const run = start(['apply', '--auto-approve', NEW], dir, env);
    // A random-time kill is timed from the moment the journal appears (the apply has the lock and
    // is about to make its first call), so it lands among the calls and not in Node's start-up.
    if ('atMs' in kill) void waitFor(join(dir, `${STATE}.journal`), run.done).then(() => setTimeout(() => run.child.kill('SIGKILL'), kill.atMs));
    const result = await run.done;
    const killed = result.code === -1;
    if (!killed) expect(result.code, result.stderr).toBe(0);
    const lockPath = join(dir, `${STATE}.lock`);
    if (existsSync(lockPath)) {
      expect(killed).toBe(true);
      if (viaCli) {
        const blocked = await after(['plan', OLD], dir);
        expect(blocked.code).toBe(1);
        expect(blocked.stderr).toMatch(/no longer exists/);
        const id = /force-unlock ([0-9a-f-]{36})/.exec(blocked.stderr)?.[1];
        expect(id, blocked.stderr).toBeDefined();
        expect((await after(['force-unlock', id!], dir)).code).toBe(0);
      } else {
        const holder = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number };
        expect(holder.pid).toBe(run.child.pid);
        rmSync(lockPath);
      }
    }
    const journalLeft = existsSync(join(dir, `${STATE}.journal`));
    const next = await after(['plan', OLD], dir);
    // plan's exit code says which layout the target is at: 0 = OLD (no changes), 2 = changes.
    expect([0, 2], next.stderr).toContain(next.code);
    expect(next.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // never a stack trace
    expect(existsSync(join(dir, `${STATE}.journal`))).toBe(false);
    const now = await view(dir);
    const landed = now === oldView ? 'old' : now === newView ? 'new' : null;
    expect(landed, `a mix after ${JSON.stringify(kill)}:\n${next.stderr}`).not.toBeNull();
    const saidRolledBack = /Restored the layout from before/.test(next.stderr);
    expect(next.code).toBe(landed === 'old' ? 0 : 2);
    if (saidRolledBack) expect(landed).toBe('old');
    if (landed === 'new') expect(next.stderr).not.toMatch(/Restored the layout/);
    // Finding F4: a journal that outlived a completed apply is reported, not silently removed.
    const saidCompleted = /the interrupted apply had completed: the layout of \S+ is in effect/.test(next.stderr);
    if (journalLeft && landed === 'new') expect(saidCompleted, next.stderr).toBe(true);
    if (saidCompleted) expect(landed).toBe('new');
    return { killed, landed: landed!, saidRolledBack, saidCompleted };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitFor(path: string, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished && !existsSync(path)) await new Promise((r) => setTimeout(r, 5));
}

async function inBatches<T>(jobs: readonly (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      out.push(await job());
    }
  }));
  return out;
}

describe('SIGKILL during apply: the next command recovers to the old or the new layout, never a mix', () => {
  const figures = { kills: 0, boundaryKills: 0, randomKills: 0, old: 0, new: 0, saidRolledBack: 0, saidCompleted: 0, boundaryRolledBack: 0, completedBeforeKill: 0, byPoint: {} as Record<string, number> };
  const started = Date.now();

  it('kills at every kind of durability boundary, under both commit policies', async () => {
    for (const policy of Object.keys(POLICIES) as Policy[]) {
      for (const point of POINTS) {
        // Walk the boundary index up until the apply completes without reaching it.
        let n = 1;
        for (;;) {
          const batch = Array.from({ length: PARALLEL }, (_, i) => n + i * BOUNDARY_STRIDE);
          const results = await inBatches(batch.map((k, i) => () => killOnce({ crashAt: `${point}:${k}` }, (n + i) % 5 === 0, policy)));
          const killed = results.filter((r) => r.killed);
          figures.boundaryKills += killed.length;
          figures.byPoint[`${policy}/${point}`] = (figures.byPoint[`${policy}/${point}`] ?? 0) + killed.length;
          for (const r of killed) figures[r.landed] += 1;
          figures.saidRolledBack += killed.filter((r) => r.saidRolledBack).length;
          figures.saidCompleted += killed.filter((r) => r.saidCompleted).length;
          figures.boundaryRolledBack += killed.filter((r) => r.saidRolledBack).length;
          if (killed.length < results.length) break;
          n += PARALLEL * BOUNDARY_STRIDE;
        }
      }
    }
    expect(figures.boundaryKills).toBeGreaterThanOrEqual(60);
    // The kill between the end record and the journal's removal happened and was reported (F4).
    expect(figures.byPoint['default/journal-ended']).toBe(1);
    expect(figures.saidCompleted).toBeGreaterThanOrEqual(2);
  }, 900_000);

  it(`${RANDOM_KILLS} kills at random times`, async () => {
    // The calls take about 22 x 10 ms step delay, plus an fsync'ed commit per call with a
    // checkpoint per call; a few kills land after the end. Even kills use the default policy.
    const times = fc.sample(fc.integer({ min: 0, max: 450 }), { numRuns: RANDOM_KILLS, seed: seedFor(2) });
    const results = await inBatches(times.map((atMs, i) => () => (i % 2 === 0
      ? killOnce({ atMs: Math.round(atMs / 2) }, i % 5 === 0, 'default')
      : killOnce({ atMs }, i % 5 === 0, 'perCall'))));
    const killed = results.filter((r) => r.killed);
    figures.randomKills = killed.length;
    figures.completedBeforeKill = results.length - killed.length;
    for (const r of killed) figures[r.landed] += 1;
    figures.saidRolledBack += killed.filter((r) => r.saidRolledBack).length;
    figures.kills = figures.boundaryKills + figures.randomKills;
    record('crash', { ...figures, seconds: (Date.now() - started) / 1000, applyMs });
    // Most random times must land inside the apply, or the suite tests nothing.
    expect(figures.randomKills).toBeGreaterThan(RANDOM_KILLS * 0.7);
    expect(figures.kills).toBeGreaterThanOrEqual(200);
    expect(figures.old).toBeGreaterThan(0);
    // Most random kills left calls to undo, and the next command said it rolled them back.
    expect(figures.saidRolledBack - figures.boundaryRolledBack).toBeGreaterThan(figures.randomKills * 0.5);
  }, 900_000);
});
