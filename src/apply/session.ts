// A session is what every state-touching command does around its real work: take the lock, load
// the state, finish the undo of an interrupted apply if the journal says there was one, run the
// work, release the lock. Errors are values with codes.
import { hostname } from 'node:os';
import type { BackendKind, StateBody } from '../model/recorded.js';
import type { Step } from '../model/step.js';
import type { HostFacts } from '../plan/plan.js';
import { acquireLock, releaseLock } from '../state/lock.js';
import { removeStaleTempFiles } from '../state/leftovers.js';
import type { JournalHandle } from '../state/journal.js';
import { appendRecords, clearJournal, closeJournal, openJournal, readJournal, resumeJournal } from '../state/journal.js';
import { crashPoint } from '../state/crash-point.js';
import { reviveBigints } from '../plan/encode.js';
import type { JournalRecord } from './journal-records.js';
import type { ApplyEvent, ApplyReport, ApplySink } from './apply.js';
import { applySteps, finishRollback, undoExecuted } from './apply.js';
import { pendingFromJournal } from './recover.js';
import type { LoadedState } from './store.js';
import { loadState, saveState } from './store.js';
import type { OpenTargetOptions } from './target.js';
import { KERNEL_NEEDS_AGENT, openTarget } from './target.js';
import type { CheckpointPolicy } from './checkpoints.js';

export interface SessionOptions {
  readonly statePath: string;
  readonly backend: BackendKind;
  readonly operation: string;
  readonly lockTimeoutMs: number;
  /** Failure injection and test hooks. */
  readonly targetOptions?: OpenTargetOptions;
  readonly stepDelayMs?: number;
  readonly onEvent?: (event: ApplyEvent) => void;
  /** Mid-run commits on a state-file backend (default DEFAULT_CHECKPOINTS; tests commit more often). */
  readonly checkpoints?: CheckpointPolicy;
}

export interface SessionError {
  readonly code: string;
  readonly message: string;
}

export type WorkResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SessionError };

export interface RecoveryReport {
  readonly operation: string;
  readonly report: ApplyReport;
  /**
   * Set when the journal ended with an `end` record: the operation had finished (only the journal
   * removal was lost) and nothing was undone; `at` is when it finished (finding F4).
   */
  readonly finished?: { readonly outcome: 'applied' | 'rolled-back'; readonly at: string };
  /**
   * Set when the journal was written on another instance of a held backend: every call it made
   * died with that backend's process, so nothing was undone. The value names that instance.
   */
  readonly lostWithBackend?: string;
}

export interface Session {
  state: LoadedState;
  readonly recovery: RecoveryReport | null;
  readonly options: SessionOptions;
}

export type SessionResult<T> = { readonly ok: true; readonly value: T; readonly recovery: RecoveryReport | null } | { readonly ok: false; readonly error: SessionError; readonly recovery?: RecoveryReport | null };

/** Where the plan runs; the simulator's page size comes from the simulated kernel in the state. */
export function hostFacts(backend: BackendKind, body?: StateBody): HostFacts {
  const simPageSize = (body?.sim as { options?: { pageSize?: unknown } } | null | undefined)?.options?.pageSize;
  const pageSize = typeof simPageSize === 'string' || typeof simPageSize === 'number' ? BigInt(simPageSize) : 4096n;
  return { backend, hostname: hostname(), pageSize };
}

interface ClosableSink extends ApplySink {
  /** Creates (or resumes) the journal file now, so a crash from here on leaves one behind. */
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Queued records beyond this are written early (not synced), so the queue stays bounded. High on
 * purpose: records still queued at a final commit are never encoded at all (~40 MB at 100k calls).
 */
const SPILL_RECORDS = 262_144;

/**
 * The journal (storage from src/state/journal.ts: checksummed lines) and the state commit.
 * Records are queued and written in batches; `flush` (and every commit, before writing the state)
 * makes them durable with one fdatasync. `resume` appends to the journal of an interrupted apply
 * instead of starting one.
 */
function sinkFor(session: Session, mode: 'new' | 'resume'): ClosableSink {
  const statePath = session.options.statePath;
  let handle: JournalHandle | null = null;
  let queue: JournalRecord[] = [];
  const open = async (): Promise<JournalHandle> => {
    if (handle) return handle;
    const envelope = session.state.envelope;
    const opened = mode === 'new'
      ? await openJournal(statePath, { lineage: envelope?.lineage ?? 'none', baseSerial: envelope?.serial ?? null })
      : await resumeJournal(statePath);
    if (!opened.ok) throw new SessionFailure(opened.error.code, opened.error.message);
    handle = opened.journal;
    return handle;
  };
  const write = async (sync: boolean): Promise<void> => {
    const journal = await open();
    const batch = queue;
    queue = [];
    const appended = await appendRecords(journal, batch, { sync });
    if (!appended.ok) throw new SessionFailure(appended.error.code, appended.error.message);
  };
  const flush = (): Promise<void> => write(true);
  const save = async (body: StateBody): Promise<void> => {
    const saved = await saveState(statePath, session.state.envelope, body);
    if (!saved.ok) throw new SessionFailure(saved.code, saved.message);
    session.state = { envelope: saved.envelope, body };
  };
  return {
    open: async () => void (await open()),
    journal: (record) => {
      queue.push(record);
      if (queue.length >= SPILL_RECORDS) return write(false);
      return undefined;
    },
    flush,
    commit: async (body) => {
      // The records a state refers to (journalSeq) are durable before the state is.
      await flush();
      await save(body);
    },
    commitFinal: async (body) => {
      // A completed apply: recovery needs none of the queued records (see ApplySink.commitFinal).
      queue = [];
      await save(body);
    },
    close: async () => {
      if (handle) await closeJournal(handle);
    },
  };
}

/** A storage failure in the middle of an apply (disk full, permissions): reported, not a crash. */
export class SessionFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

async function removeJournal(statePath: string): Promise<void> {
  const cleared = await clearJournal(statePath);
  if (!cleared.ok) throw new SessionFailure(cleared.error.code, cleared.error.message);
}

/** Finishes the undo of an interrupted apply, if the journal shows one. */
async function recover(session: Session): Promise<{ ok: true; recovery: RecoveryReport | null } | { ok: false; error: SessionError }> {
  const statePath = session.options.statePath;
  const read = await readJournal(statePath);
  if (!read.ok) return { ok: false, error: { code: read.error.code, message: read.error.message } };
  if (read.journal === null) return { ok: true, recovery: null };
  const header = read.journal.header;
  const lineageNow = session.state.envelope?.lineage ?? null;
  // 'none' marks a journal started before any state existed (this apply created the lineage).
  if (header.lineage !== 'none' && lineageNow !== header.lineage) {
    return {
      ok: false,
      error: {
        code: 'JOURNAL_MISMATCH',
        message: `the apply journal belongs to state lineage ${header.lineage}, but the state file is ${lineageNow === null ? 'gone' : `lineage ${lineageNow}`}: the two disagree about history, so nothing is undone automatically; inspect the backend and ${read.journal.path} by hand`,
      },
    };
  }
  const records = read.journal.records.map((r) => reviveBigints(r) as JournalRecord);
  const pending = pendingFromJournal(records, session.state.body);
  const untouched = (): ApplyReport => ({ outcome: 'rolled-back', body: session.state.body, executed: 0, failure: null, undos: [], leftovers: [] });
  if (pending.kind === 'finished') {
    await removeJournal(statePath);
    // An incomplete rollback marked the state itself; every command reports that mark.
    if (pending.outcome === 'attention') return { ok: true, recovery: null };
    const report: ApplyReport = { ...untouched(), outcome: pending.outcome, executed: pending.executed };
    return { ok: true, recovery: { operation: pending.operation, report, finished: { outcome: pending.outcome, at: pending.at ?? header.createdAt } } };
  }
  const opened = openTarget(session.options.backend, session.state.body, session.options.targetOptions);
  if (!opened.ok) return { ok: false, error: opened };
  const { target } = opened;
  try {
    if (target.instance !== null && pending.backendInstance !== target.instance) {
      // A held backend dies with its process: the calls this journal describes were made on a
      // kernel (fd) that no longer exists, so there is nothing to undo here. What the state file
      // still claims about that dead instance is the holder's business (it resets on start).
      await removeJournal(statePath);
      return { ok: true, recovery: { operation: pending.operation, report: untouched(), lostWithBackend: pending.backendInstance ?? 'an unnamed earlier instance' } };
    }
    const sink = sinkFor(session, 'resume');
    try {
      const applyOptions = { snapshot: target.snapshot, ...(session.options.onEvent ? { onEvent: session.options.onEvent } : {}) };
      const undone = await undoExecuted(target.env, sink, applyOptions, session.state.body, pending.executed, pending.lastSeq);
      // One commit, even when there was nothing to undo: the serial moves on, so plans made
      // before the crash are stale.
      const report = await finishRollback(sink, applyOptions, undone, null, pending.executed.length);
      await sink.close();
      if (report.outcome !== 'attention') await removeJournal(statePath);
      return { ok: true, recovery: { operation: pending.operation, report } };
    } finally {
      await sink.close();
    }
  } finally {
    await target.close();
  }
}

/** Locks the state, recovers, runs `work`, unlocks. */
export async function withSession<T>(options: SessionOptions, work: (session: Session) => Promise<WorkResult<T>>): Promise<SessionResult<T>> {
  if (options.backend === 'kernel' && !options.targetOptions?.held) return { ok: false, error: { code: 'KERNEL_NEEDS_AGENT', message: KERNEL_NEEDS_AGENT } };
  const locked = await acquireLock(options.statePath, { operation: options.operation, timeoutMs: options.lockTimeoutMs });
  if (!locked.ok) return { ok: false, error: { code: locked.error.code, message: locked.error.message } };
  try {
    return await lockedSession(options, work);
  } catch (e) {
    if (e instanceof SessionFailure) return { ok: false, error: { code: e.code, message: e.message } };
    throw e;
  } finally {
    await releaseLock(locked.lock);
  }
}

async function lockedSession<T>(options: SessionOptions, work: (session: Session) => Promise<WorkResult<T>>): Promise<SessionResult<T>> {
  const loaded = await loadState(options.statePath, options.backend);
  if (!loaded.ok) return { ok: false, error: loaded };
  const session: Session = { state: loaded.state, recovery: null, options };
  const recovered = await recover(session);
  if (!recovered.ok) return { ok: false, error: recovered.error };
  // Temp files of writers killed before their rename are harmless; tidy them while we hold the lock.
  await removeStaleTempFiles(options.statePath);
  // `recover` may have committed a new state; the spread takes it.
  const withRecovery: Session = { ...session, recovery: recovered.recovery };
  const done = await work(withRecovery);
  if (!done.ok) return { ok: false, error: done.error, recovery: recovered.recovery };
  return { ok: true, value: done.value, recovery: recovered.recovery };
}

/** Runs steps on the session's backend with journal and rollback; clears the journal after. */
export async function runSteps(
  session: Session,
  steps: readonly Step[],
  operation: 'apply' | 'destroy',
  onEvent?: (event: ApplyEvent) => void,
  stopRequested?: () => boolean,
): Promise<{ ok: true; report: ApplyReport } | { ok: false; error: SessionError }> {
  const opened = openTarget(session.options.backend, session.state.body, session.options.targetOptions);
  if (!opened.ok) return { ok: false, error: opened };
  const { target } = opened;
  const sink = sinkFor(session, 'new');
  // A held backend dies with this process: no mid-run commits (they would record objects a crash
  // destroys anyway), and a storage failure undoes the calls in memory (docs/state.md "Commits").
  const held = target.instance !== null;
  try {
    await sink.open();
    const report = await applySteps(target.env, sink, {
      snapshot: target.snapshot,
      ...(onEvent ?? session.options.onEvent ? { onEvent: onEvent ?? session.options.onEvent! } : {}),
      ...(session.options.stepDelayMs ? { stepDelayMs: session.options.stepDelayMs } : {}),
      ...(stopRequested ? { stopRequested } : {}),
      ...(held ? { checkpoints: null, undoOnStorageFailure: true, backendInstance: target.instance! } : session.options.checkpoints ? { checkpoints: session.options.checkpoints } : {}),
    }, session.state.body, steps, operation);
    await sink.close();
    crashPoint('journal-ended');
    if (report.outcome !== 'attention') await removeJournal(session.options.statePath);
    return { ok: true, report };
  } finally {
    await sink.close();
    await target.close();
  }
}

