import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, start, workdir } from './support.js';

beforeAll(() => ensureBuilt(), 120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The recorded state as `show --json` prints it, minus the journal position (which moves on). */
async function recorded(dir: string): Promise<unknown> {
  const shown = JSON.parse((await cli(['show', '--json'], dir)).stdout) as { state: Record<string, unknown> | null };
  return shown.state ? { ...shown.state, journalSeq: 'ignored' } : null;
}

function journalLines(dir: string): number {
  const path = join(dir, 'ioasform.state.json.journal');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').length : 0;
}

describe('crash recovery and locking with real processes', () => {
  it('an apply killed with SIGKILL mid-way is undone by the next run, after force-unlock of its stale lock', async () => {
    const dir = workdir();
    expect((await cli(['apply', '--auto-approve', 'examples/vmm-guest-ram.yaml'], dir)).code).toBe(0);
    const before = await recorded(dir);

    // Switching to test-lab destroys the vmm layout and builds another: many calls.
    // A checkpoint after every call (the default commits every 2 s at the earliest), so the kill
    // lands after some calls were committed and the next command has real undo work.
    const { child, done } = start(['apply', '--auto-approve', 'examples/test-lab.yaml'], dir, { IOASFORM_TEST_STEP_DELAY_MS: '150', IOASFORM_TEST_CHECKPOINT_EVERY: '1' });
    // Wait until several calls are journaled (header, begin, then intent/done pairs).
    for (let i = 0; i < 400 && journalLines(dir) < 12; i++) await sleep(25);
    expect(journalLines(dir)).toBeGreaterThanOrEqual(12);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.code).toBe(-1);
    expect(await recorded(dir).catch(() => null)).not.toEqual(before); // the kill left a half-applied state

    // The dead process still holds the lock: reported with the command that clears it.
    const blocked = await cli(['plan', 'examples/vmm-guest-ram.yaml'], dir);
    expect(blocked.code).toBe(1);
    const id = /force-unlock ([0-9a-f-]{36})/.exec(blocked.stderr)?.[1];
    expect(id, blocked.stderr).toBeDefined();
    expect((await cli(['force-unlock', id!], dir)).code).toBe(0);

    const next = await cli(['plan', 'examples/vmm-guest-ram.yaml'], dir);
    expect(next.stderr).toMatch(/interrupted apply/);
    expect(next.stderr).toMatch(/Rollback complete/);
    expect(next.code).toBe(0); // no changes: the vmm layout is back
    expect(existsSync(join(dir, 'ioasform.state.json.journal'))).toBe(false);
    expect(await recorded(dir)).toEqual(before);
  });

  it('SIGINT mid-apply stops before the next call, rolls back and releases the lock', async () => {
    const dir = workdir();
    expect((await cli(['apply', '--auto-approve', 'examples/vmm-guest-ram.yaml'], dir)).code).toBe(0);
    const before = await recorded(dir);
    // A checkpoint per call makes the journal grow call by call, so the wait below sees progress.
    const { child, done } = start(['apply', '--auto-approve', 'examples/test-lab.yaml'], dir, { IOASFORM_TEST_STEP_DELAY_MS: '150', IOASFORM_TEST_CHECKPOINT_EVERY: '1' });
    for (let i = 0; i < 400 && journalLines(dir) < 8; i++) await sleep(25);
    expect(journalLines(dir)).toBeGreaterThanOrEqual(8);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Interrupted before/);
    expect(result.stderr).toMatch(/Rollback complete/);
    expect(existsSync(join(dir, 'ioasform.state.json.lock'))).toBe(false);
    expect(await recorded(dir)).toEqual(before);
  });

  it('SIGINT mid-apply under the default commit policy (one commit, at the end): the rollback commits once and restores the state', async () => {
    const dir = workdir();
    expect((await cli(['apply', '--auto-approve', 'examples/vmm-guest-ram.yaml'], dir)).code).toBe(0);
    const before = await recorded(dir);
    const { child, done } = start(['apply', '--auto-approve', 'examples/test-lab.yaml'], dir, { IOASFORM_TEST_STEP_DELAY_MS: '150' });
    // The journal appears with the apply's begin record; its calls' records stay queued.
    for (let i = 0; i < 400 && journalLines(dir) < 2; i++) await sleep(25);
    expect(journalLines(dir)).toBe(2);
    await sleep(1000);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Interrupted before/);
    expect(result.stdout).toMatch(/undo: /);
    expect(result.stderr).toMatch(/Rollback complete/);
    expect(existsSync(join(dir, 'ioasform.state.json.journal'))).toBe(false);
    expect(await recorded(dir)).toEqual(before);
  });

  it('two concurrent applies: one fails with a lock error, the other applies; the state stays sound', async () => {
    const dir = workdir();
    const env = { IOASFORM_TEST_STEP_DELAY_MS: '50' };
    const a = start(['apply', '--auto-approve', 'examples/test-lab.yaml'], dir, env);
    await sleep(300); // let the first take the lock
    const b = start(['apply', '--auto-approve', 'examples/test-lab.yaml'], dir, env);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.code, rb.code].sort()).toEqual([0, 1]);
    const loser = ra.code === 1 ? ra : rb;
    expect(loser.stderr).toMatch(/locked by pid \d+/);
    const plan = await cli(['plan', 'examples/test-lab.yaml'], dir);
    expect(plan.code).toBe(0);
  });

  it('with --lock-timeout the second apply waits for the first, then finds nothing to do', async () => {
    const dir = workdir();
    const env = { IOASFORM_TEST_STEP_DELAY_MS: '50' };
    const args = ['--lock-timeout', '60s', 'apply', '--auto-approve', 'examples/vmm-guest-ram.yaml'];
    const a = start(args, dir, env);
    const b = start(args, dir, env);
    const results = await Promise.all([a.done, b.done]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    // Whichever got the lock first applied; the other waited and then found nothing to do.
    expect(results.filter((r) => /Apply complete/.test(r.stdout))).toHaveLength(1);
    expect(results.filter((r) => /No changes/.test(r.stdout))).toHaveLength(1);
  });
});
