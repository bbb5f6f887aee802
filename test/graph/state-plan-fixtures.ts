// Hand-built recorded states and plans for the state/plan -> view model conversions.
import type { Copy, Layout, Mapping } from '../../src/model/layout.js';
import type { RecordedEntry, StateBody } from '../../src/model/recorded.js';
import type { Area, MapStep, Step } from '../../src/model/step.js';
import type { Change } from '../../src/plan/diff.js';
import type { Plan } from '../../src/plan/plan.js';

export const MiB = 1n << 20n;

export function mapping(name: string, iova: bigint | null, length = 2n * MiB, memory = 'pool'): Mapping {
  return { name, memory, offset: 0n, length, iova, access: 'rw' };
}

export function copyOf(name: string, ioas: string, entry: string, iova: bigint | null, length = 2n * MiB): Copy {
  return { name, from: { kind: 'entry', ioas, entry, offset: 0n, length }, iova, access: 'rw' };
}

/** An entry recorded as `pieces` back-to-back areas starting at `iova`. */
export function recorded(spec: RecordedEntry['spec'], iova: bigint, length: bigint, pieces = 1): RecordedEntry {
  const name = spec.kind === 'mapping' ? spec.mapping.name : spec.copy.name;
  const piece = length / BigInt(pieces);
  const areas: Area[] = Array.from({ length: pieces }, (_, i) => ({ iova: iova + BigInt(i) * piece, length: piece, userVa: 0x7f00_0000_0000n + BigInt(i) * piece, memory: 'pool', offset: BigInt(i) * piece, access: 'rw' }));
  return { name, spec, areas };
}

export function stateBody(ioas: { name: string; entries: RecordedEntry[]; allowed?: { start: bigint; last: bigint }[] }[]): StateBody {
  return {
    backend: 'sim',
    options: { rlimitMode: 'user' },
    memory: [{ name: 'pool', size: 64n * MiB, backing: { kind: 'anonymous' }, userVa: 0x7f00_0000_0000n }],
    ioas: ioas.map((i, n) => ({ name: i.name, id: n + 1, allowedIovas: i.allowed ?? [], hugePages: true, entries: i.entries })),
    sim: null,
    journalSeq: 0,
    attention: null,
  } as StateBody;
}

export function layoutOf(ioas: { name: string; mappings?: Mapping[]; copies?: Copy[] }[]): Layout {
  return {
    version: 1,
    options: { rlimitMode: 'user' },
    memory: [{ name: 'pool', size: 64n * MiB, backing: { kind: 'anonymous' } }],
    ioas: ioas.map((i) => ({ name: i.name, allowedIovas: [], hugePages: true, mappings: i.mappings ?? [], copies: i.copies ?? [] })),
  } as Layout;
}

export function mapStep(ioas: string, m: Mapping, predictedIova?: bigint): MapStep {
  return {
    op: 'map',
    address: `ioas.${ioas}/mapping.${m.name}`,
    ioas,
    entry: m.name,
    spec: { kind: 'mapping', mapping: m },
    memory: m.memory,
    offset: m.offset,
    length: m.length,
    iova: m.iova,
    access: m.access,
    ...(predictedIova !== undefined ? { predictedIova } : {}),
  };
}

export function change(address: string, action: Change['action']): Change {
  return { address, kind: 'mapping', action, reasons: [], attributes: [] };
}

export function planOf(desired: Layout, steps: Step[], changes: Change[]): Plan {
  return {
    formatVersion: 1,
    layoutFile: null,
    basis: { lineage: null, serial: 0 },
    host: { backend: 'sim', hostname: 'test', pageSize: 4096n },
    changes,
    steps,
    summary: { add: 0, replace: 0, destroy: 0, update: 0 },
    desired,
  };
}
