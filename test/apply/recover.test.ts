import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../src/apply/journal-records.js';
import { pendingFromJournal } from '../../src/apply/recover.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import type { Step } from '../../src/model/step.js';

const alloc = (ioas: string): Step => ({ op: 'alloc-ioas', address: `ioas.${ioas}`, ioas });
const destroy: Step = { op: 'destroy-ioas', address: 'ioas.gone', ioas: 'gone', allowedIovas: [{ start: 0x1000n, last: 0x1fffn }], hugePages: false };

describe('pendingFromJournal', () => {
  it('takes only calls committed to the state (seq <= journalSeq) as executed', () => {
    const records: JournalRecord[] = [
      { type: 'begin', operation: 'apply', firstSeq: 11, steps: 3, at: 't' },
      { type: 'intent', seq: 11, phase: 'forward', index: 0, step: alloc('a') },
      { type: 'done', seq: 11, output: { op: 'alloc-ioas', id: 1 } },
      { type: 'intent', seq: 12, phase: 'forward', index: 1, step: alloc('b') },
      { type: 'done', seq: 12, output: { op: 'alloc-ioas', id: 2 } },
      // Killed after `done` but before the state commit of seq 12, and during call 13.
      { type: 'intent', seq: 13, phase: 'forward', index: 2, step: alloc('c') },
    ];
    const pending = pendingFromJournal(records, { ...emptyStateBody('sim'), journalSeq: 11 });
    expect(pending.kind).toBe('undo');
    if (pending.kind !== 'undo') return;
    expect(pending.executed.map((e) => e.seq)).toEqual([11]);
    expect(pending.lastSeq).toBe(13);
  });

  it('resumes a rollback that was itself interrupted: committed undo parts are not repeated', () => {
    const records: JournalRecord[] = [
      { type: 'begin', operation: 'destroy', firstSeq: 1, steps: 2, at: 't' },
      { type: 'intent', seq: 1, phase: 'forward', index: 0, step: destroy },
      { type: 'done', seq: 1, output: { op: 'destroy-ioas' } },
      { type: 'intent', seq: 2, phase: 'forward', index: 1, step: alloc('x') },
      { type: 'failed', seq: 2, errno: 12, code: 'ENOMEM' },
      // Undo of the destroy is alloc + set-huge-pages + allow-iovas; the alloc was committed.
      { type: 'intent', seq: 3, phase: 'undo', undoes: 1, part: 0, step: alloc('gone') },
      { type: 'done', seq: 3, output: { op: 'alloc-ioas', id: 4 } },
    ];
    const pending = pendingFromJournal(records, { ...emptyStateBody('sim'), journalSeq: 3 });
    expect(pending).toMatchObject({ kind: 'undo', operation: 'destroy', lastSeq: 3 });
    if (pending.kind !== 'undo') return;
    expect(pending.executed).toHaveLength(1);
    expect(pending.executed[0]).toMatchObject({ seq: 1, undoneParts: 1 });
  });

  it('a journal with an end record is finished: outcome, time and calls made are reported, nothing is undone', () => {
    const records: JournalRecord[] = [
      { type: 'begin', operation: 'apply', firstSeq: 1, steps: 2, at: '2026-11-25T10:00:00.000Z' },
      { type: 'intent', seq: 1, phase: 'forward', index: 0, step: alloc('a') },
      { type: 'done', seq: 1, output: { op: 'alloc-ioas', id: 1 } },
      { type: 'intent', seq: 2, phase: 'forward', index: 1, step: alloc('b') },
      { type: 'done', seq: 2, output: { op: 'alloc-ioas', id: 2 } },
      { type: 'end', outcome: 'applied', at: '2026-11-25T10:00:01.000Z' },
    ];
    expect(pendingFromJournal(records, { ...emptyStateBody('sim'), journalSeq: 2 })).toEqual({ kind: 'finished', operation: 'apply', outcome: 'applied', at: '2026-11-25T10:00:01.000Z', executed: 2 });
    // An end record of an older ioasform has no time: the begin's is the best there is.
    expect(pendingFromJournal([records[0]!, { type: 'end', outcome: 'rolled-back' }], emptyStateBody('sim'))).toMatchObject({ kind: 'finished', outcome: 'rolled-back', at: '2026-11-25T10:00:00.000Z', executed: 0 });
  });

  it('a state past the apply\'s first seq and past every record was written by its final commit: finished, nothing undone', () => {
    const records: JournalRecord[] = [
      { type: 'begin', operation: 'apply', firstSeq: 11, steps: 5, at: '2026-11-25T10:00:00.000Z' },
      // The calls' records were still queued when the final commit dropped them.
    ];
    expect(pendingFromJournal(records, { ...emptyStateBody('sim'), journalSeq: 15 })).toEqual({ kind: 'finished', operation: 'apply', outcome: 'applied', at: null, executed: 5 });
    // The state the apply started from (journalSeq 10): interrupted, nothing committed, nothing to undo.
    expect(pendingFromJournal(records, { ...emptyStateBody('sim'), journalSeq: 10 })).toMatchObject({ kind: 'undo', executed: [] });
    // A checkpoint at 12 flushed the records up to it: interrupted, and those calls are undone.
    const checkpointed: JournalRecord[] = [
      ...records,
      { type: 'intent', seq: 11, phase: 'forward', index: 0, step: alloc('a') },
      { type: 'done', seq: 11, output: { op: 'alloc-ioas', id: 1 } },
      { type: 'intent', seq: 12, phase: 'forward', index: 1, step: alloc('b') },
      { type: 'done', seq: 12, output: { op: 'alloc-ioas', id: 2 } },
    ];
    const pending = pendingFromJournal(checkpointed, { ...emptyStateBody('sim'), journalSeq: 12 });
    expect(pending.kind === 'undo' && pending.executed.map((e) => e.seq)).toEqual([11, 12]);
  });

  it('names the backend instance the calls were made on (held backends)', () => {
    const records: JournalRecord[] = [
      { type: 'begin', operation: 'apply', firstSeq: 1, steps: 1, at: 't', backendInstance: 'pid 7 started T' },
      { type: 'intent', seq: 1, phase: 'forward', index: 0, step: alloc('a') },
    ];
    expect(pendingFromJournal(records, emptyStateBody('kernel'))).toMatchObject({ kind: 'undo', backendInstance: 'pid 7 started T', executed: [] });
    expect(pendingFromJournal(records.slice(1), emptyStateBody('sim'))).toMatchObject({ kind: 'undo', backendInstance: null });
  });
});
