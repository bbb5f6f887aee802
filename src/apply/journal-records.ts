// The records of the intent journal (the storage - an fsync'ed append-only file with torn-tail
// tolerance - comes from src/state/). Order per call: `intent` is written BEFORE the backend call,
// `done`/`failed` after it, then the state is committed with `journalSeq = seq`. So after a crash:
//  - seq <= state.journalSeq: the call's effect is in the state (and, on the simulator, in the
//    simulated kernel stored there), and its `done` record holds the output the undo needs;
//  - an intent beyond it did not take effect on the simulator (its kernel died with the process).
import type { Step, StepOutput } from '../model/step.js';

export type JournalRecord =
  | { readonly type: 'begin'; readonly operation: 'apply' | 'destroy'; readonly firstSeq: number; readonly steps: number; readonly at: string }
  | { readonly type: 'intent'; readonly seq: number; readonly phase: 'forward'; readonly index: number; readonly step: Step }
  /** An undo call: part `part` of the inverse of the forward call `undoes`. */
  | { readonly type: 'intent'; readonly seq: number; readonly phase: 'undo'; readonly undoes: number; readonly part: number; readonly step: Step }
  | { readonly type: 'done'; readonly seq: number; readonly output: StepOutput }
  | { readonly type: 'failed'; readonly seq: number; readonly errno: number; readonly code: string }
  | { readonly type: 'end'; readonly outcome: 'applied' | 'rolled-back' | 'attention' };
