// Placement rules of the picture as numbers, on random maps: every box visible, labels inside
// boxes fit them, callout labels never overlap, nothing leaves the picture. (The Chromium test
// checks the same with real font metrics on the fixtures.)

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderHtml, renderSvg, renderTextMap } from '../../src/graph/index.js';
import type { Box, IovaMap, Lane } from '../../src/graph/index.js';
import { buildScene } from '../../src/graph/scene.js';

const MAX = (1n << 64n) - 1n;

const boxArb = (lane: string, index: number) =>
  fc
    .record({
      iova: fc.oneof(fc.bigInt({ min: 0n, max: 1n << 36n }), fc.bigInt({ min: MAX - (1n << 24n), max: MAX - 1n })),
      length: fc.oneof(fc.constantFrom(0x1000n, 0x20_0000n, 1n << 30n), fc.bigInt({ min: 1n, max: 1n << 32n })),
      name: fc.string({ minLength: 1, maxLength: 60 }),
      status: fc.constantFrom('same', 'add', 'remove', 'replace' as const),
      memory: fc.constantFrom('a', 'b', 'c'),
      predicted: fc.boolean(),
    })
    .map(({ iova, length, name, status, memory, predicted }): Box => ({
      id: `${lane}/mapping.${index}`,
      name,
      kind: 'mapping',
      memory,
      iova,
      length: iova + length > MAX + 1n ? MAX + 1n - iova : length,
      access: 'rw',
      status,
      ...(predicted ? { predicted } : {}),
    }));

const laneArb = (index: number) =>
  fc.integer({ min: 0, max: 10 }).chain((n) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => boxArb(`l${index}`, i))).map(
      (boxes): Lane => ({ ioas: `l${index}`, allowed: index % 2 === 0 ? [{ start: 0x1000n, last: 0xffff_ffffn }] : [], boxes: [...boxes].sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0)) }),
    ),
  );

const mapArb = fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => laneArb(i))).map((lanes): IovaMap => ({ lanes })));

describe('scene placement', () => {
  it('keeps every box visible and every label readable and inside the picture', () => {
    fc.assert(
      fc.property(mapArb, (map) => {
        const scene = buildScene(map);
        for (const lane of scene.lanes) {
          const callouts = lane.boxes.filter((b) => !b.inside);
          for (const g of lane.boxes) {
            expect(g.x2 - g.x1).toBeGreaterThanOrEqual(18 - 1e-6);
            expect(g.label.x).toBeGreaterThanOrEqual(0);
            expect(g.label.x + g.label.width).toBeLessThanOrEqual(scene.width + 1e-6);
            if (g.inside) {
              expect(g.label.x).toBeGreaterThanOrEqual(g.x1);
              expect(g.label.x + g.label.width).toBeLessThanOrEqual(g.x2 + 1e-6);
            } else {
              expect(g.label.y + g.label.height).toBeLessThanOrEqual(lane.y + lane.height);
            }
          }
          for (let i = 0; i < callouts.length; i++) {
            for (let j = i + 1; j < callouts.length; j++) {
              const [a, b] = [callouts[i]!.label, callouts[j]!.label];
              const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
              expect(apart).toBe(true);
            }
          }
        }
        // Lanes stack without overlapping.
        for (let i = 0; i + 1 < scene.lanes.length; i++) expect(scene.lanes[i]!.y + scene.lanes[i]!.height).toBeLessThanOrEqual(scene.lanes[i + 1]!.y);
      }),
      { numRuns: 150 },
    );
  });

  it('renders an empty map and an IOAS without entries', () => {
    const empty: IovaMap = { lanes: [] };
    expect(renderSvg(empty)).toContain('</svg>');
    const bare: IovaMap = { lanes: [{ ioas: 'idle', allowed: [], boxes: [], unplaced: ['later'] }] };
    expect(renderSvg(bare)).toContain('kernel-chosen, IOVA not known: later');
    expect(renderHtml(bare)).toContain('idle');
    expect(renderTextMap(bare)).toContain('later: kernel-chosen IOVA, not known yet');
  });
});
