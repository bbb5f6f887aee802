// The broken IOVA axis: pure math, no drawing.
//
// A 64-bit address space with a 4 KiB table next to a 2 GiB pool cannot be drawn to one scale.
// So the axis is cut at every edge of every interval into pieces:
// - `box` pieces (covered by some mapping or copy, in any lane) share the width in proportion to
//   their length, each with a minimum width, so a 4 KiB page stays visible next to 1 GiB;
// - `shade` pieces (only an allowed range or the zero/top page covers them) get one fixed width:
//   they are context, not content;
// - `gap` pieces (nothing there) are compressed into a fixed-width break, however long.
// Every lane uses the same axis, so equal IOVAs line up vertically.

import type { IovaInterval } from './model.js';

/** 2^64: the exclusive end of the IOVA space. */
export const IOVA_SPACE_END = 1n << 64n;
export const PAGE_SIZE = 4096n;
/** Automatic allocation never uses page 0 (it starts at PAGE_SIZE). */
export const ZERO_PAGE: IovaInterval = { start: 0n, last: PAGE_SIZE - 1n };
/** MAP refuses `iova >= ULONG_MAX`; the last page is where that bites. */
export const TOP_PAGE: IovaInterval = { start: IOVA_SPACE_END - PAGE_SIZE, last: IOVA_SPACE_END - 1n };

export type PieceKind = 'box' | 'shade' | 'gap';

export interface AxisPiece {
  readonly kind: PieceKind;
  readonly start: bigint;
  /** Exclusive end. */
  readonly end: bigint;
  readonly x: number;
  readonly width: number;
  /** For gaps: true when drawn as a fixed-width break (long), false when drawn to scale (short). */
  readonly broken: boolean;
}

export interface AxisOptions {
  /** The width to fill; the axis grows past it only when the minimum widths need more. */
  readonly width: number;
  readonly minBoxWidth: number;
  readonly breakWidth: number;
  /**
   * Minimum width of a short gap: one no longer than the box pieces beside it (a stride of
   * pages with holes between them, a PCI hole between RAM blocks) is drawn to scale like a box,
   * not as a break. Default: breakWidth.
   */
  readonly holeWidth?: number;
  readonly shadeWidth: number;
  /** Whole-number piece widths (for character cells). */
  readonly integral?: boolean;
}

export interface Axis {
  readonly pieces: readonly AxisPiece[];
  /** The total width actually used. */
  readonly width: number;
}

export interface AxisInput {
  /** Intervals of mappings and copies: drawn at scale. */
  readonly boxes: readonly IovaInterval[];
  /** Intervals that are only context (allowed ranges): compressed, shaded. */
  readonly shaded: readonly IovaInterval[];
}

export function buildAxis(input: AxisInput, options: AxisOptions): Axis {
  const boxes = input.boxes.filter(isValidInterval);
  const shaded = [...input.shaded.filter(isValidInterval), ZERO_PAGE, TOP_PAGE];
  const bounds = boundaries([...boxes, ...shaded]);
  const boxCover = coverage(bounds, boxes);
  const shadeCover = coverage(bounds, shaded);

  // Pieces split only where a box starts or ends (so each gets its minimum width there), or
  // where context changes outside boxes; an allowed range's edge inside a box is no split.
  const boxEdges = new Set<bigint>(boxes.flatMap((b) => [b.start, b.last + 1n]));
  const raw: { kind: PieceKind; start: bigint; end: bigint }[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    const kind: PieceKind = boxCover[i]! > 0 ? 'box' : shadeCover[i]! > 0 ? 'shade' : 'gap';
    const previous = raw[raw.length - 1];
    const split = kind === 'box' ? boxEdges.has(start) : true;
    if (previous && previous.kind === kind && !(kind === 'box' && split)) previous.end = end;
    else raw.push({ kind, start, end });
  }

  const broken = raw.map((p, i) => p.kind === 'gap' && !isShortGap(raw, i));
  const fixedWidth = (i: number): number => {
    const p = raw[i]!;
    if (p.kind === 'gap') return broken[i] ? options.breakWidth : (options.holeWidth ?? options.breakWidth);
    return p.kind === 'shade' ? options.shadeWidth : options.minBoxWidth;
  };
  // Boxes and short holes are drawn to scale (a PCI hole between two RAM blocks keeps its
  // proportion); breaks, context and pages are not. Scaled pieces share what is left in
  // proportion to their length, except those whose share would fall below their minimum: they
  // get the minimum, and the rest is shared again ("water filling"), so large boxes stay in true
  // proportion to each other.
  const scaled = raw.map((p, i) => p.kind === 'box' || (p.kind === 'gap' && !broken[i]));
  const unscaledWidth = raw.reduce((sum, _p, i) => (scaled[i] ? sum : sum + fixedWidth(i)), 0);
  const clamped = raw.map((_p, i) => !scaled[i]);
  let available = 0;
  let freeLength = 0;
  for (;;) {
    available = options.width - unscaledWidth - raw.reduce((sum, _p, i) => (scaled[i] && clamped[i] ? sum + fixedWidth(i) : sum), 0);
    freeLength = raw.reduce((sum, p, i) => (clamped[i] ? sum : sum + Number(p.end - p.start)), 0);
    const below = raw.map((p, i) => !clamped[i] && (available <= 0 || (available * Number(p.end - p.start)) / freeLength < fixedWidth(i)));
    if (!below.some(Boolean)) break;
    below.forEach((b, i) => (clamped[i] = clamped[i] || b));
  }

  const pieces: AxisPiece[] = [];
  let x = 0;
  raw.forEach((p, i) => {
    let width = clamped[i] ? fixedWidth(i) : (available * Number(p.end - p.start)) / freeLength;
    if (options.integral) width = Math.floor(width);
    pieces.push({ ...p, x, width, broken: broken[i]! });
    x += width;
  });
  return { pieces, width: x };
}

/** A gap between two box pieces that is no longer than the longer of them. */
function isShortGap(raw: readonly { kind: PieceKind; start: bigint; end: bigint }[], i: number): boolean {
  const [before, gap, after] = [raw[i - 1], raw[i]!, raw[i + 1]];
  if (before?.kind !== 'box' || after?.kind !== 'box') return false;
  const longest = before.end - before.start > after.end - after.start ? before.end - before.start : after.end - after.start;
  return gap.end - gap.start <= longest;
}

/** The x of an IOVA in [0, 2^64]; linear inside each piece, so monotone over the whole axis. */
export function iovaToX(axis: Axis, iova: bigint): number {
  const piece = findPiece(axis, iova);
  if (!piece) return iova <= 0n ? 0 : axis.width;
  return piece.x + (piece.width * Number(iova - piece.start)) / Number(piece.end - piece.start);
}

function findPiece(axis: Axis, iova: bigint): AxisPiece | undefined {
  let lo = 0;
  let hi = axis.pieces.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const piece = axis.pieces[mid]!;
    if (iova < piece.start) hi = mid - 1;
    else if (iova >= piece.end) lo = mid + 1;
    else return piece;
  }
  return undefined;
}

export interface Tick {
  readonly iova: bigint;
  readonly x: number;
  /** The center of the label: x, moved inward when the label would leave [min, max]. */
  readonly labelX: number;
  /** 0 or 1: two rows of labels so that more of them fit. */
  readonly row: number;
}

/**
 * Tick positions at the edges of the drawn pieces (where a box or a range starts, and where a
 * run of them ends before a break), thinned so that no two labels on one row overlap.
 * `labelWidth` measures a label for a given IOVA in the caller's units.
 */
export function axisTicks(
  axis: Axis,
  labelWidth: (iova: bigint) => number,
  spacing: number,
  bounds: { readonly min: number; readonly max: number } = { min: -Infinity, max: Infinity },
): Tick[] {
  const candidates: bigint[] = [];
  let previousKind: PieceKind | undefined;
  for (const piece of axis.pieces) {
    if (piece.kind !== 'gap') candidates.push(piece.start);
    else if (previousKind !== undefined && previousKind !== 'gap') candidates.push(piece.start);
    previousKind = piece.kind;
  }
  const unique = [...new Set(candidates)].filter((iova) => iova < IOVA_SPACE_END);
  const rowRight = [-Infinity, -Infinity];
  const ticks: Tick[] = [];
  for (const iova of unique) {
    const x = iovaToX(axis, iova);
    const half = labelWidth(iova) / 2;
    const labelX = Math.max(bounds.min + half, Math.min(bounds.max - half, x));
    const row = rowRight.findIndex((right) => labelX - half >= right + spacing);
    if (row < 0) continue;
    rowRight[row] = labelX + half;
    ticks.push({ iova, x, labelX, row });
  }
  return ticks;
}

function isValidInterval(interval: IovaInterval): boolean {
  return interval.start >= 0n && interval.start <= interval.last && interval.last < IOVA_SPACE_END;
}

/** Every start and exclusive end, plus 0 and 2^64, sorted and unique. */
function boundaries(intervals: readonly IovaInterval[]): bigint[] {
  const set = new Set<bigint>([0n, IOVA_SPACE_END]);
  for (const interval of intervals) {
    set.add(interval.start);
    set.add(interval.last + 1n);
  }
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** How many intervals cover each piece [bounds[i], bounds[i+1]). */
function coverage(bounds: readonly bigint[], intervals: readonly IovaInterval[]): number[] {
  const index = new Map(bounds.map((b, i) => [b, i] as const));
  const delta = new Array<number>(bounds.length).fill(0);
  for (const interval of intervals) {
    delta[index.get(interval.start)!]! += 1;
    delta[index.get(interval.last + 1n)!]! -= 1;
  }
  let running = 0;
  return delta.slice(0, -1).map((d) => (running += d));
}
