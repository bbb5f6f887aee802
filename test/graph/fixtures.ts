// Hand-written layouts that resemble the examples (DPDK appliance, VMM guest RAM, test lab),
// expressed directly as normalized `Layout` values so the graph tests need no YAML parser.
// Automatic entries get hand-predicted placements, marked as predictions.

import type { Copy, Ioas, Layout, Mapping, MemoryRegion } from '../../src/model/layout.js';
import { layoutToIovaMap, diffIovaMaps } from '../../src/graph/index.js';
import type { IovaMap, Placement } from '../../src/graph/index.js';

const KiB = 1n << 10n;
const MiB = 1n << 20n;
const GiB = 1n << 30n;

function memory(name: string, size: bigint, backing: MemoryRegion['backing'] = { kind: 'anonymous' }): MemoryRegion {
  return { name, size, backing };
}

function mapping(name: string, memoryName: string, length: bigint, iova: bigint | null, extra: Partial<Mapping> = {}): Mapping {
  return { name, memory: memoryName, offset: 0n, length, iova, access: 'rw', ...extra };
}

function entryCopy(name: string, ioas: string, entry: string, length: bigint, iova: bigint | null, extra: Partial<Copy> = {}): Copy {
  return { name, from: { kind: 'entry', ioas, entry, offset: 0n, length }, iova, access: 'rw', ...extra };
}

function ioas(name: string, parts: Partial<Ioas>): Ioas {
  return { name, allowedIovas: [], hugePages: true, mappings: [], copies: [], ...parts };
}

export interface Fixture {
  readonly name: string;
  readonly layout: Layout;
  readonly placements: readonly Placement[];
}

/** Two NIC ports: 1 GiB-page pools at fixed IOVAs from 4 GiB, rings, a kernel-placed scratch area. */
export function dpdkAppliance(): Fixture {
  const layout: Layout = {
    version: 1,
    options: { rlimitMode: 'process' },
    memory: [
      memory('rx-pool', 2n * GiB, { kind: 'hugetlb', pageSize: GiB }),
      memory('tx-pool', GiB, { kind: 'hugetlb', pageSize: GiB }),
      memory('rings', 64n * MiB, { kind: 'hugetlb', pageSize: 2n * MiB }),
      memory('scratch', 16n * MiB, { kind: 'memfd' }),
    ],
    ioas: [
      ioas('port0', {
        allowedIovas: [{ start: 0x1_0000_0000n, last: 0x1_0000_0000n + 64n * GiB - 1n }],
        mappings: [
          mapping('rx-pool', 'rx-pool', 2n * GiB, 0x1_0000_0000n),
          mapping('tx-pool', 'tx-pool', GiB, 0x1_8000_0000n, { access: 'r' }),
          mapping('rx-ring', 'rings', 32n * MiB, 0x2_0000_0000n),
          mapping('tx-ring', 'rings', 32n * MiB, 0x2_0200_0000n, { offset: 32n * MiB }),
          mapping('scratch', 'scratch', 16n * MiB, null),
        ],
      }),
      ioas('port1', {
        copies: [
          entryCopy('rx-pool', 'port0', 'rx-pool', 2n * GiB, 0x1_0000_0000n),
          entryCopy('tx-pool', 'port0', 'tx-pool', GiB, 0x1_8000_0000n, { access: 'r' }),
        ],
      }),
    ],
  };
  // First fit in the allowed window after the fixed pools, 2 MiB aligned.
  const placements: Placement[] = [{ ioas: 'port0', entry: 'scratch', iova: 0x1_c000_0000n, predicted: true }];
  return { name: 'dpdk-appliance', layout, placements };
}

/** A 4 GiB guest: 3 GiB below the 32-bit PCI hole, 1 GiB above 4 GiB; a second IOAS copies it. */
export function vmmGuestRam(): Fixture {
  const allowed = [
    { start: 0n, last: 0xbfff_ffffn },
    { start: 0x1_0000_0000n, last: 0x1_3fff_ffffn },
  ];
  const layout: Layout = {
    version: 1,
    options: { rlimitMode: 'user' },
    memory: [memory('guest-ram', 4n * GiB, { kind: 'memfd' })],
    ioas: [
      ioas('nic', {
        allowedIovas: allowed,
        mappings: [
          mapping('ram-low', 'guest-ram', 3n * GiB, 0n),
          mapping('ram-high', 'guest-ram', GiB, 0x1_0000_0000n, { offset: 3n * GiB }),
        ],
      }),
      ioas('nvme', {
        allowedIovas: allowed,
        copies: [
          entryCopy('ram-low', 'nic', 'ram-low', 3n * GiB, 0n),
          entryCopy('ram-high', 'nic', 'ram-high', GiB, 0x1_0000_0000n),
        ],
      }),
    ],
  };
  return { name: 'vmm-guest-ram', layout, placements: [] };
}

/** Small buffers, allowed ranges, huge pages off, kernel-placed entries and all three copy forms. */
export function testLab(): Fixture {
  const layout: Layout = {
    version: 1,
    options: { rlimitMode: 'user' },
    memory: [memory('buf-a', 8n * MiB), memory('buf-b', 4n * MiB, { kind: 'memfd' }), memory('table', 64n * KiB)],
    ioas: [
      ioas('lab', {
        hugePages: false,
        allowedIovas: [
          { start: 0x10_0000n, last: 0xff_ffffn },
          { start: 0x100_0000n, last: 0x1ff_ffffn },
        ],
        mappings: [
          mapping('a-low', 'buf-a', 4n * MiB, 0x10_0000n),
          mapping('a-high', 'buf-a', 4n * MiB, 0x50_0000n, { offset: 4n * MiB }),
          mapping('b', 'buf-b', 4n * MiB, null),
          mapping('table', 'table', 64n * KiB, null, { access: 'r' }),
        ],
      }),
      ioas('mirror', {
        hugePages: false,
        copies: [
          { name: 'seam', from: { kind: 'iova', ioas: 'lab', iova: 0x30_0000n, length: 4n * MiB }, iova: 0x800_0000n, access: 'rw' },
          entryCopy('b', 'lab', 'b', 4n * MiB, null),
          { name: 'table-window', from: { kind: 'entry', ioas: 'lab', entry: 'table', offset: 16n * KiB, length: 16n * KiB }, iova: null, access: 'r' },
        ],
      }),
    ],
  };
  const placements: Placement[] = [
    { ioas: 'lab', entry: 'b', iova: 0xa0_0000n, predicted: true },
    { ioas: 'lab', entry: 'table', iova: 0x90_0000n, predicted: true },
    { ioas: 'mirror', entry: 'b', iova: 0x20_0000n, predicted: true },
    { ioas: 'mirror', entry: 'table-window', iova: 0x1000n, predicted: true },
  ];
  return { name: 'test-lab', layout, placements };
}

export const FIXTURES: readonly (() => Fixture)[] = [dpdkAppliance, vmmGuestRam, testLab];

export function fixtureMap(fixture: Fixture): IovaMap {
  return layoutToIovaMap(fixture.layout, fixture.placements);
}

/**
 * A plan on the DPDK appliance: tx-ring moves up, a stats mapping is added, port1 stops sharing
 * the tx pool, and the scratch area is no longer wanted.
 */
export function dpdkPlan(): { before: IovaMap; after: IovaMap; plan: IovaMap } {
  const base = dpdkAppliance();
  const before = fixtureMap(base);
  const [port0, port1] = base.layout.ioas as [Ioas, Ioas];
  const changed: Layout = {
    ...base.layout,
    memory: [...base.layout.memory, memory('stats', 2n * MiB, { kind: 'memfd' })],
    ioas: [
      {
        ...port0,
        mappings: [
          ...port0.mappings
            .filter((m) => m.name !== 'scratch')
            .map((m) => (m.name === 'tx-ring' ? { ...m, iova: 0x2_0400_0000n } : m)),
          mapping('stats', 'stats', 2n * MiB, 0x2_1000_0000n, { access: 'w' }),
        ],
      },
      { ...port1, copies: port1.copies.filter((c) => c.name !== 'tx-pool') },
    ],
  };
  const after = layoutToIovaMap(changed, []);
  return { before, after, plan: diffIovaMaps(before, after) };
}

/**
 * A stress case for legibility rather than realism: many small mappings with long names next to
 * big ones (so labels must move to callout rows), an entry just below the top page, and a plan
 * whose removed and added entries overlap (so the lane needs two tracks).
 */
export function crowdedPlan(): IovaMap {
  const lab = testLab();
  const small: Mapping[] = Array.from({ length: 9 }, (_, i) =>
    mapping(`doorbell-page-${i}`, 'table', 4n * KiB, 0x4000_0000n + BigInt(i) * 0x2000n, { access: i % 2 === 0 ? 'w' : 'rw' }),
  );
  const before: Layout = {
    ...lab.layout,
    ioas: [
      ...lab.layout.ioas,
      ioas('edge', {
        mappings: [
          mapping('bulk', 'buf-a', 8n * MiB, 0x4100_0000n),
          ...small,
          mapping('near-top', 'buf-b', 4n * KiB, 0xffff_ffff_ffff_e000n),
          mapping('moved', 'buf-b', 16n * KiB, 0x4200_0000n),
        ],
      }),
    ],
  };
  const [labIoas, mirror, edge] = before.ioas as [Ioas, Ioas, Ioas];
  const after: Layout = {
    ...before,
    ioas: [
      labIoas,
      mirror,
      {
        ...edge,
        mappings: [
          ...edge.mappings.filter((m) => m.name !== 'bulk' && m.name !== 'doorbell-page-3').map((m) => (m.name === 'moved' ? { ...m, iova: 0x4200_8000n } : m)),
          mapping('bulk-half', 'buf-a', 4n * MiB, 0x4100_0000n),
        ],
      },
      ioas('fresh', { mappings: [mapping('new-buffer', 'buf-b', 4n * MiB, 0x4100_0000n)] }),
    ],
  };
  return diffIovaMaps(layoutToIovaMap(before, lab.placements), layoutToIovaMap(after, lab.placements));
}
