// Shared knobs of the reliability suites, and where they leave their measured figures: each suite
// writes one JSON line to $IOASFORM_RELIABILITY_FIGURES (when set), which is how the table in
// test/reliability/README.md was filled.
import { appendFileSync } from 'node:fs';

/** Long variants (more runs, more kills, bigger corpus) behind IOASFORM_RELIABILITY_LONG=1. */
export const LONG = process.env['IOASFORM_RELIABILITY_LONG'] === '1';

/** A fixed seed per suite, overridable with IOASFORM_RELIABILITY_SEED to replay a failure. */
export function seedFor(suite: number): number {
  const raw = process.env['IOASFORM_RELIABILITY_SEED'];
  return raw ? Number(raw) : 20261125 + suite;
}

export function record(suite: string, figures: Record<string, unknown>): void {
  const path = process.env['IOASFORM_RELIABILITY_FIGURES'];
  const line = JSON.stringify({ suite, variant: LONG ? 'long' : 'ci', ...figures });
  if (path) appendFileSync(path, line + '\n');
}
