// The applier: runs steps in order through the runner, journaling an intent before each call and
// its outcome after, committing the state after each call; on the first failure it undoes every
// executed step in reverse by running inverses through the same runner. Crash recovery
// (recover.ts) rebuilds the executed list from the journal and calls the same `undoExecuted`.

import type { StateBody } from '../model/recorded.js';
import type { Step, StepOutput } from '../model/step.js';
import { callName, inverse } from '../model/step.js';
import { errnoMeaning } from './errno-meaning.js';
import type { JournalRecord } from './journal-records.js';
import type { RunnerEnv, StepFailure } from './runner.js';
import { runTableStep } from './runner.js';
import { WorkingTable } from './working-table.js';

/** Where the applier writes: the journal (fsync'ed append) and the state (atomic replace). */
export interface ApplySink {
  journal(record: JournalRecord): Promise<void>;
  /** Persist the body (for the simulator, with the simulated kernel inside). */
  commit(body: StateBody): Promise<void>;
}

export type ApplyEvent =
  | { readonly kind: 'step'; readonly phase: 'forward' | 'undo'; readonly index: number; readonly total: number; readonly step: Step }
  | { readonly kind: 'step-done'; readonly phase: 'forward' | 'undo'; readonly step: Step; readonly ok: boolean; readonly code: string };

export interface ApplyOptions {
  readonly onEvent?: (event: ApplyEvent) => void;
  /** Test hook: pause before each call (lets tests kill an apply mid-way). */
  readonly stepDelayMs?: number;
  /** Asked before each forward call; true stops the apply there and rolls back (Ctrl-C). */
  readonly stopRequested?: () => boolean;
  /** Adds the simulated kernel (or nothing) to a body before it is committed. */
  readonly snapshot: (body: StateBody) => StateBody;
}

/** A forward step that ran, what it produced, and how many of its inverse steps already ran. */
export interface Executed {
  readonly seq: number;
  readonly step: Step;
  readonly output: StepOutput;
  readonly undoneParts: number;
}

export interface FailureReport {
  readonly step: Step;
  readonly call: string;
  readonly code: string;
  readonly errno: number;
  readonly meaning: string;
  readonly message?: string;
}

export interface UndoReport {
  readonly step: Step;
  readonly call: string;
  readonly ok: boolean;
  readonly code: string;
  readonly meaning?: string;
}

export interface UndoResult {
  readonly body: StateBody;
  readonly undos: readonly UndoReport[];
  /** Empty when everything was undone; otherwise what is left on the backend, one line each. */
  readonly leftovers: readonly string[];
  readonly seq: number;
}

export interface ApplyReport {
  readonly outcome: 'applied' | 'rolled-back' | 'attention';
  readonly body: StateBody;
  readonly executed: number;
  readonly failure: FailureReport | null;
  readonly undos: readonly UndoReport[];
  readonly leftovers: readonly string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function describeFailure(step: Step, f: StepFailure): FailureReport {
  return { step, call: f.call, code: f.code, errno: f.errno, meaning: f.message ?? errnoMeaning(step.op, f.code), ...(f.message ? { message: f.message } : {}) };
}

/**
 * One journaled call: intent, run, outcome, commit. Returns the committed body or the failure.
 * The run's state lives in `table` (updated in place); the body committed after each call is
 * produced from it, sharing every IOAS record the call did not change.
 */
async function journaledCall(
  env: RunnerEnv,
  sink: ApplySink,
  options: ApplyOptions,
  table: WorkingTable,
  seq: number,
  intent: JournalRecord,
): Promise<{ ok: true; body: StateBody; output: StepOutput } | { ok: false; failure: StepFailure }> {
  if (intent.type !== 'intent') throw new Error('journaledCall needs an intent record');
  if (options.stepDelayMs) await sleep(options.stepDelayMs);
  await sink.journal(intent);
  const run = await runTableStep(env, table, intent.step);
  if (!run.ok) {
    await sink.journal({ type: 'failed', seq, errno: run.errno, code: run.code });
    return { ok: false, failure: run };
  }
  await sink.journal({ type: 'done', seq, output: run.output });
  const next = options.snapshot({ ...table.body(), journalSeq: seq });
  table.adoptHeader(next);
  await sink.commit(next);
  return { ok: true, body: next, output: run.output };
}

/** Undoes `executed` (in execution order) in reverse; stops at the first undo that fails. */
export async function undoExecuted(env: RunnerEnv, sink: ApplySink, options: ApplyOptions, start: StateBody, executed: readonly Executed[], firstSeq: number): Promise<UndoResult> {
  let body = start;
  const table = WorkingTable.from(start);
  let seq = firstSeq;
  const undos: UndoReport[] = [];
  const pending = [...executed].reverse();
  for (let k = 0; k < pending.length; k++) {
    const done = pending[k]!;
    const parts = inverse(done.step, done.output);
    for (let part = done.undoneParts; part < parts.length; part++) {
      const step = parts[part]!;
      seq += 1;
      options.onEvent?.({ kind: 'step', phase: 'undo', index: k, total: pending.length, step });
      const r = await journaledCall(env, sink, options, table, seq, { type: 'intent', seq, phase: 'undo', undoes: done.seq, part, step });
      options.onEvent?.({ kind: 'step-done', phase: 'undo', step, ok: r.ok, code: r.ok ? 'OK' : r.failure.code });
      if (!r.ok) {
        undos.push({ step, call: callName(step), ok: false, code: r.failure.code, meaning: r.failure.message ?? errnoMeaning(step.op, r.failure.code) });
        const leftovers = pending.slice(k).map((e) => `${e.step.address}: ${callName(e.step)} (${e.step.op}) is still in effect`);
        return { body, undos, leftovers, seq };
      }
      undos.push({ step, call: callName(step), ok: true, code: 'OK' });
      body = r.body;
    }
  }
  return { body, undos, leftovers: [], seq };
}

/** Runs `steps` on the backend, rolling back on the first failure. */
export async function applySteps(env: RunnerEnv, sink: ApplySink, options: ApplyOptions, start: StateBody, steps: readonly Step[], operation: 'apply' | 'destroy'): Promise<ApplyReport> {
  let body = start;
  const table = WorkingTable.from(start);
  let seq = start.journalSeq;
  await sink.journal({ type: 'begin', operation, firstSeq: seq + 1, steps: steps.length, at: new Date().toISOString() });
  const executed: Executed[] = [];
  let failure: FailureReport | null = null;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (options.stopRequested?.()) {
      failure = { step, call: callName(step), code: 'INTERRUPTED', errno: 0, meaning: 'the apply was interrupted (SIGINT/SIGTERM) before this call; everything done so far is undone' };
      break;
    }
    seq += 1;
    options.onEvent?.({ kind: 'step', phase: 'forward', index: i, total: steps.length, step });
    const r = await journaledCall(env, sink, options, table, seq, { type: 'intent', seq, phase: 'forward', index: i, step });
    options.onEvent?.({ kind: 'step-done', phase: 'forward', step, ok: r.ok, code: r.ok ? 'OK' : r.failure.code });
    if (!r.ok) {
      failure = describeFailure(step, r.failure);
      break;
    }
    executed.push({ seq, step, output: r.output, undoneParts: 0 });
    body = r.body;
  }
  if (!failure) {
    // Every call committed its own effect; a mark left by an earlier incomplete rollback is now
    // resolved, because this apply converged the target on the layout.
    if (body.attention) {
      body = { ...body, attention: null };
      await sink.commit(body);
    }
    await sink.journal({ type: 'end', outcome: 'applied' });
    return { outcome: 'applied', body, executed: executed.length, failure: null, undos: [], leftovers: [] };
  }
  const undone = await undoExecuted(env, sink, options, body, executed, seq);
  return finishRollback(sink, options, undone, failure, executed.length);
}

/** Records the outcome of a rollback: clean, or the state needs attention. */
export async function finishRollback(sink: ApplySink, options: ApplyOptions, undone: UndoResult, failure: FailureReport | null, executed: number): Promise<ApplyReport> {
  if (undone.leftovers.length === 0) {
    await sink.journal({ type: 'end', outcome: 'rolled-back' });
    return { outcome: 'rolled-back', body: undone.body, executed, failure, undos: undone.undos, leftovers: [] };
  }
  const body = options.snapshot({
    ...undone.body,
    attention: { reason: failure ? `apply failed at ${failure.step.address} (${failure.code}) and the rollback is incomplete` : 'the rollback of an interrupted apply is incomplete', leftovers: undone.leftovers },
  });
  await sink.commit(body);
  await sink.journal({ type: 'end', outcome: 'attention' });
  return { outcome: 'attention', body, executed, failure, undos: undone.undos, leftovers: undone.leftovers };
}
