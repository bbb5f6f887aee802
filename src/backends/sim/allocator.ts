// The automatic IOVA allocator, bit for bit: io_pagetable.c:iopt_alloc_iova of Linux 6.12.117
// (after "iommufd: Prevent ALIGN() overflow"), spec §6.
//
// The kernel walks every hole of (reserved ∪ areas) in each allowed window, lowest first, and
// takes the first one where __alloc_iova_check_range succeeds. This port visits the same holes
// in the same order, but uses the area tree's max-gap augmentation to jump over runs of holes
// that are too small to hold `length` (a necessary condition for a fit), so a packed IOAS with
// 100k areas costs O(log n) per allocation. Holes that are big enough but fail the alignment
// test are still checked one by one, exactly as the kernel does.
import type { IovaRange } from '../../model/uapi.js';
import { ERRNO } from '../../model/uapi.js';
import { NIL, type IntervalTree } from './interval-tree.js';
import { holesOf, mergeClipped } from './ranges.js';
import { lowestSetBit, roundUpPowerOfTwo, U64_MAX } from './u64.js';

export interface AllocatorState {
  readonly areas: IntervalTree<unknown>;
  readonly allowed: readonly IovaRange[];
  readonly reserved: readonly IovaRange[];
  readonly iovaAlignment: bigint;
}

export interface AllocatorConfig {
  readonly pageSize: bigint;
  /** HPAGE_SIZE (the alignment cap with CONFIG_TRANSPARENT_HUGEPAGE). */
  readonly maxAlignment: bigint;
}

/** The IOVA chosen, or a positive errno (EOVERFLOW, EINVAL, ENOSPC). */
export type AllocResult = { readonly iova: bigint } | { readonly errno: number };

/** The alignment iopt_alloc_iova asks for (before the iova_alignment check). */
export function autoAlignment(uptr: bigint, length: bigint, maxAlignment: bigint): bigint {
  let alignment = roundUpPowerOfTwo(length);
  if (uptr !== 0n) {
    const low = lowestSetBit(uptr);
    if (low < alignment) alignment = low;
  }
  return alignment >= maxAlignment ? maxAlignment : alignment;
}

/**
 * __alloc_iova_check_range: the aligned start inside [start, last] (page offset ORed in), or
 * null. `x >= last` rejects the hole's final byte even for a one-byte request.
 */
export function fitInRange(
  start: bigint,
  last: bigint,
  length: bigint,
  alignment: bigint,
  pageOffset: bigint,
): bigint | null {
  const rounded = start + alignment - 1n;
  if (rounded > U64_MAX) return null;
  const x = (rounded & ~(alignment - 1n)) | pageOffset;
  if (x >= last || last - x < length - 1n) return null;
  return x;
}

export function allocIova(
  state: AllocatorState,
  config: AllocatorConfig,
  uptr: bigint,
  length: bigint,
): AllocResult {
  const { pageSize } = config;
  if (length === 0n || length >= U64_MAX / 2n) return { errno: ERRNO.EOVERFLOW };
  const pageOffset = uptr % pageSize;
  const alignment = autoAlignment(uptr, length, config.maxAlignment);
  if (alignment < state.iovaAlignment) return { errno: ERRNO.EINVAL };

  const windows = allowedWindows(state.allowed, pageSize);
  const reserved = state.reserved.length === 0 ? state.reserved : mergeClipped(state.reserved, 0n, U64_MAX);
  const search = new HoleSearch(state.areas, reserved, length, alignment, pageOffset);
  for (const window of windows) {
    const first = fitInRange(window.start, window.last, length, alignment, pageOffset);
    if (first === null) continue;
    const iova = search.lowestFit(first, window.last);
    if (iova !== null) return { iova };
  }
  return { errno: ERRNO.ENOSPC };
}

/**
 * The allowed windows clipped to [PAGE_SIZE, U64_MAX - PAGE_SIZE] and merged, remembered per
 * allowed list: an IOAS's list is immutable (ALLOW_IOVAS installs a new one), and every
 * automatic MAP and COPY on it needs the same windows.
 */
const windowCache = new WeakMap<readonly IovaRange[], { readonly pageSize: bigint; readonly windows: readonly IovaRange[] }>();

export function allowedWindows(allowed: readonly IovaRange[], pageSize: bigint): readonly IovaRange[] {
  const cached = windowCache.get(allowed);
  if (cached !== undefined && cached.pageSize === pageSize) return cached.windows;
  const lo = pageSize;
  const hi = U64_MAX - pageSize;
  const windows = allowed.length === 0 ? [{ start: lo, last: hi }] : mergeClipped(allowed, lo, hi);
  windowCache.set(allowed, { pageSize, windows });
  return windows;
}

/** Lowest-first search of the holes of (reserved ∪ areas) inside one window. */
class HoleSearch {
  /** A hole smaller than this can never fit (one-byte requests also need x < last). */
  private readonly need: bigint;

  private readonly areas: IntervalTree<unknown>;
  private readonly reserved: readonly IovaRange[];
  private readonly length: bigint;
  private readonly alignment: bigint;
  private readonly pageOffset: bigint;

  constructor(
    areas: IntervalTree<unknown>,
    reserved: readonly IovaRange[],
    length: bigint,
    alignment: bigint,
    pageOffset: bigint,
  ) {
    this.areas = areas;
    this.reserved = reserved;
    this.length = length;
    this.alignment = alignment;
    this.pageOffset = pageOffset;
    this.need = length >= 2n ? length : 2n;
  }

  lowestFit(lo: bigint, hi: bigint): bigint | null {
    let cursor = lo;
    for (;;) {
      const next = this.areas.nodeEndingAtOrAfter(cursor);
      const nextStart = next === NIL ? null : this.areas.startAt(next);
      if (nextStart === null || nextStart > cursor) {
        // `cursor` is free: first check the hole from it up to the next area (or window end).
        const holeLast = nextStart === null || nextStart - 1n > hi ? hi : nextStart - 1n;
        const hit = this.fitInAreaHole(cursor, holeLast);
        if (hit !== null) return hit;
        if (nextStart === null || nextStart > hi) return null;
      }
      // From area `next` on, jump straight to the first gap big enough to hold the request:
      // every smaller hole in between can never fit.
      const gap = this.areas.firstGapFrom(nextStart, this.need);
      if (gap === null) {
        const tail = this.areas.maxLast() as bigint;
        if (tail >= hi) return null;
        return this.fitInAreaHole(tail + 1n, hi);
      }
      const gapStart = gap.previousLast + 1n;
      if (gapStart > hi) return null;
      const hit = this.fitInAreaHole(gapStart, gap.nextStart - 1n > hi ? hi : gap.nextStart - 1n);
      if (hit !== null) return hit;
      cursor = gap.nextStart;
    }
  }

  /** Checks the holes of the reserved list inside one hole of the area tree, lowest first. */
  private fitInAreaHole(start: bigint, last: bigint): bigint | null {
    if (last - start + 1n < this.need) return null;
    if (this.reserved.length === 0) return fitInRange(start, last, this.length, this.alignment, this.pageOffset);
    for (const piece of holesOf(this.reserved, start, last)) {
      const x = fitInRange(piece.start, piece.last, this.length, this.alignment, this.pageOffset);
      if (x !== null) return x;
    }
    return null;
  }
}
