// 64-bit exactness of the simulator's area bookkeeping where doubles cannot tell IOVAs apart.
// The area tree orders and searches by doubles first and falls back to bigint only on a tie
// (src/backends/sim/interval-tree.ts); just below 2^64 a double's ulp is 2048 bytes, so areas a
// few bytes apart tie, and across 2^53 the doubles stop being exact. Random fixed MAPs, whole-area
// UNMAPs and COPYs in those places must give the errnos and area listing of a plain array model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openSimulator } from '../../../src/index.js';
import { isOk } from '../../../src/model/uapi.js';

const U = (1n << 64n) - 1n;
const B = 0x7f0000000000n;
const RW = 6;
const FIXED = 1;

type Area = { iova: bigint; last: bigint };

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), at: fc.bigInt({ min: 0n, max: 0x3000n }), length: fc.bigInt({ min: 1n, max: 0x300n }) }),
  fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('copy' as const), pick: fc.nat(), at: fc.bigInt({ min: 0n, max: 0x3000n }) }),
);

describe('simulator areas near 2^53 and 2^64', () => {
  it('match an array model under random fixed MAP, UNMAP and COPY', () => {
    fc.assert(
      fc.property(fc.constantFrom(U - 0x3000n, (1n << 53n) - 0x1800n, 1n << 63n), fc.array(opArb, { maxLength: 80 }), (base, ops) => {
        const sim = openSimulator();
        const ioas = sim.ioasAlloc({ flags: 0 });
        if (!isOk(ioas)) throw new Error('alloc failed');
        const id = ioas.outIoasId;
        let model: Area[] = [];
        const overlaps = (iova: bigint, last: bigint): boolean => model.some((a) => a.iova <= last && iova <= a.last);
        for (const op of ops) {
          if (op.kind === 'map') {
            const iova = base + op.at;
            const last = iova + op.length - 1n;
            const r = sim.ioasMap({ flags: RW | FIXED, ioasId: id, userVa: B, length: op.length, iova });
            const expected = iova >= U || last > U ? 'EOVERFLOW' : overlaps(iova, last) ? 'EEXIST' : 'OK';
            expect(r.code).toBe(expected);
            if (expected === 'OK') model.push({ iova, last });
          } else if (model.length > 0) {
            const victim = model[op.pick % model.length] as Area;
            const length = victim.last - victim.iova + 1n;
            if (op.kind === 'unmap') {
              expect(sim.ioasUnmap({ ioasId: id, iova: victim.iova, length })).toMatchObject({ code: 'OK', length });
              model = model.filter((a) => a !== victim);
            } else {
              const dst = base + op.at;
              const last = dst + length - 1n;
              const r = sim.ioasCopy({ flags: RW | FIXED, dstIoasId: id, srcIoasId: id, length, dstIova: dst, srcIova: victim.iova });
              const expected = dst >= U || last > U ? 'EOVERFLOW' : overlaps(dst, last) ? 'EEXIST' : 'OK';
              expect(r.code).toBe(expected);
              if (expected === 'OK') model.push({ iova: dst, last });
            }
          }
          model.sort((a, b) => (a.iova < b.iova ? -1 : 1));
          expect(sim.areas(id)?.map(({ iova, last }) => ({ iova, last }))).toEqual(model);
        }
        // A one-byte automatic MAP still lands in the lowest hole (far below these areas).
        expect(sim.ioasMap({ flags: RW, ioasId: id, userVa: B, length: 1n, iova: 0n })).toMatchObject({ code: 'OK', iova: 0x1000n });
      }),
      { numRuns: 150 },
    );
  });
});
