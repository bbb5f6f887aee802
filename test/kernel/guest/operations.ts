// Random uapi operation sequences for the differential test (kernel vs simulator): plain data
// describing one call each, a fast-check generator biased towards the interesting cases (a small
// IOVA window so that areas overlap, page-aligned and byte-granular values, the U64_MAX and 2^63
// edges, ids that exist and ids that do not), and a runner that applies one to any backend.
//
// With a VFIO device (the device VM), `deviceOperationSequence` adds the device calls: bind,
// attach to live and dead IOASes and to the HWPT, detach, unbind, DESTROY of the device and its
// HWPT, and the IOVAs, ranges and user memory an attached device changes the answer for (the
// x86 MSI window, the 39-bit aperture edge, unbacked memory). Device and HWPT ids are chosen by
// the backend, so device calls name them by reference ('device', 'hwpt'), resolved per backend.
import fc from 'fast-check';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  ERRNO,
  isOk,
  U64_MAX,
  type DestroyArgs,
  type DeviceBindArgs,
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
  | { readonly op: 'testAddReserved'; readonly args: ReservedArgs }
  | { readonly op: 'deviceBind' }
  | { readonly op: 'deviceAttach'; readonly args: { readonly dev: DeviceRef; readonly pt: ObjectRef } }
  | { readonly op: 'deviceDetach'; readonly args: { readonly dev: DeviceRef } }
  | { readonly op: 'deviceUnbind'; readonly args: { readonly dev: DeviceRef } }
  | { readonly op: 'destroyRef'; readonly args: { readonly ref: 'device' | 'hwpt' } };

/** The bound device, by reference, or a literal id that is not a bound device. */
export type DeviceRef = 'device' | number;
/** An object id: a literal, or the bound device's id, or the HWPT id its last attach returned. */
export type ObjectRef = 'device' | 'hwpt' | number;

/** A backend the differential test can drive: the uapi contract plus the TEST-kernel op. */
export interface DiffBackend extends UapiContext {
  testAddReserved(args: ReservedArgs): unknown;
}

/**
 * One backend's side of a sequence: the device it binds (path and simulator profile) and the
 * ids its own answers gave, so that references resolve to what this backend allocated. The
 * attachment is tracked too, to label outcomes (`ioasMap[attached]:EFAULT`) for the coverage check.
 */
export interface SequenceSession {
  readonly bind?: DeviceBindArgs;
  deviceId?: number;
  /** Whether `deviceId` is bound now (not yet unbound). */
  deviceBound: boolean;
  hwptId?: number;
  /** The IOAS the device is attached to, and which IOAS each HWPT id seen belongs to. */
  attachedIoas?: number;
  readonly hwptIoas: Map<number, number>;
}

export function newSession(bind?: DeviceBindArgs): SequenceSession {
  return { ...(bind ? { bind } : {}), deviceBound: false, hwptIoas: new Map() };
}

/** An id no backend hands out in a short sequence: what an unresolved reference becomes. */
const NO_OBJECT = 0x7ffffffe;

const PAGE = 0x1000n;
/** A user VA whose low bits are clear up to 4 MiB, like a typical mmap of a large buffer. */
export const HEAP = 0x7f3a_c000_0000n;
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

/** The user memory the device sequences pin: this much is mapped at HEAP in the guest. */
export const HEAP_SIZE = 8n << 20n;

/**
 * User VAs: pages of a realistic heap mapping, sometimes with a sub-page offset; rarely NULL.
 * `odd` are the VAs that are not heap pages (with a device they must be known unbacked).
 */
const userVaFrom = (odd: readonly bigint[], oddWeight: number) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 0, max: 1024 }), pageOffset).map(([n, off]) => HEAP + BigInt(n) * PAGE + off) },
    { weight: oddWeight, arbitrary: fc.constantFrom(...odd) },
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

/** The x86 MSI window and the 39-bit aperture of the device VM's intel-iommu (intel-vtd-39bit). */
const MSI = 0xfee00000n;
const MSI_LAST = 0xfeefffffn;
const APERTURE_END = 1n << 39n;

/** IOVAs an attached device changes the answer for: in, at and around the window; at the aperture edge. */
const deviceIova = fc.constantFrom(
  MSI, MSI + 0x80000n, MSI_LAST - PAGE + 1n, MSI - PAGE, MSI - 2n * PAGE, MSI_LAST + 1n, MSI - 0x100000n,
  APERTURE_END - PAGE, APERTURE_END - 2n * PAGE, APERTURE_END, APERTURE_END + 0x100000n,
);
const deviceLength = fc.constantFrom(PAGE, 2n * PAGE, 0x100000n, 0x200000n);

/**
 * Allowed ranges next to the window (automatic IOVAs then land beside it), over it, and across
 * the aperture edge; with a device attached the overlapping ones are EADDRINUSE.
 */
const deviceRange = fc.constantFrom(
  { start: MSI - 0x100000n, last: MSI - 1n },
  { start: MSI - 0x4000n, last: MSI_LAST + 0x4000n },
  { start: MSI - 0x100000n, last: MSI_LAST + 0x100000n },
  { start: MSI_LAST + 1n, last: MSI_LAST + 0x10000n },
  { start: 0xf0000000n, last: 0xffffffffn },
  { start: APERTURE_END - 0x100000n, last: APERTURE_END - 1n },
  { start: APERTURE_END - 0x10000n, last: APERTURE_END + 0xffffn },
  { start: 0n, last: MSI - 1n },
);

/** The device calls and their references (see ObjectRef). */
const deviceRef: fc.Arbitrary<DeviceRef> = fc.oneof({ weight: 12, arbitrary: fc.constant('device' as const) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, NO_OBJECT) });
const attachTarget: fc.Arbitrary<ObjectRef> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom('hwpt' as const, 'device' as const) },
  { weight: 1, arbitrary: fc.constantFrom(0, 4, 5, NO_OBJECT) },
);
/**
 * Calls aimed at IOAS 1, the one most sequences attach first (see deviceOperationSequence):
 * ALLOW_IOVAS of ranges near the window, automatic MAPs that must find room beside the window (or fail ENOSPC), and COPYs from the
 * pages mapped in IOAS 2, fixed in and around the window or automatic.
 */
const intoAttached: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 1, arbitrary: fc.array(deviceRange, { minLength: 1, maxLength: 2 }).map((ranges) => ({ op: 'ioasAllowIovas' as const, args: { ioasId: 1, ranges } })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 1024 }), fc.oneof(fc.integer({ min: 1, max: 16 }).map((n) => BigInt(n) * PAGE), fc.constantFrom(0x100000n, 0x200000n, 0x400000n)))
      .map(([n, len]) => ({ op: 'ioasMap' as const, args: { flags: R | W, ioasId: 1, userVa: HEAP + BigInt(n) * PAGE, length: len, iova: 0n } })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(R | W, R, FIXED | R | W), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 3 }), fc.oneof(deviceIova, fc.integer({ min: 16, max: 64 }).map((n) => BigInt(n) * PAGE)))
      .map(([flags, page, pages, dstIova]) => ({
        op: 'ioasCopy' as const,
        args: { flags, dstIoasId: 1, srcIoasId: 2, length: BigInt(pages) * PAGE, dstIova, srcIova: BigInt(page) * PAGE },
      })),
  },
);

const deviceCalls: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 3, arbitrary: intoAttached },
  { weight: 2, arbitrary: fc.constant({ op: 'deviceBind' as const }) },
  { weight: 5, arbitrary: fc.tuple(deviceRef, attachTarget).map(([dev, pt]) => ({ op: 'deviceAttach' as const, args: { dev, pt } })) },
  { weight: 2, arbitrary: deviceRef.map((dev) => ({ op: 'deviceDetach' as const, args: { dev } })) },
  { weight: 1, arbitrary: deviceRef.map((dev) => ({ op: 'deviceUnbind' as const, args: { dev } })) },
  { weight: 1, arbitrary: fc.constantFrom('device' as const, 'hwpt' as const).map((ref) => ({ op: 'destroyRef' as const, args: { ref } })) },
);

/** What the device sequences add to the plain generator: the unbacked VA and the device calls. */
export interface DeviceGeneration {
  readonly unbackedVa: bigint;
}

function operationArbitrary(device: DeviceGeneration | undefined): fc.Arbitrary<Operation> {
  // With a device, every odd VA must be one the guest certainly has nothing mapped at.
  const userVa = device ? userVaFrom([0n, device.unbackedVa, device.unbackedVa + 0x2a0n, U64_MAX - PAGE + 1n], 2) : userVaFrom([0n, 0x55555555a2a0n, U64_MAX - PAGE + 1n], 1);
  const iova = device ? fc.oneof({ weight: 5, arbitrary: plainIova }, { weight: 2, arbitrary: deviceIova }) : plainIova;
  const length = device ? fc.oneof({ weight: 5, arbitrary: plainLength }, { weight: 1, arbitrary: deviceLength }) : plainLength;
  const range = device ? fc.oneof({ weight: 3, arbitrary: plainRange }, { weight: 2, arbitrary: deviceRange }) : plainRange;
  const plain = plainOperations({ userVa, iova, length, range });
  return device ? fc.oneof({ weight: 25, arbitrary: plain }, { weight: 6, arbitrary: deviceCalls }) : plain;
}

interface Values {
  readonly userVa: fc.Arbitrary<bigint>;
  readonly iova: fc.Arbitrary<bigint>;
  readonly length: fc.Arbitrary<bigint>;
  readonly range: fc.Arbitrary<{ start: bigint; last: bigint }>;
}

const plainIova = iova;
const plainLength = length;
const plainRange = range;

const plainOperations = ({ userVa, iova, length, range }: Values): fc.Arbitrary<Operation> => fc.oneof(
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

/** The probes that expose the final state of ids 1..4: ranges, HUGE_PAGES, the bytes an unmap-all removes. */
const finalProbes: readonly Operation[] = [1, 2, 3, 4].flatMap((ioasId): Operation[] => [
  { op: 'ioasIovaRanges', args: { ioasId, numIovas: 4 } },
  { op: 'option', args: { optionId: 1, op: 1, objectId: ioasId, val64: 0n } },
  { op: 'ioasUnmap', args: { ioasId, iova: 0n, length: U64_MAX } },
]);

/**
 * 2..3 IOASes (so most calls find their object), 4..40 random calls, then the final probes and
 * one more IOAS_ALLOC (its id shows which ids were freed).
 */
export const operationSequence: fc.Arbitrary<Operation[]> = fc
  .tuple(fc.integer({ min: 2, max: 3 }), fc.array(operationArbitrary(undefined), { minLength: 4, maxLength: 40, size: 'medium' }))
  .map(([ioases, ops]) => [
    ...Array.from({ length: ioases }, (): Operation => ({ op: 'ioasAlloc', args: { flags: 0 } })),
    ...ops,
    ...finalProbes,
    { op: 'ioasAlloc', args: { flags: 0 } },
  ]);

/**
 * The same with the device calls. Most sequences bind the device right after the IOASes and
 * many attach it to IOAS 1 (so that the calls after it meet an attached domain); every sequence
 * ends by unbinding it (the only device must be free for the next sequence; closing the context
 * would free it too) and probing the ranges again, which shows the reserved regions gone; a
 * quarter of them then check the device alone against RLIMIT_MODE (boundAlone).
 */
/**
 * A bound device is an object of the context on its own: with every IOAS destroyed (the ids a
 * sequence can have reached), RLIMIT_MODE SET is EBUSY while it is bound and OK once unbound.
 */
const boundAlone: readonly Operation[] = [
  ...Array.from({ length: 12 }, (_, i): Operation => ({ op: 'destroy', args: { id: i + 1 } })),
  { op: 'deviceBind' },
  { op: 'option', args: { optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, objectId: 0, val64: 0n } },
  { op: 'deviceUnbind', args: { dev: 'device' } },
  { op: 'option', args: { optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, objectId: 0, val64: 0n } },
];

export function deviceOperationSequence(device: DeviceGeneration): fc.Arbitrary<Operation[]> {
  // Mapped in IOAS 2 (never the one attached first), as a source for COPYs into IOAS 1.
  const source: Operation = { op: 'ioasMap', args: { flags: FIXED | R | W, ioasId: 2, userVa: HEAP, length: 8n * PAGE, iova: 0n } };
  const window: Operation = {
    op: 'ioasAllowIovas',
    args: { ioasId: 1, ranges: [{ start: MSI - 0x100000n, last: MSI - 1n }, { start: MSI_LAST + 1n, last: MSI_LAST + 0x100000n }] },
  };
  const start = fc.constantFrom<readonly Operation[]>(
    [],
    [source, { op: 'deviceBind' }, { op: 'deviceAttach', args: { dev: 'device', pt: 1 } }],
    [{ op: 'deviceBind' }, window, { op: 'deviceAttach', args: { dev: 'device', pt: 1 } }],
    [{ op: 'deviceBind' }, window, { op: 'deviceAttach', args: { dev: 'device', pt: 1 } }],
    [{ op: 'deviceBind' }],
    [{ op: 'deviceBind' }, { op: 'deviceAttach', args: { dev: 'device', pt: 1 } }],
    [{ op: 'deviceBind' }, { op: 'deviceAttach', args: { dev: 'device', pt: 1 } }],
    // IOAS 1 allowed only 1 MiB on either side of the window: automatic IOVAs land beside it.
    [source, { op: 'deviceBind' }, window, { op: 'deviceAttach', args: { dev: 'device', pt: 1 } }],
  );
  return fc
    .tuple(
      fc.integer({ min: 2, max: 3 }),
      start,
      fc.array(operationArbitrary(device), { minLength: 4, maxLength: 40, size: 'medium' }),
      fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    )
    .map(([ioases, prefix, ops, alone]) => [
      ...Array.from({ length: ioases }, (): Operation => ({ op: 'ioasAlloc', args: { flags: 0 } })),
      ...prefix,
      ...ops,
      ...finalProbes,
      { op: 'deviceUnbind', args: { dev: 'device' } },
      { op: 'destroyRef', args: { ref: 'hwpt' } },
      ...[1, 2, 3].map((ioasId): Operation => ({ op: 'ioasIovaRanges', args: { ioasId, numIovas: 4 } })),
      ...(alone ? boundAlone : []),
      { op: 'ioasAlloc', args: { flags: 0 } },
    ]);
}

function resolve(session: SequenceSession, ref: ObjectRef): number {
  if (ref === 'device') return session.deviceId ?? NO_OBJECT;
  if (ref === 'hwpt') return session.hwptId ?? NO_OBJECT;
  return ref;
}

/** Runs one operation on a backend and returns its result (awaited); device calls update `session`. */
export async function runOperation(backend: DiffBackend, operation: Operation, session: SequenceSession = newSession()): Promise<unknown> {
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
    case 'destroyRef': return backend.destroy({ id: resolve(session, operation.args.ref) });
    default: return runDeviceCall(backend, operation, session);
  }
}

type DeviceCall = Extract<Operation, { op: 'deviceBind' | 'deviceAttach' | 'deviceDetach' | 'deviceUnbind' }>;

async function runDeviceCall(backend: DiffBackend, operation: DeviceCall, session: SequenceSession): Promise<unknown> {
  const missing = { errno: ERRNO.EOPNOTSUPP, code: 'EOPNOTSUPP' };
  if (operation.op === 'deviceBind') {
    if (session.bind === undefined || backend.deviceBind === undefined) return missing;
    const result = await backend.deviceBind(session.bind);
    if (isOk(result)) {
      session.deviceId = result.devId;
      session.deviceBound = true;
    }
    return result;
  }
  const devId = resolve(session, operation.args.dev);
  const bound = devId === session.deviceId;
  switch (operation.op) {
    case 'deviceAttach': {
      if (backend.deviceAttach === undefined) return missing;
      const target = resolve(session, operation.args.pt);
      const result = await backend.deviceAttach({ devId, ptId: target });
      if (isOk(result) && bound) {
        const ioas = session.hwptIoas.get(target) ?? target;
        session.hwptId = result.ptId;
        session.attachedIoas = ioas;
        session.hwptIoas.set(result.ptId, ioas);
      }
      return result;
    }
    case 'deviceDetach': {
      if (backend.deviceDetach === undefined) return missing;
      const result = await backend.deviceDetach({ devId });
      if (result.errno === 0 && bound) delete session.attachedIoas;
      return result;
    }
    case 'deviceUnbind': {
      if (backend.deviceUnbind === undefined) return missing;
      const result = await backend.deviceUnbind({ devId });
      if (result.errno === 0 && bound) {
        delete session.attachedIoas;
        session.deviceBound = false;
      }
      return result;
    }
  }
}

/**
 * The outcome label of a call for the coverage table: the op, `[attached]` when it names the
 * IOAS the device is attached to (or `[bound]` for a context-wide OPTION while a device is
 * bound), and the result code. Read before the call runs.
 */
export function outcomeLabel(operation: Operation, session: SequenceSession, code: string): string {
  const args = 'args' in operation ? (operation.args as Record<string, unknown>) : {};
  const ioas = args.ioasId ?? args.dstIoasId ?? (operation.op === 'destroy' ? args.id : undefined);
  let where = '';
  if (session.attachedIoas !== undefined && ioas === session.attachedIoas) where = '[attached]';
  else if (operation.op === 'option' && args.objectId === 0 && session.deviceBound) where = '[bound]';
  return `${operation.op}${where}:${code}`;
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
