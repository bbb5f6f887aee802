// The state lock: `<state>.lock` exists exactly while one process owns the state. It holds
// {id, pid, host, time, operation, version} so a person can see who holds it.
//
// Creation is exclusive and atomic: the content is written and fsynced to a temp file first and
// then link(2)ed to the lock name, which fails with EEXIST like open(O_EXCL) does — but a reader
// can never see a half-written lock, and a crash can never leave an empty one. (File systems
// without hard links fall back to open(O_EXCL) "wx".)
//
// A lock whose holder is on this host and no longer exists is stale. "No longer exists" includes
// a pid that was reused by another process: the lock records its holder's start time (field 22
// of /proc/<pid>/stat, clock ticks since boot) and the boot id, and a live pid with another start
// time, or a lock from an earlier boot, is a different process. It is reported with its id
// and the command that clears it, never taken over silently: the dead process may have been
// killed mid-apply, and its journal must be looked at first.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { canonicalJson, parseJson } from './canonical-json.js';
import { createFileExclusive, describeError, errnoCode, fsyncDirectory } from './durable-fs.js';
import { lockPathFor } from './paths.js';

export interface LockInfo {
  /** A UUID: what `ioasform force-unlock ID` names. */
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  /** ISO-8601 UTC time the lock was taken. */
  readonly time: string;
  /** The command holding it: "plan", "apply", … */
  readonly operation: string;
  /** The ioasform version that took it. */
  readonly version: string;
  /** The holder's start time and boot (Linux); absent in locks of older versions or other systems. */
  readonly processStart?: string;
  readonly bootId?: string;
}

export interface LockHandle {
  readonly statePath: string;
  readonly lockPath: string;
  readonly info: LockInfo;
}

export type LockErrorCode =
  | 'LOCK_HELD'
  | 'LOCK_STALE'
  | 'LOCK_UNREADABLE'
  | 'LOCK_IO_FAILED'
  | 'LOCK_NOT_HELD'
  | 'LOCK_ID_MISMATCH';

export interface LockError {
  readonly code: LockErrorCode;
  readonly message: string;
  /** The lock file. */
  readonly path: string;
  /** Who holds the lock, when it could be read. */
  readonly holder?: LockInfo;
  /** For LOCK_STALE: the exact command that clears the lock. */
  readonly command?: string;
}

export type LockResult<T> = ({ readonly ok: true } & T) | { readonly ok: false; readonly error: LockError };

export interface AcquireOptions {
  readonly operation: string;
  /** How long to wait for a held lock (--lock-timeout); 0 = try once. */
  readonly timeoutMs?: number;
  /** How often to look again while waiting. */
  readonly pollMs?: number;
  /** Recorded in the lock; defaults to this package's version. */
  readonly version?: string;
}

const optional = <K extends string>(key: K, value: string | undefined): { [P in K]?: string } => (value === undefined ? {} : ({ [key]: value } as { [P in K]: string }));

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let packageVersion: string | undefined;
function ownVersion(): string {
  if (packageVersion === undefined) {
    packageVersion = 'unknown';
    try {
      // src/state/lock.ts and dist/state/lock.js both sit two levels below package.json.
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      if (typeof pkg.version === 'string') packageVersion = pkg.version;
    } catch {
      // A version is informational only; a lock without one is still a lock.
    }
  }
  return packageVersion;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else. Only ESRCH proves it is gone.
    return errnoCode(e) !== 'ESRCH';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Whether `holder` is a lock left by a process of this host that no longer exists. */
export function isStale(holder: LockInfo): boolean {
  if (holder.host !== hostname()) return false;
  const bootId = currentBootId();
  if (holder.bootId !== undefined && bootId !== undefined && holder.bootId !== bootId) return true;
  if (!isProcessAlive(holder.pid)) return true;
  if (holder.processStart === undefined) return false;
  const start = processStartTime(holder.pid);
  return start !== undefined && start !== holder.processStart;
}

export function forceUnlockCommand(id: string): string {
  return `ioasform force-unlock ${id}`;
}

function describeHolder(h: LockInfo): string {
  return `pid ${h.pid} on host ${h.host} for "${h.operation}" since ${h.time} (lock ID ${h.id})`;
}

type LockFileRead =
  | { readonly kind: 'missing' }
  | { readonly kind: 'held'; readonly holder: LockInfo }
  | { readonly kind: 'unreadable'; readonly message: string };

function decodeLockInfo(value: unknown): LockInfo | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const ok =
    typeof r.id === 'string' && UUID_PATTERN.test(r.id) &&
    typeof r.pid === 'number' && Number.isSafeInteger(r.pid) && r.pid > 0 &&
    typeof r.host === 'string' && typeof r.time === 'string' &&
    typeof r.operation === 'string' && typeof r.version === 'string';
  if (!ok) return undefined;
  const info: LockInfo = { id: r.id as string, pid: r.pid as number, host: r.host as string, time: r.time as string, operation: r.operation as string, version: r.version as string };
  const processStart = typeof r.processStart === 'string' ? { processStart: r.processStart } : {};
  const bootId = typeof r.bootId === 'string' ? { bootId: r.bootId } : {};
  return { ...info, ...processStart, ...bootId };
}

async function readLockFile(lockPath: string): Promise<LockFileRead> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', message: `cannot read the lock file: ${describeError(e)}` };
  }
  const parsed = parseJson(text);
  const holder = parsed.ok ? decodeLockInfo(parsed.value) : undefined;
  if (holder === undefined) {
    return { kind: 'unreadable', message: 'the lock file exists but does not hold a valid lock (id, pid, host, time, operation, version)' };
  }
  return { kind: 'held', holder };
}

/** Look at the lock without taking it: who holds it (null when nobody) and whether that is stale. */
export async function inspectLock(
  statePath: string,
): Promise<LockResult<{ readonly holder: LockInfo | null; readonly stale: boolean }>> {
  const path = lockPathFor(statePath);
  const read = await readLockFile(path);
  if (read.kind === 'missing') return { ok: true, holder: null, stale: false };
  if (read.kind === 'unreadable') return { ok: false, error: unreadableError(path, read.message) };
  return { ok: true, holder: read.holder, stale: isStale(read.holder) };
}

function unreadableError(path: string, message: string): LockError {
  return {
    code: 'LOCK_UNREADABLE',
    path,
    message: `${message}; if no ioasform process is using this state, delete ${path} by hand`,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Take the lock of `statePath`, waiting up to `timeoutMs` for a holder to release it. A stale
 * lock fails at once with LOCK_STALE (waiting cannot make a dead process release it).
 */
export async function acquireLock(statePath: string, options: AcquireOptions): Promise<LockResult<{ readonly lock: LockHandle }>> {
  const lockPath = lockPathFor(statePath);
  const timeoutMs = Math.max(0, options.timeoutMs ?? 0);
  const pollMs = Math.max(1, options.pollMs ?? 100);
  const info: LockInfo = {
    id: randomUUID(),
    pid: process.pid,
    host: hostname(),
    time: new Date().toISOString(),
    operation: options.operation,
    version: options.version ?? ownVersion(),
    ...optional('processStart', processStartTime(process.pid)),
    ...optional('bootId', currentBootId()),
  };
  const encoded = canonicalJson(info, { indent: 2 });
  if (!encoded.ok) throw new Error(`lock info not encodable: ${encoded.error.message}`); // cannot happen: all strings and numbers
  const content = `${encoded.text}\n`;
  const started = Date.now();

  for (;;) {
    const created = await createFileExclusive(lockPath, content);
    if (created === 'created') return { ok: true, lock: { statePath, lockPath, info } };
    if (created !== 'exists') {
      return { ok: false, error: { code: 'LOCK_IO_FAILED', path: lockPath, message: `cannot create the lock file: ${describeError(created.error)}` } };
    }
    const read = await readLockFile(lockPath);
    if (read.kind === 'missing') continue; // released between our attempt and our look: try again now
    const waited = Date.now() - started;
    if (read.kind === 'held' && isStale(read.holder)) {
      const command = forceUnlockCommand(read.holder.id);
      return {
        ok: false,
        error: {
          code: 'LOCK_STALE',
          path: lockPath,
          holder: read.holder,
          command,
          message: `the state is locked by ${describeHolder(read.holder)}, but that process no longer exists; check for an interrupted apply, then clear the lock with: ${command}`,
        },
      };
    }
    if (waited >= timeoutMs) {
      if (read.kind === 'unreadable') return { ok: false, error: unreadableError(lockPath, read.message) };
      const waitedText = timeoutMs === 0 ? 'did not wait (lock timeout 0)' : `gave up after waiting ${(waited / 1000).toFixed(1)}s`;
      return {
        ok: false,
        error: {
          code: 'LOCK_HELD',
          path: lockPath,
          holder: read.holder,
          message: `the state is locked by ${describeHolder(read.holder)}; ${waitedText} (raise --lock-timeout to wait longer)`,
        },
      };
    }
    await sleep(Math.min(pollMs, timeoutMs - waited));
  }
}

/** Remove the lock at `lockPath` only if it carries `id`. */
async function removeIfId(lockPath: string, id: string, whose: string): Promise<LockResult<{ readonly holder: LockInfo }>> {
  const read = await readLockFile(lockPath);
  if (read.kind === 'missing') {
    return { ok: false, error: { code: 'LOCK_NOT_HELD', path: lockPath, message: `the state is not locked (no ${lockPath})` } };
  }
  if (read.kind === 'unreadable') return { ok: false, error: unreadableError(lockPath, read.message) };
  if (read.holder.id !== id) {
    return {
      ok: false,
      error: {
        code: 'LOCK_ID_MISMATCH',
        path: lockPath,
        holder: read.holder,
        message: `the lock has ID ${read.holder.id} (${describeHolder(read.holder)}), not ${whose} ${id}; nothing was removed`,
      },
    };
  }
  try {
    await unlink(lockPath);
    await fsyncDirectory(dirname(lockPath));
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') {
      return { ok: false, error: { code: 'LOCK_IO_FAILED', path: lockPath, holder: read.holder, message: `cannot remove the lock file: ${describeError(e)}` } };
    }
  }
  return { ok: true, holder: read.holder };
}

/** Release a lock we took. Fails (and leaves the file) when the lock is no longer ours. */
export async function releaseLock(handle: LockHandle): Promise<LockResult<{ readonly holder: LockInfo }>> {
  return removeIfId(handle.lockPath, handle.info.id, 'our lock ID');
}

/** `ioasform force-unlock ID`: remove the lock of `statePath` if and only if its ID is `id`. */
export async function forceUnlock(statePath: string, id: string): Promise<LockResult<{ readonly holder: LockInfo }>> {
  return removeIfId(lockPathFor(statePath), id, 'the given ID');
}
