// Model test: random operation sequences (valid and invalid, in a small IOVA space so that
// overlaps, gaps and reuse are frequent) never make the simulator throw, and after every call
// its invariants hold: areas sorted and disjoint, object ids unique and lowest-free, UNMAP
// returns exactly the bytes it removed, failed MAP/COPY change nothing, successful ones add
// exactly the areas they should. At the end the state survives a JSON snapshot round trip, and
// the restored simulator behaves identically on further calls.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errnoName, openSimulator, type SimArea, type SimContext } from '../../../src/index.js';

const U = (1n << 64n) - 1n;
const B = 1n << 42n;

const small = (max: bigint) => fc.bigInt({ min: 0n, max });
const ioasId = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: fc.constantFrom(0, 3, 4) });
const mapFlags = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(2, 4, 6, 7, 5, 3) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 8, 1 << 16) });
const userVa = fc.oneof(fc.constant(0n), small(0x20000n).map((o) => B + o), fc.constantFrom(U - 0x2000n, 2n, 0x55555555a2a0n));
const length = fc.oneof({ weight: 8, arbitrary: fc.bigInt({ min: 1n, max: 0x6000n }) }, { weight: 1, arbitrary: fc.constantFrom(0n, U, U - 0x1000n, 1n << 62n) });
const iova = fc.oneof({ weight: 8, arbitrary: small(0x40000n) }, { weight: 1, arbitrary: fc.constantFrom(U, U - 0x1000n, 0n) });

/** IOVAs where automatic MAPs land, so COPY sources and UNMAP ranges often hit areas. */
const busyIova = fc.oneof(iova, small(0x20n).map((k) => 0x1000n + k * 0x800n));
const copyLength = fc.oneof(length, fc.bigInt({ min: 1n, max: 0x1800n }));
const unmapLength = fc.oneof(length, fc.bigInt({ min: 1n, max: 0x40000n }));

const opArb = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('alloc' as const), flags: fc.constantFrom(0, 0, 0, 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('destroy' as const), id: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('map' as const), flags: mapFlags, ioasId, userVa, length, iova }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('copy' as const), flags: mapFlags, src: ioasId, dst: ioasId, length: copyLength, srcIova: busyIova, dstIova: iova }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('unmap' as const), ioasId, iova: busyIova, length: unmapLength }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmapAll' as const), ioasId }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('allow' as const),
      ioasId,
      ranges: fc.array(fc.tuple(small(0x40000n), small(0x10000n)).map(([s, l]) => ({ start: s, last: s + l })), { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ranges' as const), ioasId, numIovas: fc.integer({ min: 0, max: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('option' as const), optionId: fc.constantFrom(0, 1, 2), opcode: fc.constantFrom(0, 1, 2), objectId: ioasId, val64: fc.constantFrom(0n, 1n, 2n) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reserve' as const), ioasId, start: small(0x40000n), size: small(0x2000n) }) },
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function apply(sim: SimContext, op: Op): Record<string, unknown> {
  return call(sim, op) as unknown as Record<string, unknown>;
}

function call(sim: SimContext, op: Op): object {
  switch (op.op) {
    case 'alloc':
      return sim.ioasAlloc({ flags: op.flags });
    case 'destroy':
      return sim.destroy({ id: op.id });
    case 'map':
      return sim.ioasMap({ flags: op.flags, ioasId: op.ioasId, userVa: op.userVa, length: op.length, iova: op.iova });
    case 'copy':
      return sim.ioasCopy({ flags: op.flags, dstIoasId: op.dst, srcIoasId: op.src, length: op.length, dstIova: op.dstIova, srcIova: op.srcIova });
    case 'unmap':
      return sim.ioasUnmap({ ioasId: op.ioasId, iova: op.iova, length: op.length });
    case 'unmapAll':
      return sim.ioasUnmap({ ioasId: op.ioasId, iova: 0n, length: U });
    case 'allow':
      return sim.ioasAllowIovas({ ioasId: op.ioasId, ranges: op.ranges });
    case 'ranges':
      return sim.ioasIovaRanges({ ioasId: op.ioasId, numIovas: op.numIovas });
    case 'option':
      return sim.option({ optionId: op.optionId, op: op.opcode, objectId: op.objectId, val64: op.val64 });
    case 'reserve':
      return sim.testAddReserved({ ioasId: op.ioasId, start: op.start, last: op.start + op.size });
  }
}

const bytes = (areas: readonly SimArea[]) => areas.reduce((sum, a) => sum + (a.last - a.iova + 1n), 0n);
const key = (a: SimArea) => `${a.iova}:${a.last}:${a.pagesId}`;

function allAreas(sim: SimContext, ids: Iterable<number>): Map<number, readonly SimArea[]> {
  const out = new Map<number, readonly SimArea[]>();
  for (const id of ids) out.set(id, sim.areas(id) ?? []);
  return out;
}

function checkDisjoint(areas: readonly SimArea[]): void {
  for (let i = 0; i < areas.length; i++) {
    const a = areas[i]!;
    expect(a.iova <= a.last).toBe(true);
    if (i > 0) expect(a.iova > areas[i - 1]!.last).toBe(true);
  }
}

/** Runs `ops`, checking the invariants after every call; returns the live ids. */
function runChecked(sim: SimContext, ops: readonly Op[]): Set<number> {
  const live = new Set<number>();
  for (const op of ops) {
    const before = allAreas(sim, live);
    const result = apply(sim, op);
    expect(result.code).toBe(errnoName(result.errno as number));
    const ok = result.errno === 0;

    if (op.op === 'alloc' && ok) {
      let lowest = 1;
      while (live.has(lowest)) lowest++;
      expect(result.outIoasId).toBe(lowest);
      live.add(lowest);
    }
    if (op.op === 'destroy') {
      expect(ok).toBe(live.has(op.id));
      live.delete(op.id);
    }
    for (const id of [1, 2, 3, 4]) expect(sim.areas(id) !== null).toBe(live.has(id));
    const after = allAreas(sim, live);
    for (const areas of after.values()) checkDisjoint(areas);

    if (op.op === 'unmap' || op.op === 'unmapAll') {
      const id = op.ioasId;
      if (live.has(id)) {
        const removed = before.get(id)!.filter((a) => !after.get(id)!.some((b) => key(a) === key(b)));
        expect(after.get(id)!.length).toBe(before.get(id)!.length - removed.length);
        if (ok) expect(result.length).toBe(BigInt.asUintN(64, bytes(removed)));
        if (op.op === 'unmap' && op.iova < U && op.length < U && op.length > 0n && op.iova + op.length - 1n <= U) {
          // Oracle (spec §8): walk the intersecting areas lowest first, removing whole ones,
          // stopping with ENOENT at the first that sticks out; ENOENT too if nothing was removed.
          const last = op.iova + op.length - 1n;
          const hit = before.get(id)!.filter((a) => a.iova <= last && op.iova <= a.last);
          const cut = hit.findIndex((a) => a.iova < op.iova || a.last > last);
          const expectedRemoved = cut === -1 ? hit : hit.slice(0, cut);
          expect(removed).toEqual(expectedRemoved);
          expect(result.code).toBe(cut === -1 && hit.length > 0 ? 'OK' : 'ENOENT');
        }
      }
    }
    if ((op.op === 'map' || op.op === 'copy') && !ok) {
      expect(after).toEqual(before);
    }
    if (op.op === 'map' && ok) {
      const added = after.get(op.ioasId)!.filter((a) => !before.get(op.ioasId)!.some((b) => key(a) === key(b)));
      expect(added).toHaveLength(1);
      expect(added[0]!.iova).toBe(result.iova);
      expect(added[0]!.last - added[0]!.iova + 1n).toBe(op.length);
      expect(added[0]!.userVa).toBe(op.userVa);
      if ((op.flags & 1) !== 0) expect(result.iova).toBe(op.iova);
    }
    if (op.op === 'copy' && ok) {
      const added = after.get(op.dst)!.filter((a) => !before.get(op.dst)!.some((b) => key(a) === key(b)));
      expect(added.length).toBeGreaterThan(0);
      expect(bytes(added)).toBe(op.length);
      expect(added[0]!.iova).toBe(result.dstIova);
      // Oracle (spec §7.2): one area per source area touched, back to back from dstIova, each
      // sharing that source area's pages and starting at the user VA behind its source byte.
      const expected: SimArea[] = [];
      let cursor = op.srcIova;
      let at = result.dstIova as bigint;
      const srcLast = op.srcIova + op.length - 1n;
      while (cursor <= srcLast) {
        const src = before.get(op.src)!.find((a) => a.iova <= cursor && cursor <= a.last)!;
        const end = src.last < srcLast ? src.last : srcLast;
        const flags = op.flags & 6;
        expected.push({ iova: at, last: at + (end - cursor), userVa: src.userVa + (cursor - src.iova), flags, pagesId: src.pagesId });
        at += end - cursor + 1n;
        cursor = end + 1n;
      }
      expect(added).toEqual(expected);
    }
  }
  return live;
}

const openOptions = fc.record({ testKernel: fc.boolean(), capSysResource: fc.boolean() });
/** Sequences start with two IOASes so that most calls reach the interesting checks. */
const sequenceArb = (minLength: number, maxLength: number) =>
  fc.array(opArb, { minLength, maxLength }).map((ops): Op[] => [{ op: 'alloc', flags: 0 }, { op: 'alloc', flags: 0 }, ...ops]);

describe('simulator model test', () => {
  it('random operation sequences keep every invariant', () => {
    fc.assert(
      fc.property(openOptions, sequenceArb(20, 80), (options, ops) => {
        const sim = openSimulator(options);
        runChecked(sim, ops);
        sim.close();
        expect(sim.ioasAlloc({ flags: 0 }).code).toBe('EBADF');
      }),
      { numRuns: 400, seed: 0xdecaf },
    );
  });

  it('snapshots round-trip through JSON and the restored simulator behaves identically', () => {
    fc.assert(
      fc.property(openOptions, sequenceArb(10, 60), fc.array(opArb, { maxLength: 40 }), (options, ops, more) => {
        const sim = openSimulator(options);
        runChecked(sim, ops);
        const saved = sim.snapshot();
        const restored = openSimulator({ state: JSON.parse(JSON.stringify(saved)) });
        expect(restored.snapshot()).toEqual(saved);
        for (const op of more) expect(apply(restored, op)).toEqual(apply(sim, op));
        expect(restored.snapshot()).toEqual(sim.snapshot());
      }),
      { numRuns: 300, seed: 0xc0ffee },
    );
  });
});
