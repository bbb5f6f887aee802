// A session is what every state-touching command does around its real work: take the lock, load
// the state, finish the undo of an interrupted apply if the journal says there was one, run the
// work, release the lock. Errors are values with codes.
import { hostname } from 'node:os';
import type { BackendKind, StateBody } from '../model/recorded.js';
import type { Step } from '../model/step.js';
import type { HostFacts } from '../plan/plan.js';
import { acquireLock, releaseLock } from '../state/lock.js';
import { journalPathFor } from '../state/paths.js';
import type { ApplyEvent, ApplyReport, ApplySink } from './apply.js';
import { applySteps, finishRollback, undoExecuted } from './apply.js';
import { appendJournal, readJournal, removeJournal } from './journal-file.js';
import { pendingFromJournal } from './recover.js';
import type { LoadedState } from './store.js';
import { loadState, saveState } from './store.js';
import type { OpenTargetOptions } from './target.js';
import { openTarget } from './target.js';

export interface SessionOptions {
  readonly statePath: string;
  readonly backend: BackendKind;
  readonly operation: string;
  readonly lockTimeoutMs: number;
  /** Failure injection and test hooks. */
  readonly targetOptions?: OpenTargetOptions;
  readonly stepDelayMs?: number;
  readonly onEvent?: (event: ApplyEvent) => void;
}

export interface SessionError {
  readonly code: string;
  readonly message: string;
}

export interface RecoveryReport {
  readonly operation: string;
  readonly report: ApplyReport;
}

export interface Session {
  state: LoadedState;
  readonly recovery: RecoveryReport | null;
  readonly options: SessionOptions;
}

export type SessionResult<T> = { readonly ok: true; readonly value: T; readonly recovery: RecoveryReport | null } | { readonly ok: false; readonly error: SessionError; readonly recovery?: RecoveryReport | null };

export function hostFacts(backend: BackendKind): HostFacts {
  return { backend, hostname: hostname(), pageSize: 4096n };
}

function sinkFor(session: Session): ApplySink {
  const journalPath = journalPathFor(session.options.statePath);
  return {
    journal: (record) => appendJournal(journalPath, record),
    commit: async (body) => {
      const saved = await saveState(session.options.statePath, session.state.envelope, body);
      if (!saved.ok) throw new Error(`${saved.code}: ${saved.message}`);
      session.state = { envelope: saved.envelope, body };
    },
  };
}

/** Finishes the undo of an interrupted apply, if the journal shows one. */
async function recover(session: Session): Promise<{ ok: true; recovery: RecoveryReport | null } | { ok: false; error: SessionError }> {
  const journalPath = journalPathFor(session.options.statePath);
  const read = await readJournal(journalPath);
  if (!read.ok) return { ok: false, error: { code: read.code, message: read.message } };
  if (read.records === null) return { ok: true, recovery: null };
  const pending = pendingFromJournal(read.records, session.state.body);
  if (pending.kind === 'finished') {
    await removeJournal(journalPath);
    return { ok: true, recovery: null };
  }
  const opened = openTarget(session.options.backend, session.state.body, session.options.targetOptions);
  if (!opened.ok) return { ok: false, error: opened };
  const { target } = opened;
  try {
    const sink = sinkFor(session);
    const applyOptions = { snapshot: target.snapshot, ...(session.options.onEvent ? { onEvent: session.options.onEvent } : {}) };
    const undone = await undoExecuted(target.env, sink, applyOptions, session.state.body, pending.executed, pending.lastSeq);
    const report = await finishRollback(sink, applyOptions, undone, null, pending.executed.length);
    // The undo rewrote the state even when there was nothing to undo, so the serial moves on and
    // plans made before the crash are stale.
    if (undone.undos.length === 0) await sink.commit(target.snapshot({ ...session.state.body, journalSeq: undone.seq }));
    if (report.outcome !== 'attention') await removeJournal(journalPath);
    return { ok: true, recovery: { operation: pending.operation, report } };
  } finally {
    await target.close();
  }
}

/** Locks the state, recovers, runs `work`, unlocks. */
export async function withSession<T>(options: SessionOptions, work: (session: Session) => Promise<T | SessionError & { failed: true }>): Promise<SessionResult<T>> {
  const locked = await acquireLock(options.statePath, { operation: options.operation, timeoutMs: options.lockTimeoutMs });
  if (!locked.ok) return { ok: false, error: { code: locked.error.code, message: locked.error.message } };
  try {
    const loaded = await loadState(options.statePath, options.backend);
    if (!loaded.ok) return { ok: false, error: loaded };
    const session: Session = { state: loaded.state, recovery: null, options };
    const recovered = await recover(session);
    if (!recovered.ok) return { ok: false, error: recovered.error };
    const withRecovery: Session = { ...session, recovery: recovered.recovery };
    if (withRecovery.state.body.attention && options.operation !== 'show' && options.operation !== 'force-unlock') {
      const a = withRecovery.state.body.attention;
      return {
        ok: false,
        recovery: recovered.recovery,
        error: { code: 'STATE_NEEDS_ATTENTION', message: `the state needs attention: ${a.reason}. Left on the backend:\n${a.leftovers.map((l) => `  ${l}`).join('\n')}` },
      };
    }
    const value = await work(withRecovery);
    if (value !== null && typeof value === 'object' && 'failed' in value) return { ok: false, error: value, recovery: recovered.recovery };
    return { ok: true, value: value as T, recovery: recovered.recovery };
  } finally {
    await releaseLock(locked.lock);
  }
}

/** Runs steps on the session's backend with journal and rollback; clears the journal after. */
export async function runSteps(session: Session, steps: readonly Step[], operation: 'apply' | 'destroy'): Promise<{ ok: true; report: ApplyReport } | { ok: false; error: SessionError }> {
  const opened = openTarget(session.options.backend, session.state.body, session.options.targetOptions);
  if (!opened.ok) return { ok: false, error: opened };
  const { target } = opened;
  try {
    const sink = sinkFor(session);
    const report = await applySteps(target.env, sink, {
      snapshot: target.snapshot,
      ...(session.options.onEvent ? { onEvent: session.options.onEvent } : {}),
      ...(session.options.stepDelayMs ? { stepDelayMs: session.options.stepDelayMs } : {}),
    }, session.state.body, steps, operation);
    if (report.outcome !== 'attention') await removeJournal(journalPathFor(session.options.statePath));
    return { ok: true, report };
  } finally {
    await target.close();
  }
}

export type { StateBody };
