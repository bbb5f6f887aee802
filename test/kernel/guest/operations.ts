// Random uapi operation sequences for the differential test (kernel vs simulator): plain data
// describing one call each, a fast-check generator biased towards the interesting cases (a small
// IOVA window so that areas overlap, page-aligned and byte-granular values, the U64_MAX and 2^63
// edges, ids that exist and ids that do not), and a runner that applies one to any backend.
import fc from 'fast-check';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
  U64_MAX,
  type DestroyArgs,
  type IoasAllocArgs,
  type IoasAllowIovasArgs,
  type IoasCopyArgs,
  type IoasIovaRangesArgs,
  type IoasMapArgs,
  type IoasUnmapArgs,
  type OptionArgs,
  type UapiContext,
} from '../../../src/model/uapi.js';

export interface ReservedArgs { readonly ioasId: number; readonly start: bigint; readonly last: bigint }

export type Operation =
  | { readonly op: 'ioasAlloc'; readonly args: IoasAllocArgs }
  | { readonly op: 'destroy'; readonly args: DestroyArgs }
  | { readonly op: 'ioasAllowIovas'; readonly args: IoasAllowIovasArgs }
  | { readonly op: 'ioasIovaRanges'; readonly args: IoasIovaRangesArgs }
  | { readonly op: 'ioasMap'; readonly args: IoasMapArgs }
  | { readonly op: 'ioasCopy'; readonly args: IoasCopyArgs }
  | { readonly op: 'ioasUnmap'; readonly args: IoasUnmapArgs }
  | { readonly op: 'option'; readonly args: OptionArgs }
  | { readonly op: 'testAddReserved'; readonly args: ReservedArgs };

/** A backend the differential test can drive: the uapi contract plus the TEST-kernel op. */
export interface DiffBackend extends UapiContext {
  testAddReserved(args: ReservedArgs): unknown;
}

const PAGE = 0x1000n;
/** A user VA whose low bits are clear up to 4 MiB, like a typical mmap of a large buffer. */
const HEAP = 0x7f3a_c000_0000n;
/** MOCK_FLAGS_ACCESS_SYZ: COPY's TEST-kernel bit 16 (spec §7.1 step 0). */
const SYZ = 1 << 16;

const id = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 4, 0x7fffffff) });

/** IOVAs: mostly pages in a 256 KiB window (so mappings collide), some byte offsets, some edges. */
const iova = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }).map((n) => BigInt(n) * PAGE) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x40000 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(U64_MAX, U64_MAX - PAGE + 1n, 1n << 63n, 0x200000n, 0x1fffn) },
);

const length = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 16 }).map((n) => BigInt(n) * PAGE) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x3000 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 1n, U64_MAX, (1n << 63n) - 1n, 0x200000n, U64_MAX - PAGE, 0xffffffffffffefffn) },
);

const pageOffset = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0n) },
  { weight: 2, arbitrary: fc.constantFrom(0x30n, 0x2a0n, 0x800n, 1n) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xfff }).map(BigInt) },
);

/** User VAs: pages of a realistic heap mapping, sometimes with a sub-page offset; rarely NULL. */
const userVa = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 0, max: 1024 }), pageOffset).map(([n, off]) => HEAP + BigInt(n) * PAGE + off) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 0x55555555a2a0n, U64_MAX - PAGE + 1n) },
);

const mapFlags = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(R, R | W, W, FIXED | R, FIXED | R | W, FIXED | W) },
  { weight: 1, arbitrary: fc.constantFrom(0, FIXED, 8, R | 0x100) },
);

/** COPY sources: mostly inside the low pages where MAPs land, so that many copies find areas. */
const copySource = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: 24 }), fc.constantFrom(0n, 0n, 0x800n, 0x10n)).map(([n, off]) => BigInt(n) * PAGE + off) },
  { weight: 1, arbitrary: iova },
);
const copyLength = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.integer({ min: 1, max: 3 }).map((n) => BigInt(n) * PAGE), fc.integer({ min: 1, max: 0x2000 }).map(BigInt)) },
  { weight: 1, arbitrary: length },
);
const copyFlags = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(R, R, R | W, W, FIXED | R) },
  { weight: 2, arbitrary: mapFlags },
  { weight: 1, arbitrary: fc.constantFrom(R | SYZ, FIXED | R | SYZ) },
);

const range = fc.tuple(iova, length).map(([start, len]) => ({ start, last: BigInt.asUintN(64, start + len - 1n) }));

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(0, 0, 0, 0, 1).map((flags) => ({ op: 'ioasAlloc' as const, args: { flags } })) },
  { weight: 1, arbitrary: id.map((i) => ({ op: 'destroy' as const, args: { id: i } })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(id, fc.array(range, { maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 64 }), { minLength: 3, maxLength: 3 }))
      .map(([ioasId, ranges, singles]) => {
        // Now and then a single-byte range (start == last), which the kernel rejects.
        const pick = singles[0]! % 7 === 0 ? [...ranges, { start: BigInt(singles[1]!) * PAGE, last: BigInt(singles[1]!) * PAGE }] : ranges;
        return { op: 'ioasAllowIovas' as const, args: { ioasId, ranges: pick } };
      }),
  },
  { weight: 1, arbitrary: fc.tuple(id, fc.integer({ min: 0, max: 3 })).map(([ioasId, numIovas]) => ({ op: 'ioasIovaRanges' as const, args: { ioasId, numIovas } })) },
  {
    weight: 10,
    arbitrary: fc.record({ flags: mapFlags, ioasId: id, userVa, length, iova }).map((args) => ({ op: 'ioasMap' as const, args })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({ flags: copyFlags, dstIoasId: id, srcIoasId: id, length: copyLength, dstIova: iova, srcIova: copySource })
      .map((args) => ({ op: 'ioasCopy' as const, args })),
  },
  {
    weight: 4,
    arbitrary: fc.oneof(
      { weight: 4, arbitrary: fc.record({ ioasId: id, iova, length }) },
      { weight: 1, arbitrary: id.map((ioasId) => ({ ioasId, iova: 0n, length: U64_MAX })) },
    ).map((args) => ({ op: 'ioasUnmap' as const, args })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        optionId: fc.constantFrom(0, 1, 1, 1, 2),
        op: fc.constantFrom(0, 1, 1, 2),
        objectId: fc.oneof(id, fc.constant(0)),
        val64: fc.constantFrom(0n, 1n, 1n, 2n),
      })
      .map((args) => ({ op: 'option' as const, args })),
  },
  {
    weight: 1,
    // Reserved ranges: mostly a few pages in the busy window; sometimes the edges where the
    // kernel's {start, length} form bites (full range: zero length, EINVAL; last < start: EOVERFLOW).
    arbitrary: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(id, fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 8 })).map(([ioasId, page, pages]) => ({
          ioasId,
          start: BigInt(page) * PAGE,
          last: BigInt(page + pages) * PAGE - 1n,
        })),
      },
      { weight: 1, arbitrary: fc.tuple(id, iova, iova).map(([ioasId, start, last]) => ({ ioasId, start, last })) },
    ).map((args) => ({ op: 'testAddReserved' as const, args })),
  },
);

/**
 * 2..3 IOASes (so most calls find their object), 4..40 random calls, then probes that expose the
 * final state of ids 1..4: ranges, the HUGE_PAGES option, the bytes an unmap-all removes.
 */
export const operationSequence: fc.Arbitrary<Operation[]> = fc
  .tuple(fc.integer({ min: 2, max: 3 }), fc.array(operation, { minLength: 4, maxLength: 40, size: 'medium' }))
  .map(([ioases, ops]) => [
    ...Array.from({ length: ioases }, (): Operation => ({ op: 'ioasAlloc', args: { flags: 0 } })),
    ...ops,
    ...[1, 2, 3, 4].flatMap((ioasId): Operation[] => [
      { op: 'ioasIovaRanges', args: { ioasId, numIovas: 4 } },
      { op: 'option', args: { optionId: 1, op: 1, objectId: ioasId, val64: 0n } },
      { op: 'ioasUnmap', args: { ioasId, iova: 0n, length: U64_MAX } },
    ]),
    { op: 'ioasAlloc', args: { flags: 0 } },
  ]);

/** Runs one operation on a backend and returns its result (awaited). */
export async function runOperation(backend: DiffBackend, operation: Operation): Promise<unknown> {
  switch (operation.op) {
    case 'ioasAlloc': return backend.ioasAlloc(operation.args);
    case 'destroy': return backend.destroy(operation.args);
    case 'ioasAllowIovas': return backend.ioasAllowIovas(operation.args);
    case 'ioasIovaRanges': return backend.ioasIovaRanges(operation.args);
    case 'ioasMap': return backend.ioasMap(operation.args);
    case 'ioasCopy': return backend.ioasCopy(operation.args);
    case 'ioasUnmap': return backend.ioasUnmap(operation.args);
    case 'option': return backend.option(operation.args);
    case 'testAddReserved': return backend.testAddReserved(operation.args);
  }
}

/** A stable, readable text for a result or an operation: sorted keys, bigints in hex. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `0x${v.toString(16)}`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
