// Properties of the broken axis: monotone, disjoint intervals never overlap on screen, every box
// has at least the minimum width, and values next to 2^64 stay exact.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { axisTicks, buildAxis, IOVA_SPACE_END, iovaToX, TOP_PAGE, ZERO_PAGE } from '../../src/graph/axis.js';
import type { AxisOptions } from '../../src/graph/axis.js';
import type { IovaInterval } from '../../src/graph/model.js';

const MAX = IOVA_SPACE_END - 1n;
const OPTIONS: AxisOptions = { width: 1000, minBoxWidth: 40, breakWidth: 20, shadeWidth: 30 };
const EPSILON = 1e-6;

/** IOVAs that like the interesting places: 0, page edges, 4 GiB, and just under 2^64. */
const iova = fc.oneof(
  fc.bigInt({ min: 0n, max: MAX }),
  fc.bigInt({ min: 0n, max: 0x10_0000n }),
  fc.bigInt({ min: MAX - 0x10_0000n, max: MAX }),
  fc.constantFrom(0n, 0xfffn, 0x1000n, 0xffff_ffffn, 0x1_0000_0000n, TOP_PAGE.start - 1n, TOP_PAGE.start, MAX),
);

const interval = fc.tuple(iova, iova).map(([a, b]): IovaInterval => (a <= b ? { start: a, last: b } : { start: b, last: a }));

/** Up to 12 pairwise disjoint intervals (cut from sorted distinct points). */
const disjoint = fc.uniqueArray(iova, { minLength: 2, maxLength: 24 }).map((points) => {
  const sorted = [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: IovaInterval[] = [];
  for (let i = 0; i + 1 < sorted.length; i += 2) out.push({ start: sorted[i]!, last: sorted[i + 1]! });
  return out;
});

function width(axisBoxes: IovaInterval[], shaded: IovaInterval[] = []) {
  return buildAxis({ boxes: axisBoxes, shaded }, OPTIONS);
}

describe('broken axis', () => {
  it('is monotone over the whole 64-bit space', () => {
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 10 }), fc.array(interval, { maxLength: 4 }), iova, iova, (boxes, shaded, a, b) => {
        const axis = width(boxes, shaded);
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(iovaToX(axis, lo)).toBeLessThanOrEqual(iovaToX(axis, hi));
      }),
    );
  });

  it('starts at 0 and ends at its width', () => {
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 10 }), (boxes) => {
        const axis = width(boxes);
        expect(iovaToX(axis, 0n)).toBe(0);
        expect(iovaToX(axis, IOVA_SPACE_END)).toBeCloseTo(axis.width, 6);
        // Boxes take the spare width; with none, only the fixed-width context is drawn.
        if (boxes.length > 0) expect(axis.width).toBeGreaterThanOrEqual(OPTIONS.width - EPSILON);
        else expect(axis.width).toBeLessThan(OPTIONS.width);
      }),
    );
  });

  it('tiles the space: pieces are contiguous from 0 to 2^64, x positions add up', () => {
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 10 }), fc.array(interval, { maxLength: 4 }), (boxes, shaded) => {
        const axis = width(boxes, shaded);
        let end = 0n;
        let x = 0;
        for (const piece of axis.pieces) {
          expect(piece.start).toBe(end);
          expect(piece.end).toBeGreaterThan(piece.start);
          expect(piece.x).toBeCloseTo(x, 6);
          end = piece.end;
          x += piece.width;
        }
        expect(end).toBe(IOVA_SPACE_END);
      }),
    );
  });

  it('gives every box at least the minimum width', () => {
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 12 }), fc.array(interval, { maxLength: 4 }), (boxes, shaded) => {
        const axis = width(boxes, shaded);
        for (const box of boxes) {
          const w = iovaToX(axis, box.last + 1n) - iovaToX(axis, box.start);
          expect(w).toBeGreaterThanOrEqual(OPTIONS.minBoxWidth - EPSILON);
        }
      }),
    );
  });

  it('never draws disjoint boxes overlapping', () => {
    fc.assert(
      fc.property(disjoint, fc.array(interval, { maxLength: 4 }), (boxes, shaded) => {
        const axis = width(boxes, shaded);
        for (let i = 0; i + 1 < boxes.length; i++) {
          const right = iovaToX(axis, boxes[i]!.last + 1n);
          const nextLeft = iovaToX(axis, boxes[i + 1]!.start);
          expect(right).toBeLessThanOrEqual(nextLeft + EPSILON);
        }
      }),
    );
  });

  it('compresses every long empty stretch into a fixed-width break; short holes are drawn to scale', () => {
    fc.assert(
      fc.property(disjoint, (boxes) => {
        const axis = buildAxis({ boxes, shaded: [] }, { ...OPTIONS, holeWidth: 6 });
        axis.pieces.forEach((piece, i) => {
          if (piece.kind !== 'gap') return;
          for (const box of boxes) expect(piece.end <= box.start || piece.start > box.last).toBe(true);
          const [before, after] = [axis.pieces[i - 1], axis.pieces[i + 1]];
          const neighbours = [before, after].filter((p) => p?.kind === 'box').map((p) => p!.end - p!.start);
          const short = neighbours.length === 2 && neighbours.some((n) => piece.end - piece.start <= n);
          expect(piece.broken).toBe(!short);
          if (short) expect(piece.width).toBeGreaterThanOrEqual(6);
          else expect(piece.width).toBe(OPTIONS.breakWidth);
        });
      }),
    );
  });

  it('keeps the zero page and the top page on the axis as their own pieces', () => {
    const axis = width([{ start: 0x1_0000_0000n, last: 0x1_3fff_ffffn }]);
    expect(axis.pieces[0]).toMatchObject({ kind: 'shade', start: ZERO_PAGE.start, end: ZERO_PAGE.last + 1n });
    expect(axis.pieces[axis.pieces.length - 1]).toMatchObject({ kind: 'shade', start: TOP_PAGE.start, end: IOVA_SPACE_END });
  });

  it('keeps 64-bit values exact: a page just below the top page is its own piece with exact edges', () => {
    const box = { start: TOP_PAGE.start - 0x1000n, last: TOP_PAGE.start - 1n };
    const axis = width([box]);
    const piece = axis.pieces.find((p) => p.kind === 'box')!;
    expect(piece.start).toBe(0xffff_ffff_ffff_e000n);
    expect(piece.end).toBe(0xffff_ffff_ffff_f000n);
    expect(iovaToX(axis, piece.start)).toBe(piece.x);
    expect(iovaToX(axis, TOP_PAGE.start)).toBeCloseTo(piece.x + piece.width, 9);
    expect(iovaToX(axis, TOP_PAGE.start) - iovaToX(axis, box.start)).toBeGreaterThan(OPTIONS.width / 2);
  });

  it('tells apart 1-byte boxes one byte apart near 2^64', () => {
    const boxes = [
      { start: MAX - 2n, last: MAX - 2n },
      { start: MAX - 1n, last: MAX - 1n },
      { start: MAX, last: MAX },
    ];
    const axis = width(boxes);
    const xs = boxes.map((b) => [iovaToX(axis, b.start), iovaToX(axis, b.last + 1n)] as const);
    for (const [left, right] of xs) expect(right - left).toBeGreaterThanOrEqual(OPTIONS.minBoxWidth - EPSILON);
    expect(xs[0]![1]).toBeLessThanOrEqual(xs[1]![0] + EPSILON);
    expect(xs[1]![1]).toBeLessThanOrEqual(xs[2]![0] + EPSILON);
  });

  it('grows past the requested width only when minimum widths need it', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ start: BigInt(i) * 0x10_0000n + 0x10_0000n, last: BigInt(i) * 0x10_0000n + 0x10_0fffn }));
    const axis = width(many);
    expect(axis.width).toBeGreaterThan(OPTIONS.width);
    for (const box of many) expect(iovaToX(axis, box.last + 1n) - iovaToX(axis, box.start)).toBeGreaterThanOrEqual(OPTIONS.minBoxWidth - EPSILON);
  });

  it('uses whole numbers in integral mode', () => {
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 8 }), (boxes) => {
        const axis = buildAxis({ boxes, shaded: [] }, { width: 76, minBoxWidth: 2, breakWidth: 1, shadeWidth: 2, integral: true });
        for (const piece of axis.pieces) {
          expect(Number.isInteger(piece.width)).toBe(true);
          expect(Number.isInteger(piece.x)).toBe(true);
        }
      }),
    );
  });

  it('places tick labels without overlap on a row, each at an IOVA where a drawn piece starts or a run ends', () => {
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 12 }), (boxes) => {
        const axis = width(boxes);
        const labelWidth = (v: bigint) => v.toString(16).length * 6 + 12;
        const ticks = axisTicks(axis, labelWidth, 4, { min: 0, max: axis.width });
        const edges = new Set(axis.pieces.map((p) => p.start));
        for (const row of [0, 1]) {
          const onRow = ticks.filter((t) => t.row === row);
          for (let i = 0; i + 1 < onRow.length; i++) {
            const [a, b] = [onRow[i]!, onRow[i + 1]!];
            expect(a.labelX + labelWidth(a.iova) / 2 + 4).toBeLessThanOrEqual(b.labelX - labelWidth(b.iova) / 2 + EPSILON);
          }
        }
        for (const tick of ticks) {
          expect(edges.has(tick.iova)).toBe(true);
          expect(tick.labelX - labelWidth(tick.iova) / 2).toBeGreaterThanOrEqual(-EPSILON);
          expect(tick.labelX + labelWidth(tick.iova) / 2).toBeLessThanOrEqual(axis.width + EPSILON);
        }
      }),
    );
  });
});
