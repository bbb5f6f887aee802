// The number fast path of MAP and COPY (context.ts): the checks of iopt_map_pages,
// iopt_check_iova, iopt_alloc_iova and iopt_insert_area done in doubles instead of bigints,
// for calls whose every operand is below FAST_LIMIT. Each function here has an exact bigint
// twin (io-pagetable.ts, allocator.ts) and test/backends/sim/number-path.test.ts runs both on
// the same random calls and requires identical results and snapshots.
//
// Why doubles are exact here: every operand is an integer below 2^51, PAGE_SIZE is at most 2^20
// (HPAGE_SIZE at most 2^37), so every sum the kernel forms from two operands, an alignment and a
// page offset stays below 2^53, where doubles are integers exactly. Values already in the IOAS
// (areas, windows, reserved ranges) may be anywhere in u64: their doubles are rounded, but
// Number() is monotonic, so comparing one with an exact double below 2^53 still gives the exact
// answer. Whenever the search for an automatic IOVA reaches a hole starting at FAST_LIMIT or
// above, or anything else leaves that ground (reserved ranges during allocation, an attached
// domain, a multi-area COPY source), the fast path gives up before changing anything and the
// bigint path runs the call from the start.
import { ERRNO } from '../../model/uapi.js';
import { allowedWindows } from './allocator.js';
import { NIL, type IntervalTree } from './interval-tree.js';
import type { IoPagetable } from './io-pagetable.js';
import type { IovaRange } from '../../model/uapi.js';

/** Operands at or above this take the bigint path. */
export const FAST_LIMIT = 2 ** 51;
/** The highest exact double of the search: a hole's last byte above it is clamped to it. */
const CAP = 2 ** 53 - 1;
/** "The fast path cannot answer this exactly": the caller runs the bigint path. */
export const GIVE_UP = -1_000_000;
/** "No fit in this window" (not an errno, not an IOVA). */
const NONE = -1;
const TWO_32 = 2 ** 32;

/** Number(value) when 0 <= value < FAST_LIMIT, else -1 (also for values a u64 field would wrap). */
export function smallNumber(value: bigint): number {
  const n = Number(value);
  // Number() is monotonic: n < FAST_LIMIT (exact) implies value < FAST_LIMIT, n >= 0 that value >= 0.
  return n >= 0 && n < FAST_LIMIT ? n : -1;
}

const SMALL_BIGINT_COUNT = 1 << 12;
/** Filled up front (with holes as undefined), so scattered indexes never make it a dictionary. */
const SMALL_BIGINTS: (bigint | undefined)[] = new Array<bigint | undefined>(SMALL_BIGINT_COUNT).fill(undefined);

/**
 * BigInt(n), shared for n < 2^12: page counts and page offsets repeat, and a bigint is an
 * immutable heap object, so 100k areas can point at a few hundred of them.
 */
export function smallBigInt(n: number): bigint {
  if (n >= SMALL_BIGINT_COUNT) return BigInt(n);
  let cached = SMALL_BIGINTS[n];
  if (cached === undefined) {
    cached = BigInt(n);
    SMALL_BIGINTS[n] = cached;
  }
  return cached;
}

/** iopt_check_iova for exact iovaD, lengthD >= 1 below FAST_LIMIT: 0 or an errno. */
export function checkIovaD(iopt: IoPagetable, iovaD: number, lengthD: number): number {
  if (iovaD % iopt.iovaAlignmentD !== 0) return ERRNO.EINVAL;
  const lastD = iovaD + lengthD - 1;
  const reserved = iopt.reserved;
  for (let i = 0; i < reserved.length; i++) {
    const r = reserved[i] as IovaRange;
    if (Number(r.start) <= lastD && iovaD <= Number(r.last)) return ERRNO.EINVAL;
  }
  if (iopt.areas.nodeIntersectingD(iovaD, lastD) !== NIL) return ERRNO.EEXIST;
  return 0;
}

/**
 * The start of iopt_map_pages in doubles, for MAP and COPY alike: EINVAL for a length off the
 * IOVA alignment, then the fixed IOVA's checks (iopt_check_iova) or an automatic placement
 * (iopt_alloc_iova from `uptrD`). The IOVA (>= 0), a negated errno, or GIVE_UP.
 */
export function mapStartD(iopt: IoPagetable, fixed: boolean, iovaD: number, lengthD: number, uptrD: number): number {
  if (lengthD % iopt.iovaAlignmentD !== 0) return -ERRNO.EINVAL;
  if (!fixed) return allocIovaD(iopt, uptrD, lengthD);
  const rc = checkIovaD(iopt, iovaD, lengthD);
  return rc === 0 ? iovaD : -rc;
}

/**
 * The checks of iopt_insert_area for one piece: 0 or an errno. `npagesD` = Number(npages)
 * (rounded above 2^53, which still compares exactly with the exact page index below it).
 */
export function checkInsertD(iopt: IoPagetable, writable: boolean, npagesD: number, startByteD: number, lengthD: number, prot: number): number {
  if ((prot & 2) !== 0 && !writable) return ERRNO.EPERM;
  const pageSize = iopt.pageSizeD;
  if ((startByteD % pageSize) % iopt.iovaAlignmentD !== 0) return ERRNO.EINVAL;
  // The overflow checks cannot fire below 2^52. The page index check mirrors the kernel's WARN_ON;
  // it cannot fire for a fresh MAP or a piece of an existing area, but costs one comparison.
  if (Math.floor((startByteD + lengthD - 1) / pageSize) >= npagesD) return ERRNO.EOVERFLOW;
  return 0;
}

/** roundup_pow_of_two for 1 <= x < 2^52. */
function roundUpPowerOfTwoD(x: number): number {
  if (x <= TWO_32) return 2 ** (32 - Math.clz32(x - 1));
  let p = TWO_32;
  while (p < x) p *= 2;
  return p;
}

/** 1 << __ffs64(x) for 0 < x < 2^53. */
function lowestSetBitD(x: number): number {
  let scale = 1;
  let rest = x;
  while (rest % TWO_32 === 0) {
    rest /= TWO_32;
    scale *= TWO_32;
  }
  const low = rest % TWO_32;
  return scale * ((low & -low) >>> 0);
}

/** An allowed window in doubles: start exact or >= 2^53; last clamped to CAP (then `clamped`). */
interface WindowD {
  readonly startD: number;
  readonly lastD: number;
  readonly clamped: boolean;
}

const windowCacheD = new WeakMap<readonly IovaRange[], { readonly pageSize: bigint; readonly windows: readonly WindowD[] }>();

function allowedWindowsD(allowed: readonly IovaRange[], pageSize: bigint): readonly WindowD[] {
  const cached = windowCacheD.get(allowed);
  if (cached !== undefined && cached.pageSize === pageSize) return cached.windows;
  const windows = allowedWindows(allowed, pageSize).map((w) => {
    const lastD = Number(w.last);
    return { startD: Number(w.start), lastD: lastD > CAP ? CAP : lastD, clamped: lastD > CAP };
  });
  windowCacheD.set(allowed, { pageSize, windows });
  return windows;
}

/** The parameters of one automatic placement (allocator.ts's HoleSearch, in doubles). */
interface Request {
  lengthD: number;
  alignment: number;
  pageOffset: number;
  pageSize: number;
  /** A hole smaller than this never fits (one-byte requests also need x < last). */
  need: number;
}

/** The one Request, refilled per allocation (the search never re-enters itself). */
const scratch: Request = { lengthD: 0, alignment: 1, pageOffset: 0, pageSize: 1, need: 2 };

/**
 * __alloc_iova_check_range in doubles, for start <= FAST_LIMIT: the IOVA or NONE. A `last`
 * clamped to CAP gives the same answer as the true one: x < 2^52 and length < 2^51, so both
 * tests pass for either.
 */
function fitD(start: number, last: number, r: Request): number {
  const rounded = start + r.alignment - 1;
  const aligned = rounded - (rounded % r.alignment);
  // aligned | pageOffset, with pageOffset < PAGE_SIZE <= 2^20: OR the low bits as int32s.
  const low = aligned % r.pageSize;
  const x = aligned - low + ((low | r.pageOffset) >>> 0);
  if (x >= last || last - x < r.lengthD - 1) return NONE;
  return x;
}

/** HoleSearch.fitInAreaHole without reserved ranges (the fast path gives up when there are any). */
function fitHoleD(start: number, last: number, r: Request): number {
  if (last - start + 1 < r.need) return NONE;
  return fitD(start, last, r);
}

/**
 * HoleSearch.lowestFit in doubles: the lowest fit in [lo, hi] (hi exact, or CAP when `clamped`),
 * NONE, or GIVE_UP as soon as the answer depends on a hole at or above FAST_LIMIT.
 */
function lowestFitD(areas: IntervalTree<unknown>, lo: number, hi: number, clamped: boolean, r: Request): number {
  let cursor = lo;
  for (;;) {
    if (cursor >= FAST_LIMIT) return GIVE_UP;
    const next = areas.nodeEndingAtOrAfterD(cursor);
    const nextStart = next === NIL ? -1 : areas.startDAt(next);
    if (next === NIL || nextStart > cursor) {
      // `cursor` is free: the hole from it up to the next area (or the window's end).
      const holeLast = next === NIL || nextStart - 1 > hi ? hi : nextStart - 1;
      const hit = fitHoleD(cursor, holeLast, r);
      if (hit !== NONE) return hit;
      if (next === NIL) return NONE;
      // Past a clamped end the true window may go on: only the bigint path knows. (Not reached
      // in practice: a hole from below FAST_LIMIT up to CAP always fits; kept as the safe answer.)
      if (nextStart > hi) return clamped ? GIVE_UP : NONE;
    }
    // (From an area at or above FAST_LIMIT every gap found starts above it: given up below.)
    const previous = areas.firstGapFromD(next, r.need);
    if (previous === NIL) {
      const tail = areas.maxLastD();
      if (tail + 1 >= FAST_LIMIT) return GIVE_UP;
      if (tail >= hi) return NONE;
      return fitHoleD(tail + 1, hi, r);
    }
    const gapStart = areas.lastDAt(previous) + 1;
    if (gapStart >= FAST_LIMIT) return GIVE_UP;
    if (gapStart > hi) return NONE;
    const gapNextStart = areas.startDAt(areas.gapNextNode());
    const hit = fitHoleD(gapStart, gapNextStart - 1 > hi ? hi : gapNextStart - 1, r);
    if (hit !== NONE) return hit;
    cursor = gapNextStart;
  }
}

/**
 * iopt_alloc_iova in doubles for exact uptrD, lengthD >= 1 below FAST_LIMIT: the IOVA (>= 0),
 * a negated errno, or GIVE_UP (nothing has changed either way).
 */
export function allocIovaD(iopt: IoPagetable, uptrD: number, lengthD: number): number {
  if (iopt.reserved.length !== 0) return GIVE_UP;
  const pageSize = iopt.pageSizeD;
  const pageOffset = uptrD % pageSize;
  let alignment = roundUpPowerOfTwoD(lengthD);
  if (uptrD !== 0) {
    const low = lowestSetBitD(uptrD);
    if (low < alignment) alignment = low;
  }
  if (alignment >= iopt.maxAlignmentD) alignment = iopt.maxAlignmentD;
  if (alignment < iopt.iovaAlignmentD) return -ERRNO.EINVAL;
  const request = scratch;
  request.lengthD = lengthD;
  request.alignment = alignment;
  request.pageOffset = pageOffset;
  request.pageSize = pageSize;
  request.need = lengthD >= 2 ? lengthD : 2;
  const windows = allowedWindowsD(iopt.allowed, iopt.config.pageSize);
  for (let i = 0; i < windows.length; i++) {
    const window = windows[i] as WindowD;
    if (window.startD >= FAST_LIMIT) return GIVE_UP;
    const first = fitD(window.startD, window.lastD, request);
    if (first === NONE) continue;
    const iova = lowestFitD(iopt.areas, first, window.lastD, window.clamped, request);
    if (iova !== NONE) return iova;
  }
  return -ERRNO.ENOSPC;
}
