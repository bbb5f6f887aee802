// When the applier commits the state in the middle of a long apply. A commit writes the whole
// state file (O(state): ~0.6 s at 10k entries, ~10 s at 100k), so committing after every call
// made large applies quadratic. The applier now commits at the end of the operation and, on a
// backend that lives in the state file (the simulator), at checkpoints chosen so that saving
// stays a small fraction of the run: not before `everyMs` has passed since the last commit, and
// not before `costRatio` times the last commit's own duration has passed (ratio 9: at most ~10%
// of the wall time goes to mid-run saves, however large the state grows).
//
// Checkpoints do not make anything more correct - recovery is exact at any commit point - they
// bound how much work a crash throws away and keep the journal's committed prefix short.

export interface CheckpointPolicy {
  /** Commit after this many calls since the last commit, regardless of time (0: no count rule). */
  readonly everyCalls: number;
  /** Commit when at least this many ms have passed since the last commit ended... */
  readonly everyMs: number;
  /** ...and at least this many times as long as the last commit took. */
  readonly costRatio: number;
}

/**
 * At most one checkpoint per 10 s of calls: an apply that finishes sooner commits once, at its
 * end, and then skips even the journal encoding of its calls (ApplySink.commitFinal).
 */
export const DEFAULT_CHECKPOINTS: CheckpointPolicy = { everyCalls: 0, everyMs: 10_000, costRatio: 9 };

/** Tracks calls and time since the last commit and says when the next checkpoint is due. */
export class CheckpointClock {
  private callsSince = 0;
  private lastEnd = performance.now();
  private lastCost = 0;

  private readonly policy: CheckpointPolicy | null;

  constructor(policy: CheckpointPolicy | null) {
    this.policy = policy;
  }

  /** Counts one call that took effect; true when a checkpoint should be committed now. */
  tick(): boolean {
    if (!this.policy) return false;
    this.callsSince += 1;
    if (this.policy.everyCalls > 0 && this.callsSince >= this.policy.everyCalls) return true;
    const since = performance.now() - this.lastEnd;
    return since >= this.policy.everyMs && since >= this.policy.costRatio * this.lastCost;
  }

  /** Times one commit (so the next checkpoint waits in proportion to what it cost). */
  async commit(run: () => Promise<void>): Promise<void> {
    const started = performance.now();
    await run();
    this.lastEnd = performance.now();
    this.lastCost = this.lastEnd - started;
    this.callsSince = 0;
  }
}
