// The applier: runs steps in order through the runner, journaling an intent before each call and
// its outcome after; on the first failure it undoes every executed step in reverse by running
// inverses through the same runner. Crash recovery (recover.ts) rebuilds the executed list from
// the journal and calls the same `undoExecuted`.
//
// Commits (see docs/state.md "Commits"): the state is written at the END of the operation (once,
// rollback included) and, on a backend that lives in the state file, at checkpoints
// (checkpoints.ts). Journal records are queued and made durable in batches, always before the
// state that refers to them (the sink's commit flushes first). A body's `journalSeq` says which
// calls it includes: on the simulator, calls after the last commit did not happen as far as any
// later process can see, because the simulated kernel lives in that same file.

import type { StateBody } from '../model/recorded.js';
import type { Step, StepOutput } from '../model/step.js';
import { callName, inverse } from '../model/step.js';
import { errnoMeaning } from './errno-meaning.js';
import type { JournalRecord } from './journal-records.js';
import type { RunnerEnv, StepFailure } from './runner.js';
import { runTableStep } from './runner.js';
import { WorkingTable } from './working-table.js';
import type { CheckpointPolicy } from './checkpoints.js';
import { CheckpointClock, DEFAULT_CHECKPOINTS } from './checkpoints.js';
import { outcomeUnknown, probeUnknownOutcome } from './unknown-outcome.js';

/** Where the applier writes: the journal (batched, fsync'ed appends) and the state (atomic replace). */
export interface ApplySink {
  /** Queues a record. It is durable once the next `flush` or `commit` has returned. */
  journal(record: JournalRecord): void | Promise<void>;
  /** Makes every queued record durable (one write and one fdatasync). Optional for sinks that write each record durably. */
  flush?(): Promise<void>;
  /** Flushes the journal, THEN persists the body (for the simulator, with the simulated kernel inside). */
  commit(body: StateBody): Promise<void>;
  /**
   * Persists the body of an apply that completed, WITHOUT making the queued records durable
   * first (they are dropped): recovery recognizes this commit by a journalSeq beyond the last
   * record in the journal (recover.ts), and needs no record to undo nothing. Optional; `commit`
   * is used without it.
   */
  commitFinal?(body: StateBody): Promise<void>;
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
  /**
   * Mid-run commits. Undefined: DEFAULT_CHECKPOINTS. null: commit only at the end - for a backend
   * that dies with this process (held), where a mid-run commit would record kernel objects that a
   * crash destroys anyway, and would leave the state ahead of the kernel after an in-memory undo.
   */
  readonly checkpoints?: CheckpointPolicy | null;
  /**
   * The backend dies with this process (held). If the journal or the state cannot be written
   * mid-apply, undo the calls in memory before giving up: the process still knows them exactly,
   * and no later process could (it gets a fresh backend, or this one with unrecorded calls).
   */
  readonly undoOnStorageFailure?: boolean;
  /** Identifies the backend instance in the journal's `begin` record (held backends). */
  readonly backendInstance?: string | null;
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
  /** The body after the undo, with journalSeq = `seq`; not yet committed. */
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
 * One journaled call: intent, run, outcome. The run's state lives in `table` (updated in place).
 * Nothing is committed here: the caller decides when (checkpoints, end of the operation).
 */
async function journaledCall(
  env: RunnerEnv,
  sink: ApplySink,
  options: ApplyOptions,
  table: WorkingTable,
  seq: number,
  intent: JournalRecord,
): Promise<{ ok: true; output: StepOutput } | { ok: false; failure: StepFailure }> {
  if (intent.type !== 'intent') throw new Error('journaledCall needs an intent record');
  if (options.stepDelayMs) await sleep(options.stepDelayMs);
  await sink.journal(intent);
  const run = await runTableStep(env, table, intent.step);
  if (!run.ok) {
    await sink.journal({ type: 'failed', seq, errno: run.errno, code: run.code });
    return { ok: false, failure: run };
  }
  await sink.journal({ type: 'done', seq, output: run.output });
  return { ok: true, output: run.output };
}

/** The table's body as of call `seq`, with the backend's own part (the simulated kernel) in it. */
function committedBody(options: ApplyOptions, table: WorkingTable, seq: number, extra: Partial<StateBody> = {}): StateBody {
  const body = options.snapshot({ ...table.body(), journalSeq: seq, ...extra });
  table.adoptHeader(body);
  return body;
}

async function flushJournal(sink: ApplySink): Promise<void> {
  if (sink.flush) await sink.flush();
}

/** Undoes `executed` (in execution order) in reverse; stops at the first undo that fails. Commits nothing. */
export async function undoExecuted(env: RunnerEnv, sink: ApplySink, options: ApplyOptions, start: StateBody, executed: readonly Executed[], firstSeq: number): Promise<UndoResult> {
  return undoOnTable(env, sink, options, WorkingTable.from(start), executed, firstSeq, []);
}

async function undoOnTable(env: RunnerEnv, sink: ApplySink, options: ApplyOptions, table: WorkingTable, executed: readonly Executed[], firstSeq: number, earlier: readonly UndoReport[]): Promise<UndoResult> {
  let seq = firstSeq;
  const undos: UndoReport[] = [...earlier];
  const pending = [...executed].reverse();
  const result = (leftovers: readonly string[]): UndoResult => ({ body: options.snapshot({ ...table.body(), journalSeq: seq }), undos, leftovers, seq });
  for (let k = 0; k < pending.length; k++) {
    const done = pending[k]!;
    const parts = inverse(done.step, done.output);
    for (let part = done.undoneParts; part < parts.length; part++) {
      const step = parts[part]!;
      seq += 1;
      options.onEvent?.({ kind: 'step', phase: 'undo', index: k, total: pending.length, step });
      let r = await journaledCall(env, sink, options, table, seq, { type: 'intent', seq, phase: 'undo', undoes: done.seq, part, step });
      options.onEvent?.({ kind: 'step-done', phase: 'undo', step, ok: r.ok, code: r.ok ? 'OK' : r.failure.code });
      let unknownLine: string | null = null;
      if (!r.ok && outcomeUnknown(step, r.failure)) {
        // An undo MAP/UNMAP that answered EFAULT may have happened: put it back to "not happened"
        // with the probe (undo calls always have known IOVAs), then make the call once more.
        const probe = await probeFailedCall(env, sink, table, step, seq);
        undos.push({ step, call: callName(step), ok: probe.leftover === null, code: r.failure.code, meaning: 'EFAULT after a possible effect: probed, then made again' }, ...probe.probes);
        seq += probe.probes.length;
        unknownLine = probe.leftover;
        if (unknownLine === null) {
          seq += 1;
          r = await journaledCall(env, sink, options, table, seq, { type: 'intent', seq, phase: 'undo', undoes: done.seq, part, step });
          options.onEvent?.({ kind: 'step-done', phase: 'undo', step, ok: r.ok, code: r.ok ? 'OK' : r.failure.code });
        }
      }
      if (!r.ok) {
        if (unknownLine === null) undos.push({ step, call: callName(step), ok: false, code: r.failure.code, meaning: r.failure.message ?? errnoMeaning(step.op, r.failure.code) });
        const still = pending.slice(k).map((e) => `${e.step.address}: ${callName(e.step)} (${e.step.op}) is still in effect`);
        return result(unknownLine === null ? still : [unknownLine, ...still]);
      }
      undos.push({ step, call: callName(step), ok: true, code: 'OK' });
    }
  }
  return result([]);
}

/** Runs `steps` on the backend, rolling back on the first failure. */
export async function applySteps(env: RunnerEnv, sink: ApplySink, options: ApplyOptions, start: StateBody, steps: readonly Step[], operation: 'apply' | 'destroy'): Promise<ApplyReport> {
  const table = WorkingTable.from(start);
  const clock = new CheckpointClock(options.checkpoints === undefined ? DEFAULT_CHECKPOINTS : options.checkpoints);
  let seq = start.journalSeq;
  const executed: Executed[] = [];
  let failure: FailureReport | null = null;
  let unknownOutcome: { probes: readonly UndoReport[]; leftover: string | null } | null = null;
  let finalCommitted = false;
  /** The seq the state file was last committed at (a checkpoint right at the end needs no repeat). */
  let committedSeq = start.journalSeq;
  try {
    await sink.journal({ type: 'begin', operation, firstSeq: seq + 1, steps: steps.length, at: new Date().toISOString(), ...(options.backendInstance ? { backendInstance: options.backendInstance } : {}) });
    // The begin record is durable before the first call: recovery reads the apply's first seq
    // from it to recognize a final commit made without the later records.
    await flushJournal(sink);
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
        if (outcomeUnknown(step, r.failure)) unknownOutcome = await probeFailedCall(env, sink, table, step, seq);
        if (unknownOutcome) seq += unknownOutcome.probes.length;
        break;
      }
      executed.push({ seq, step, output: r.output, undoneParts: 0 });
      if (clock.tick()) {
        await clock.commit(() => sink.commit(committedBody(options, table, seq)));
        committedSeq = seq;
      }
    }
    if (!failure) {
      // A mark left by an earlier incomplete rollback is resolved: this apply converged the target.
      const body = committedBody(options, table, seq, { attention: null });
      if (committedSeq !== seq || start.attention) await (sink.commitFinal ? sink.commitFinal(body) : sink.commit(body));
      finalCommitted = true;
      await sink.journal({ type: 'end', outcome: 'applied', at: new Date().toISOString() });
      await flushJournal(sink);
      return { outcome: 'applied', body, executed: executed.length, failure: null, undos: [], leftovers: [] };
    }
  } catch (e) {
    if (options.undoOnStorageFailure && !finalCommitted) await undoAfterStorageFailure(env, options, table, executed, seq, e);
    throw e;
  }
  const undone = await undoOnTable(env, sink, options, table, executed, seq, unknownOutcome?.probes ?? []);
  const leftovers = unknownOutcome?.leftover ? [unknownOutcome.leftover, ...undone.leftovers] : undone.leftovers;
  return finishRollback(sink, options, { ...undone, leftovers }, failure, executed.length);
}

/**
 * A MAP/COPY/UNMAP answered EFAULT after possibly changing the IOAS: probe (undo it anyway) and
 * journal each probe call as a `probe` record. `leftover` is null when the outcome became known.
 */
async function probeFailedCall(env: RunnerEnv, sink: ApplySink, table: WorkingTable, step: Step, seq: number): Promise<{ probes: readonly UndoReport[]; leftover: string | null }> {
  const probe = await probeUnknownOutcome(env, table, step);
  let probeSeq = seq;
  for (const p of probe.probes) {
    probeSeq += 1;
    await sink.journal({ type: 'probe', seq: probeSeq, of: seq, step: p.step, answer: p.code });
  }
  return { probes: probe.probes, leftover: probe.kind === 'unknown' ? probe.leftover : null };
}

/** Held backend, storage gone: put the kernel back from memory (no journal, no state) and say how it went. */
async function undoAfterStorageFailure(env: RunnerEnv, options: ApplyOptions, table: WorkingTable, executed: readonly Executed[], seq: number, cause: unknown): Promise<void> {
  const silent: ApplySink = { journal: () => undefined, commit: async () => undefined };
  const undone = await undoOnTable(env, silent, { ...options, stepDelayMs: 0 }, table, executed, seq, []);
  if (cause instanceof Error) {
    cause.message += undone.leftovers.length === 0
      ? `; the ${executed.length} call(s) this apply had made were undone in memory, so the backend and the state file are both as before it`
      : `; undoing the calls in memory stopped early, left on the backend: ${undone.leftovers.join('; ')}`;
  }
}

/** Records the outcome of a rollback with ONE commit: clean, or the state needs attention. */
export async function finishRollback(sink: ApplySink, options: ApplyOptions, undone: UndoResult, failure: FailureReport | null, executed: number): Promise<ApplyReport> {
  if (undone.leftovers.length === 0) {
    await sink.commit(undone.body);
    await sink.journal({ type: 'end', outcome: 'rolled-back', at: new Date().toISOString() });
    await flushJournal(sink);
    return { outcome: 'rolled-back', body: undone.body, executed, failure, undos: undone.undos, leftovers: [] };
  }
  const body = options.snapshot({
    ...undone.body,
    attention: { reason: failure ? `apply failed at ${failure.step.address} (${failure.code}) and the rollback is incomplete` : 'the rollback of an interrupted apply is incomplete', leftovers: undone.leftovers },
  });
  await sink.commit(body);
  await sink.journal({ type: 'end', outcome: 'attention', at: new Date().toISOString() });
  await flushJournal(sink);
  return { outcome: 'attention', body, executed, failure, undos: undone.undos, leftovers: undone.leftovers };
}
