// The memory holder owns the backing memory the mappings point into. On the real kernel that is
// the holder agent (a long-lived process); on the simulator nothing is allocated, but every region
// still gets a deterministic user VA so plans, states and predictions are reproducible.

import type { MemoryRegion } from '../model/layout.js';
import type { RecordedMemory } from '../model/recorded.js';

export type HolderResult<T extends object = object> = ({ readonly ok: true } & T) | { readonly ok: false; readonly errno: number; readonly code: string };

export interface MemoryHolder {
  create(region: MemoryRegion, existing: readonly RecordedMemory[]): Promise<HolderResult<{ userVa: bigint }>>;
  release(region: MemoryRegion, userVa: bigint): Promise<HolderResult>;
}

/** Where the simulator holder lays regions out, and the alignment of each region's start. */
export const SIM_MEMORY_BASE = 0x7f0000000000n;
export const SIM_MEMORY_SLOT = 1n << 30n;

const roundUp = (value: bigint, to: bigint): bigint => ((value + to - 1n) / to) * to;

/** Each region's slot and end, computed once per (immutable) region record: bigint division is the cost. */
const slots = new WeakMap<RecordedMemory, { readonly slot: bigint; readonly end: bigint }>();
function slotOf(m: RecordedMemory): { readonly slot: bigint; readonly end: bigint } {
  let known = slots.get(m);
  if (!known) {
    const slot = roundUp(m.size, SIM_MEMORY_SLOT);
    known = { slot, end: m.userVa + slot };
    slots.set(m, known);
  }
  return known;
}

/** The sum of the regions' slots and their highest end, for the list of `items`. */
interface Summary {
  /** A copy of the list summarized (the caller's array may change after the call). */
  readonly items: readonly RecordedMemory[];
  readonly top: bigint;
  readonly used: bigint;
}

/** The last list summarized: an apply creates regions one by one, each list the last plus one. */
let lastSummary: Summary | null = null;

/**
 * The slots' sum and highest end of `existing`. Both are order-free, so when `existing` is the
 * previous list with one region inserted (an apply's creates), the previous summary plus that
 * region gives them: a scan of pointer comparisons instead of a WeakMap lookup per region per
 * create, which was quadratic in the regions (1.2M lookups for the 1,563 regions of 100k entries).
 */
function summaryOf(existing: readonly RecordedMemory[]): Summary {
  const previous = lastSummary;
  const added = previous === null ? undefined : addedRegion(previous.items, existing);
  let top: bigint;
  let used: bigint;
  if (previous !== null && added === null) {
    ({ top, used } = previous);
  } else if (previous !== null && added !== undefined && added !== null) {
    const { slot, end } = slotOf(added);
    used = previous.used + slot;
    top = end > previous.top ? end : previous.top;
  } else {
    top = SIM_MEMORY_BASE;
    used = 0n;
    for (const m of existing) {
      const { slot, end } = slotOf(m);
      used += slot;
      if (end > top) top = end;
    }
  }
  lastSummary = { items: existing.slice(), top, used };
  return lastSummary;
}

/**
 * null when `next` holds the same regions as `previous` in the same order; the region when
 * `next` is `previous` with exactly one region inserted somewhere; undefined otherwise.
 */
function addedRegion(previous: readonly RecordedMemory[], next: readonly RecordedMemory[]): RecordedMemory | null | undefined {
  if (next.length === previous.length) return next.every((m, i) => m === previous[i]) ? null : undefined;
  if (next.length !== previous.length + 1) return undefined;
  let added: RecordedMemory | undefined;
  let j = 0;
  for (const m of next) {
    if (j < previous.length && m === previous[j]) j++;
    else if (added === undefined) added = m;
    else return undefined;
  }
  return added;
}

/**
 * The lowest 1 GiB-aligned VA from SIM_MEMORY_BASE where `size` bytes do not overlap any existing
 * region. Pure and first-fit, so replaying the same creates and releases (or their undos in
 * reverse) gives the same addresses.
 *
 * Regions never overlap, so when their slots add up to exactly the distance from the base to the
 * highest end, they lie back to back with no hole and the first fit is that end: one linear pass,
 * no sort. (An apply from scratch creates regions only, so it is always this case; sorting every
 * region on every create made large applies quadratic.) After releases left holes, the regions
 * are sorted and walked.
 */
export function simRegionVa(size: bigint, existing: readonly RecordedMemory[]): bigint {
  const span = roundUp(size > 0n ? size : 1n, SIM_MEMORY_SLOT);
  const { top, used } = summaryOf(existing);
  if (used === top - SIM_MEMORY_BASE) return top;
  const taken = existing.map((m) => ({ start: m.userVa, end: m.userVa + roundUp(m.size, SIM_MEMORY_SLOT) })).sort((a, b) => (a.start < b.start ? -1 : 1));
  let candidate = SIM_MEMORY_BASE;
  for (const t of taken) {
    if (candidate + span <= t.start) break;
    if (t.end > candidate) candidate = t.end;
  }
  return candidate;
}

export const simHolder: MemoryHolder = {
  create: async (region, existing) => ({ ok: true, userVa: simRegionVa(region.size, existing) }),
  release: async () => ({ ok: true }),
};

/** Failure injection: a holder whose Nth call (shared counter with the uapi wrapper) fails. */
export function faultyHolder(inner: MemoryHolder, failCall: number | readonly number[], errno: number, code: string, counter: { n: number }): MemoryHolder {
  const failing = new Set(typeof failCall === 'number' ? [failCall] : failCall);
  const fails = (): boolean => failing.has(++counter.n);
  return {
    create: async (region, existing) => (fails() ? { ok: false, errno, code } : inner.create(region, existing)),
    release: async (region, userVa) => (fails() ? { ok: false, errno, code } : inner.release(region, userVa)),
  };
}
