// Builders for pure planner tests: small layouts, and a recorded state that pretends a layout was
// applied (areas placed at made-up but distinct IOVAs), so diff/order can be tested without a backend.
import type { Copy, Ioas, Layout, Mapping, MemoryRegion } from '../../src/model/layout.js';
import type { RecordedEntry, StateBody } from '../../src/model/recorded.js';
import { emptyStateBody } from '../../src/model/recorded.js';

export const MiB = 1n << 20n;

export function mem(name: string, size = 4n * MiB): MemoryRegion {
  return { name, size, backing: { kind: 'anonymous' } };
}

export function mapping(name: string, memory: string, over: Partial<Mapping> = {}): Mapping {
  return { name, memory, offset: 0n, length: 0x1000n, iova: null, access: 'rw', ...over };
}

export function copyOf(name: string, ioas: string, entry: string, over: Partial<Copy> = {}): Copy {
  return { name, from: { kind: 'entry', ioas, entry, offset: 0n, length: 0x1000n }, iova: null, access: 'r', ...over };
}

export function ioas(name: string, over: Partial<Ioas> = {}): Ioas {
  return { name, allowedIovas: [], hugePages: true, mappings: [], copies: [], ...over };
}

export function layout(memory: MemoryRegion[], ioasList: Ioas[], rlimitMode: 'user' | 'process' = 'user'): Layout {
  return { version: 1, options: { rlimitMode }, memory, ioas: ioasList };
}

/** A state body as if `l` had been applied: ids from 1, regions 1 GiB apart, areas 1 MiB apart. */
export function appliedState(l: Layout): StateBody {
  const base = emptyStateBody('sim');
  const memory = l.memory.map((m, i) => ({ ...m, userVa: 0x7f0000000000n + BigInt(i) * (1n << 30n) }));
  const vaOf = (name: string): bigint => memory.find((m) => m.name === name)!.userVa;
  let nextIova = 0x100000n;
  const ioasList = l.ioas.map((i, index) => {
    const entries: RecordedEntry[] = [];
    for (const m of i.mappings) {
      const iova = m.iova ?? (nextIova += MiB);
      entries.push({ name: m.name, spec: { kind: 'mapping', mapping: m }, areas: [{ iova, length: m.length, userVa: vaOf(m.memory) + m.offset, memory: m.memory, offset: m.offset, access: m.access }] });
    }
    for (const c of i.copies) {
      const iova = c.iova ?? (nextIova += MiB);
      entries.push({ name: c.name, spec: { kind: 'copy', copy: c }, areas: [{ iova, length: c.from.length, userVa: 0x7f0000000000n, memory: l.memory[0]!.name, offset: 0n, access: c.access }] });
    }
    return { name: i.name, id: index + 1, allowedIovas: i.allowedIovas, hugePages: i.hugePages, entries };
  });
  return { ...base, options: l.options, memory, ioas: ioasList };
}
