// Crash recovery: before anything else, `plan`, `apply` and `destroy` look for a journal left by
// an interrupted apply and finish its undo, so the target is back at the layout it had before.
// The executed calls are rebuilt from the journal and undone by the same `undoExecuted` that
// rollback uses.
import type { StateBody } from '../model/recorded.js';
import type { StepOutput } from '../model/step.js';
import type { Executed } from './apply.js';
import type { JournalRecord } from './journal-records.js';

export type Pending =
  /** The journal ends with an `end` record: the operation finished; only the file is left. */
  | { readonly kind: 'finished'; readonly operation: string; readonly outcome: 'applied' | 'rolled-back' | 'attention'; readonly at: string | null; readonly executed: number }
  /** These calls took effect and must be undone (in reverse). */
  | { readonly kind: 'undo'; readonly executed: readonly Executed[]; readonly lastSeq: number; readonly operation: string; readonly backendInstance: string | null };

/**
 * Which journaled calls are in effect: those committed to the state (seq <= body.journalSeq,
 * see journal-records.ts), minus the undo parts already committed.
 */
export function pendingFromJournal(records: readonly JournalRecord[], body: StateBody): Pending {
  const outputs = new Map<number, StepOutput>();
  let lastSeq = body.journalSeq;
  let operation = 'apply';
  let backendInstance: string | null = null;
  let end: Extract<JournalRecord, { type: 'end' }> | null = null;
  let beganAt: string | null = null;
  let firstSeq: number | null = null;
  let lastRecordSeq = 0;
  for (const r of records) {
    if (r.type === 'done') outputs.set(r.seq, r.output);
    if (r.type === 'begin') {
      operation = r.operation;
      backendInstance = r.backendInstance ?? null;
      beganAt = r.at;
      firstSeq = r.firstSeq;
    }
    if (r.type === 'end') end = r;
    if ('seq' in r && r.seq > lastSeq) lastSeq = r.seq;
    if ('seq' in r && r.seq > lastRecordSeq) lastRecordSeq = r.seq;
  }
  if (end) {
    const executed = records.filter((r) => r.type === 'intent' && r.phase === 'forward' && outputs.has(r.seq)).length;
    return { kind: 'finished', operation, outcome: end.outcome, at: end.at ?? beganAt, executed };
  }
  // A completed apply's final commit may drop the records still queued (ApplySink.commitFinal);
  // every other commit makes the records up to its journalSeq durable first. So a state past the
  // apply's first seq and past every record here was written by that final commit.
  if (firstSeq !== null && body.journalSeq >= firstSeq && body.journalSeq > lastRecordSeq) {
    return { kind: 'finished', operation, outcome: 'applied', at: null, executed: body.journalSeq - firstSeq + 1 };
  }
  const effective = (seq: number): boolean => seq <= body.journalSeq && outputs.has(seq);
  const undone = new Map<number, number>();
  for (const r of records) {
    if (r.type === 'intent' && r.phase === 'undo' && effective(r.seq)) undone.set(r.undoes, Math.max(undone.get(r.undoes) ?? 0, r.part + 1));
  }
  const executed: Executed[] = [];
  for (const r of records) {
    if (r.type === 'intent' && r.phase === 'forward' && effective(r.seq)) {
      executed.push({ seq: r.seq, step: r.step, output: outputs.get(r.seq)!, undoneParts: undone.get(r.seq) ?? 0 });
    }
  }
  return { kind: 'undo', executed, lastSeq, operation, backendInstance };
}
