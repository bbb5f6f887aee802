import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, forceUnlock, inspectLock, processStartTime, releaseLock } from '../../src/state/lock.js';
import type { LockHandle, LockInfo } from '../../src/state/lock.js';
import { lockPathFor } from '../../src/state/paths.js';
import { readStateFile } from '../../src/state/state-file.js';
import { compileStateStore, makeTempDir, startChild } from './helpers.js';

let dir: string;
let cleanup: () => void;
let statePath: string;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
  statePath = join(dir, 'ioasform.state.json');
});
afterEach(() => cleanup());

async function acquired(operation = 'apply'): Promise<LockHandle> {
  const r = await acquireLock(statePath, { operation });
  if (!r.ok) throw new Error(r.error.message);
  return r.lock;
}

/** A pid that certainly existed and certainly no longer does: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function writeLock(info: Partial<LockInfo>): LockInfo {
  const full: LockInfo = { id: randomUUID(), pid: process.pid, host: hostname(), time: '2026-01-01T00:00:00.000Z', operation: 'apply', version: '0.0.0', ...info };
  writeFileSync(lockPathFor(statePath), JSON.stringify(full));
  return full;
}

describe('lock in one process', () => {
  it('records who holds it, and release removes it', async () => {
    const lock = await acquired('plan');
    const content = JSON.parse(readFileSync(lockPathFor(statePath), 'utf8')) as LockInfo;
    expect(content).toEqual(lock.info);
    expect(content.pid).toBe(process.pid);
    expect(content.host).toBe(hostname());
    expect(content.operation).toBe('plan');
    expect(content.version).toBe((JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version);
    expect(Number.isNaN(Date.parse(content.time))).toBe(false);
    const released = await releaseLock(lock);
    expect(released.ok).toBe(true);
    expect(existsSync(lockPathFor(statePath))).toBe(false);
  });

  it('a second taker fails with LOCK_HELD after its timeout, naming the holder', async () => {
    const first = await acquired('apply');
    const second = await acquireLock(statePath, { operation: 'plan', timeoutMs: 150, pollMs: 20 });
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.error.code).toBe('LOCK_HELD');
    expect(second.error.holder).toEqual(first.info);
    expect(second.error.message).toContain(`pid ${process.pid}`);
    expect(second.error.message).toContain(hostname());
    expect(second.error.message).toContain('"apply"');
    expect(second.error.message).toContain(first.info.time);
    expect(second.error.message).toMatch(/waiting \d+\.\ds/);
    expect(existsSync(lockPathFor(statePath))).toBe(true);
  });

  it('a timeout of 0 tries once and says it did not wait', async () => {
    await acquired();
    const second = await acquireLock(statePath, { operation: 'plan', timeoutMs: 0 });
    expect(!second.ok && second.error.message).toContain('did not wait');
  });

  it('a waiter gets the lock once the holder releases it within the timeout', async () => {
    const first = await acquired();
    const waiting = acquireLock(statePath, { operation: 'plan', timeoutMs: 30_000, pollMs: 10 });
    setTimeout(() => void releaseLock(first), 50);
    const second = await waiting;
    expect(second.ok).toBe(true);
    if (second.ok) expect(second.lock.info.id).not.toBe(first.info.id);
  });

  it('release refuses to remove a lock that is no longer ours', async () => {
    const ours = await acquired();
    const theirs = writeLock({});
    const r = await releaseLock(ours);
    expect(!r.ok && r.error.code).toBe('LOCK_ID_MISMATCH');
    expect((JSON.parse(readFileSync(lockPathFor(statePath), 'utf8')) as LockInfo).id).toBe(theirs.id);
  });

  it('release of a lock someone removed is LOCK_NOT_HELD', async () => {
    const ours = await acquired();
    expect((await forceUnlock(statePath, ours.info.id)).ok).toBe(true);
    const r = await releaseLock(ours);
    expect(!r.ok && r.error.code).toBe('LOCK_NOT_HELD');
  });

  it('garbage in the lock file is reported, not crashed on, and not removed', async () => {
    writeFileSync(lockPathFor(statePath), 'not a lock\n');
    const r = await acquireLock(statePath, { operation: 'apply', timeoutMs: 50, pollMs: 10 });
    expect(!r.ok && r.error.code).toBe('LOCK_UNREADABLE');
    expect(!r.ok && r.error.message).toContain(lockPathFor(statePath));
    expect((await forceUnlock(statePath, randomUUID())).ok).toBe(false);
    expect(readFileSync(lockPathFor(statePath), 'utf8')).toBe('not a lock\n');
    const inspected = await inspectLock(statePath);
    expect(!inspected.ok && inspected.error.code).toBe('LOCK_UNREADABLE');
  });

  it('a lock in a missing directory is an I/O error value', async () => {
    const r = await acquireLock(join(dir, 'missing', 'state.json'), { operation: 'apply' });
    expect(!r.ok && r.error.code).toBe('LOCK_IO_FAILED');
  });
});

describe('stale locks and force-unlock', () => {
  it('a lock of a dead pid on this host is LOCK_STALE with the command to clear it, and is kept', async () => {
    const pid = deadPid();
    const stale = writeLock({ pid });
    const r = await acquireLock(statePath, { operation: 'apply', timeoutMs: 10_000 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('LOCK_STALE');
    expect(r.error.holder?.id).toBe(stale.id);
    expect(r.error.command).toBe(`ioasform force-unlock ${stale.id}`);
    expect(r.error.message).toContain(`ioasform force-unlock ${stale.id}`);
    expect(r.error.message).toContain(`pid ${pid}`);
    expect(existsSync(lockPathFor(statePath))).toBe(true);
    const inspected = await inspectLock(statePath);
    expect(inspected.ok && inspected.stale).toBe(true);
  });

  it('a lock of a live pid, or of another host, is held, not stale', async () => {
    writeLock({ pid: process.pid });
    expect((await inspectLock(statePath)).ok && (await inspectLock(statePath) as { stale: boolean }).stale).toBe(false);
    writeLock({ pid: deadPid(), host: `not-${hostname()}` });
    const r = await acquireLock(statePath, { operation: 'apply' });
    expect(!r.ok && r.error.code).toBe('LOCK_HELD');
  });

  it('a lock records its holder start time and boot; a live pid with another start time (pid reuse) or another boot is stale', async () => {
    const handle = await acquired();
    const recorded = JSON.parse(readFileSync(handle.lockPath, 'utf8')) as LockInfo;
    expect(recorded.processStart).toBe(processStartTime(process.pid));
    expect(recorded.bootId).toMatch(/^[0-9a-f-]{36}$/);
    await releaseLock(handle);
    // Our own pid, alive, but "started" at another time: the pid was reused.
    writeLock({ pid: process.pid, processStart: String(Number(processStartTime(process.pid)) + 1), bootId: recorded.bootId! });
    expect((await inspectLock(statePath)).ok && (await inspectLock(statePath) as { stale: boolean }).stale).toBe(true);
    writeLock({ pid: process.pid, processStart: processStartTime(process.pid)!, bootId: recorded.bootId! });
    expect((await inspectLock(statePath)).ok && (await inspectLock(statePath) as { stale: boolean }).stale).toBe(false);
    writeLock({ pid: process.pid, processStart: processStartTime(process.pid)!, bootId: '00000000-0000-0000-0000-000000000000' });
    expect((await inspectLock(statePath)).ok && (await inspectLock(statePath) as { stale: boolean }).stale).toBe(true);
  });

  it('force-unlock removes the lock only for the right id', async () => {
    const stale = writeLock({ pid: deadPid() });
    const wrong = await forceUnlock(statePath, randomUUID());
    expect(!wrong.ok && wrong.error.code).toBe('LOCK_ID_MISMATCH');
    expect(existsSync(lockPathFor(statePath))).toBe(true);
    const right = await forceUnlock(statePath, stale.id);
    expect(right.ok && right.holder.id).toBe(stale.id);
    expect(existsSync(lockPathFor(statePath))).toBe(false);
    const again = await forceUnlock(statePath, stale.id);
    expect(!again.ok && again.error.code).toBe('LOCK_NOT_HELD');
    expect((await acquireLock(statePath, { operation: 'apply' })).ok).toBe(true);
  });
});

describe('lock between real processes', () => {
  let store: string;
  let buildDir: { dir: string; cleanup: () => void };
  beforeAll(() => {
    buildDir = makeTempDir('ioasform-store-build-');
    store = compileStateStore(buildDir.dir);
  });
  afterAll(() => buildDir.cleanup());

  it('a second process fails with LOCK_HELD naming the first, then gets it after release', async () => {
    const holder = startChild('lock-holder.mjs', store, [statePath, 'apply', '0']);
    const held = JSON.parse(await holder.nextLine()) as { ok: boolean; id: string };
    expect(held.ok).toBe(true);

    const refused = startChild('lock-holder.mjs', store, [statePath, 'plan', '100']);
    const refusal = JSON.parse(await refused.nextLine()) as { ok: boolean; error: { code: string; holder: LockInfo } };
    expect(refusal.ok).toBe(false);
    expect(refusal.error.code).toBe('LOCK_HELD');
    expect(refusal.error.holder.pid).toBe(holder.pid);
    expect(refusal.error.holder.id).toBe(held.id);
    await refused.exited;

    const waiter = startChild('lock-holder.mjs', store, [statePath, 'plan', '60000']);
    holder.send('release');
    expect((JSON.parse(await holder.nextLine()) as { ok: boolean }).ok).toBe(true);
    const got = JSON.parse(await waiter.nextLine()) as { ok: boolean; id: string };
    expect(got.ok).toBe(true);
    expect(got.id).not.toBe(held.id);
    waiter.send('release');
    await Promise.all([holder.exited, waiter.exited]);
    expect(existsSync(lockPathFor(statePath))).toBe(false);
  });

  it('processes racing for the lock at once: exactly one wins', async () => {
    const racers = Array.from({ length: 4 }, () => startChild('lock-holder.mjs', store, [statePath, 'apply', '0']));
    const results = await Promise.all(racers.map(async (c) => JSON.parse(await c.nextLine()) as { ok: boolean; error?: { code: string } }));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => r.error?.code)).toEqual(['LOCK_HELD', 'LOCK_HELD', 'LOCK_HELD']);
    for (const c of racers) c.send('release');
    await Promise.all(racers.map((c) => c.exited));
  });

  it('two processes doing locked read-modify-write cycles lose no update and never corrupt the state', async () => {
    const iterations = 25;
    const workers = [0, 1].map(() => startChild('lock-counter.mjs', store, [statePath, String(iterations)]));
    const outcomes = await Promise.all(workers.map((w) => w.exited));
    for (const o of outcomes) expect(o).toEqual({ code: 0, signal: null, stderr: '' });
    const r = await readStateFile(statePath);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state.body).toEqual({ count: 2 * iterations });
    expect(r.state.serial).toBe(2 * iterations - 1);
    expect(existsSync(lockPathFor(statePath))).toBe(false);
  });
});
