// Test hook for crash-consistency tests: IOASFORM_TEST_CRASH_AT=<point>:<n> makes the process
// SIGKILL itself the n-th time (1-based) it reaches the named point, so a test can land a kill
// exactly on a durability boundary (between a journal append and the next call, between writing
// the new state under its temp name and the rename) instead of only at random times. Unset, this
// is one env lookup per point and does nothing.

/** `journal-ended`: the `end` record is durable and the journal not yet removed (finding F4). */
export type CrashPoint = 'journal-appended' | 'state-temp-written' | 'state-renamed' | 'journal-ended';

const reached = new Map<string, number>();

export function crashPoint(point: CrashPoint): void {
  const spec = process.env['IOASFORM_TEST_CRASH_AT'];
  if (!spec) return;
  const [name, nth] = spec.split(':');
  if (name !== point) return;
  const count = (reached.get(point) ?? 0) + 1;
  reached.set(point, count);
  if (count === Number(nth ?? '1')) process.kill(process.pid, 'SIGKILL');
}
