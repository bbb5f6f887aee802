import { describe, expect, it } from 'vitest';
import type { Area, Step } from '../../src/model/step.js';
import { inverse } from '../../src/model/step.js';

const spec = { kind: 'mapping' as const, mapping: { name: 'rx', memory: 'pool', offset: 0x1000n, length: 0x2000n, iova: null, access: 'rw' as const } };
const area = (iova: bigint, length: bigint): Area => ({ iova, length, userVa: 0x7f0000001000n, memory: 'pool', offset: 0x1000n, access: 'rw' });

describe('inverse', () => {
  it('undoes a map by unmapping exactly the resulting areas', () => {
    const step: Step = { op: 'map', address: 'ioas.dp/mapping.rx', ioas: 'dp', entry: 'rx', spec, memory: 'pool', offset: 0x1000n, length: 0x2000n, iova: null, access: 'rw' };
    const areas = [area(0x5000n, 0x2000n)];
    expect(inverse(step, { op: 'map', areas })).toEqual([{ op: 'unmap', address: step.address, ioas: 'dp', entry: 'rx', spec, areas }]);
  });

  it('undoes an unmap of a multi-area copy with one fixed map per area', () => {
    const areas = [area(0x5000n, 0x800n), { ...area(0x5800n, 0x800n), memory: 'other', offset: 0n }];
    const undo = inverse({ op: 'unmap', address: 'a', ioas: 'dp', entry: 'rx', spec, areas }, { op: 'unmap', length: 0x1000n });
    expect(undo.map((s) => s.op === 'map' && [s.iova, s.length, s.memory])).toEqual([[0x5000n, 0x800n, 'pool'], [0x5800n, 0x800n, 'other']]);
  });

  it('undoes allow-iovas and option sets with the previous value', () => {
    const r = [{ start: 0x1000n, last: 0x1fffn }];
    expect(inverse({ op: 'allow-iovas', address: 'a', ioas: 'dp', ranges: r, previous: [] }, { op: 'allow-iovas' })).toEqual([{ op: 'allow-iovas', address: 'a', ioas: 'dp', ranges: [], previous: r }]);
    expect(inverse({ op: 'set-huge-pages', address: 'a', ioas: 'dp', enabled: false, previous: true }, { op: 'set-huge-pages' })).toEqual([{ op: 'set-huge-pages', address: 'a', ioas: 'dp', enabled: true, previous: false }]);
    expect(inverse({ op: 'set-rlimit-mode', address: 'o', mode: 'process', previous: 'user' }, { op: 'set-rlimit-mode' })).toEqual([{ op: 'set-rlimit-mode', address: 'o', mode: 'user', previous: 'process' }]);
  });

  it('undoes a destroy with alloc, then the IOAS settings it had', () => {
    const r = [{ start: 0x1000n, last: 0x1fffn }];
    const undo = inverse({ op: 'destroy-ioas', address: 'ioas.dp', ioas: 'dp', allowedIovas: r, hugePages: false }, { op: 'destroy-ioas' });
    expect(undo.map((s) => s.op)).toEqual(['alloc-ioas', 'set-huge-pages', 'allow-iovas']);
  });

  it('alloc and destroy, create and release memory are each other\'s inverse', () => {
    expect(inverse({ op: 'alloc-ioas', address: 'i', ioas: 'dp' }, { op: 'alloc-ioas', id: 3 })[0]!.op).toBe('destroy-ioas');
    const memory = { name: 'pool', size: 0x1000n, backing: { kind: 'anonymous' as const } };
    expect(inverse({ op: 'create-memory', address: 'm', memory }, { op: 'create-memory', userVa: 0x7f0000000000n })).toEqual([{ op: 'release-memory', address: 'm', memory, userVa: 0x7f0000000000n }]);
  });

  it('refuses an output that does not belong to the step', () => {
    expect(() => inverse({ op: 'create-memory', address: 'm', memory: { name: 'p', size: 1n, backing: { kind: 'memfd' } } }, { op: 'unmap', length: 1n })).toThrow(/expected create-memory/);
  });
});
