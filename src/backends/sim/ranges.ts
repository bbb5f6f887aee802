// Small helpers over lists of inclusive ranges (allowed and reserved lists are short, so these
// are plain array algorithms).
import type { IovaRange } from '../../model/uapi.js';

/**
 * The ranges sorted, clipped to [lo, hi], with overlapping or adjacent ranges merged: the "used"
 * spans lib/interval_tree.c's span iterator yields.
 */
export function mergeClipped(ranges: readonly IovaRange[], lo: bigint, hi: bigint): IovaRange[] {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: { start: bigint; last: bigint }[] = [];
  for (const r of sorted) {
    if (r.last < lo || r.start > hi) continue;
    const start = r.start > lo ? r.start : lo;
    const last = r.last < hi ? r.last : hi;
    const previous = out[out.length - 1];
    if (previous !== undefined && previous.last + 1n >= start) {
      if (last > previous.last) previous.last = last;
    } else {
      out.push({ start, last });
    }
  }
  return out;
}

/** The maximal holes of `used` (any order, may overlap) inside [lo, hi], ascending. */
export function holesOf(used: readonly IovaRange[], lo: bigint, hi: bigint): IovaRange[] {
  const holes: IovaRange[] = [];
  let cursor = lo;
  for (const span of mergeClipped(used, lo, hi)) {
    if (span.start > cursor) holes.push({ start: cursor, last: span.start - 1n });
    if (span.last >= hi) return holes;
    cursor = span.last + 1n;
  }
  holes.push({ start: cursor, last: hi });
  return holes;
}

export function intersects(a: IovaRange, start: bigint, last: bigint): boolean {
  return a.start <= last && start <= a.last;
}
