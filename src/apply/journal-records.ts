// The records of the intent journal (the storage - an append-only file with torn-tail tolerance -
// comes from src/state/). Order per call: `intent` is queued BEFORE the backend call,
// `done`/`failed` after it. Records are made durable in batches, always before a state commit
// (the commit carries `journalSeq` = the seq of the last call it includes), and the `end` record
// after the final commit. So after a crash:
//  - seq <= state.journalSeq: the call's effect is in the state (and, on the simulator, in the
//    simulated kernel stored there), and its `done` record holds the output the undo needs;
//  - a call beyond it did not take effect on the simulator (its kernel died with the process),
//    whether or not its records reached the disk;
//  - on a held backend (docs/state.md), the `begin` record names the backend instance: a journal
//    of another instance describes calls made on a kernel that died with that instance.
import type { Step, StepOutput } from '../model/step.js';

export type JournalRecord =
  | { readonly type: 'begin'; readonly operation: 'apply' | 'destroy'; readonly firstSeq: number; readonly steps: number; readonly at: string; readonly backendInstance?: string }
  | { readonly type: 'intent'; readonly seq: number; readonly phase: 'forward'; readonly index: number; readonly step: Step }
  /** An undo call: part `part` of the inverse of the forward call `undoes`. */
  | { readonly type: 'intent'; readonly seq: number; readonly phase: 'undo'; readonly undoes: number; readonly part: number; readonly step: Step }
  | { readonly type: 'done'; readonly seq: number; readonly output: StepOutput }
  | { readonly type: 'failed'; readonly seq: number; readonly errno: number; readonly code: string }
  /** A call that answered EFAULT after possibly taking effect was probed (unknown-outcome.ts): `answer` is the probe's errno name or OK. */
  | { readonly type: 'probe'; readonly seq: number; readonly of: number; readonly step: Step; readonly answer: string }
  | { readonly type: 'end'; readonly outcome: 'applied' | 'rolled-back' | 'attention'; readonly at?: string };
