// Drift check: does the backend still hold what the state records? It asks only through the uapi
// (the same calls on the kernel and on the simulator), so it sees what the uapi lets it see:
//   - every recorded IOAS id still exists (IOVA_RANGES answers ENOENT otherwise);
//   - IOVA_RANGES (ranges and alignment) equals what a simulator replaying the recorded state
//     answers, so the rule "what should IOVA_RANGES say" lives in the simulator alone;
//   - OPTION GET of RLIMIT_MODE and of each IOAS's HUGE_PAGES;
//   - the allowed ranges, indirectly: a one-page automatic MAP lands where the replayed simulator
//     puts it (then both are unmapped again), because no uapi call reads the allowed list back;
//   - each recorded area still exists: COPY of its exact IOVA range into a scratch IOAS succeeds
//     (ENOENT means part of it is no longer mapped), then UNMAP of the copy; the scratch IOAS is
//     destroyed at the end;
//   - each recorded device is still bound (IOMMU_GET_HW_INFO on its device id: ENOENT = no such
//     device object) and still attached to its IOAS (the IOAS's IOVA_RANGES still excludes the
//     device's reserved windows and has its page alignment; a detach lifts both).
// What it cannot see is listed in docs/drift.md (extra mappings someone added elsewhere, the user
// VA and access rights behind an area, which of two equal-range areas it is).
import type { SimContext } from '../backends/sim/index.js';
import { deviceAddress, entryAddress, ioasAddress, OPTIONS_ADDRESS } from '../plan/diff.js';
import { profileReservedRanges } from '../model/device-profile.js';
import type { IovaRange, RlimitMode } from '../model/layout.js';
import type { RecordedDevice, RecordedIoas, StateBody } from '../model/recorded.js';
import { recordedProfile, replayOnSimulator } from './replay.js';
import {
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_RLIMIT_MODE,
  isOk,
  type IovaRangesResult,
  type UapiContext,
} from '../model/uapi.js';

export type DriftKind = 'ioas-missing' | 'iova-ranges' | 'option' | 'allowed-iovas' | 'area-missing' | 'device-missing' | 'device-detached' | 'probe-failed';

/** One difference between the recorded state and the backend, as plain data. */
export interface Drift {
  readonly kind: DriftKind;
  /** The plan address of the object (`options`, `ioas.NAME`, `ioas.NAME/mapping.NAME`, `device.NAME`). */
  readonly address: string;
  /** What the state file says, in words. */
  readonly recorded: string;
  /** What the backend says, in words. */
  readonly actual: string;
}

const RLIMIT_VALUE: Record<RlimitMode, bigint> = { user: 0n, process: 1n };
const RANGES_CAPACITY = 64;
const PROBE_LENGTH = 4096n;

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const formatRanges = (ranges: readonly IovaRange[]): string => (ranges.length === 0 ? '[]' : ranges.map((r) => `[${hex(r.start)}, ${hex(r.last)}]`).join(' '));
const describeRanges = (r: IovaRangesResult): string => (isOk(r) ? `${formatRanges(r.ranges)} alignment ${hex(r.outIovaAlignment)}` : r.code);

const sameRanges = (a: IovaRangesResult, b: IovaRangesResult): boolean =>
  isOk(a) && isOk(b)
    ? a.outIovaAlignment === b.outIovaAlignment && a.ranges.length === b.ranges.length && a.ranges.every((r, i) => r.start === b.ranges[i]?.start && r.last === b.ranges[i]?.last)
    : a.errno === b.errno;

/** A page-aligned user VA the probe MAP can name: the first recorded region (MAP is lazy without a device; with one, that memory is the holder's own). */
function probeUserVa(body: StateBody): bigint | null {
  return body.memory[0]?.userVa ?? null;
}

async function checkIoas(ctx: UapiContext, body: StateBody, ioas: RecordedIoas, ranges: IovaRangesResult, expected: SimContext, scratchId: number | null): Promise<Drift[]> {
  const drifts: Drift[] = [];
  const address = ioasAddress(ioas.name);
  const simId = ioas.id;

  const want = expected.ioasIovaRanges({ ioasId: simId, numIovas: RANGES_CAPACITY });
  if (!sameRanges(ranges, want)) drifts.push({ kind: 'iova-ranges', address, recorded: `IOVA_RANGES ${describeRanges(want)}`, actual: `IOVA_RANGES ${describeRanges(ranges)}` });

  const huge = await ctx.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, objectId: ioas.id, val64: 0n });
  const hugeNow = isOk(huge) ? String(huge.val64 !== 0n) : huge.code;
  if (hugeNow !== String(ioas.hugePages)) drifts.push({ kind: 'option', address, recorded: `huge_pages = ${ioas.hugePages}`, actual: `huge_pages = ${hugeNow}` });

  const probeVa = probeUserVa(body);
  if (probeVa !== null) {
    const args = { flags: IOMMU_IOAS_MAP_READABLE, userVa: probeVa, length: PROBE_LENGTH, iova: 0n };
    const got = await ctx.ioasMap({ ...args, ioasId: ioas.id });
    const exp = expected.ioasMap({ ...args, ioasId: simId });
    if (isOk(got)) await ctx.ioasUnmap({ ioasId: ioas.id, iova: got.iova, length: PROBE_LENGTH });
    if (isOk(exp)) expected.ioasUnmap({ ioasId: simId, iova: exp.iova, length: PROBE_LENGTH });
    const show = (r: typeof got): string => (isOk(r) ? `lands at ${hex(r.iova)}` : `fails with ${r.code}`);
    if (isOk(got) !== isOk(exp) || (isOk(got) && isOk(exp) && got.iova !== exp.iova) || (!isOk(got) && !isOk(exp) && got.errno !== exp.errno)) {
      drifts.push({
        kind: 'allowed-iovas',
        address,
        recorded: `allowed_iovas = ${formatRanges(ioas.allowedIovas)}: a one-page automatic MAP ${show(exp)}`,
        actual: `it ${show(got)} (the allowed ranges or the mappings differ)`,
      });
    }
  }

  for (const entry of ioas.entries) {
    const entryAddr = entryAddress(ioas.name, entry.spec.kind, entry.name);
    for (const area of entry.areas) {
      const where = `area [${hex(area.iova)}, ${hex(area.iova + area.length - 1n)}]`;
      if (scratchId === null) {
        drifts.push({ kind: 'probe-failed', address: entryAddr, recorded: where, actual: 'not checked: no scratch IOAS could be allocated' });
        continue;
      }
      const copy = await ctx.ioasCopy({ flags: IOMMU_IOAS_MAP_READABLE, dstIoasId: scratchId, srcIoasId: ioas.id, length: area.length, dstIova: 0n, srcIova: area.iova });
      if (isOk(copy)) {
        await ctx.ioasUnmap({ ioasId: scratchId, iova: copy.dstIova, length: area.length });
      } else if (copy.code === 'ENOENT') {
        drifts.push({ kind: 'area-missing', address: entryAddr, recorded: `${where} mapped`, actual: 'not (fully) mapped any more (COPY of the range: ENOENT)' });
      } else {
        drifts.push({ kind: 'probe-failed', address: entryAddr, recorded: where, actual: `COPY probe failed with ${copy.code}` });
      }
    }
  }
  return drifts;
}

/**
 * Whether IOVA_RANGES shows what an attached device imposes on its IOAS: alignment at least the
 * domain's page size, and no usable range inside one of its reserved windows or outside its
 * aperture. Detaching the device lifts all of it (the kernel drops the device's reservations and
 * the domain's geometry), so a mismatch is an exact sign for a device the profile describes.
 */
function showsAttached(ranges: IovaRangesResult, device: RecordedDevice): boolean | null {
  const profile = recordedProfile(device);
  if (profile === null || !isOk(ranges)) return null;
  const { device: windows, aperture } = profileReservedRanges(profile);
  const reserved = [...windows, ...aperture];
  const overlaps = (a: IovaRange, b: IovaRange): boolean => a.start <= b.last && b.start <= a.last;
  return ranges.outIovaAlignment >= profile.pageSize && !ranges.ranges.some((r) => reserved.some((w) => overlaps(r, w)));
}

/** Bound (GET_HW_INFO) and attached (the IOAS's IOVA_RANGES) for every recorded device. */
async function checkDevices(ctx: UapiContext, body: StateBody, rangesOf: ReadonlyMap<string, IovaRangesResult>): Promise<Drift[]> {
  const drifts: Drift[] = [];
  for (const device of body.devices ?? []) {
    const address = deviceAddress(device.name);
    if (!ctx.deviceInfo) {
      drifts.push({ kind: 'probe-failed', address, recorded: `device id ${device.devId}`, actual: 'not checked: this backend cannot ask about devices' });
      continue;
    }
    const info = await ctx.deviceInfo({ devId: device.devId });
    if (info.code === 'ENOENT') {
      drifts.push({ kind: 'device-missing', address, recorded: `bound as device id ${device.devId}`, actual: 'no such device object (GET_HW_INFO: ENOENT): its VFIO fd was closed' });
      continue;
    }
    if (!isOk(info)) {
      drifts.push({ kind: 'probe-failed', address, recorded: `device id ${device.devId}`, actual: `GET_HW_INFO failed with ${info.code}` });
      continue;
    }
    const ranges = rangesOf.get(device.ioas);
    if (ranges === undefined) {
      drifts.push({ kind: 'device-detached', address, recorded: `attached to ioas.${device.ioas} (HWPT id ${device.ptId})`, actual: `ioas.${device.ioas} is gone, so the device is not attached to it` });
      continue;
    }
    const attached = showsAttached(ranges, device);
    if (attached === null) drifts.push({ kind: 'probe-failed', address, recorded: `attached to ioas.${device.ioas}`, actual: `not checked: no device model recorded for profile '${device.profile}' or IOVA_RANGES failed` });
    else if (!attached) drifts.push({ kind: 'device-detached', address, recorded: `attached to ioas.${device.ioas} (HWPT id ${device.ptId}, profile ${device.profile})`, actual: `IOVA_RANGES ${describeRanges(ranges)} no longer shows its reserved windows and alignment: detached` });
  }
  return drifts;
}

/**
 * Compares the recorded state with the backend through the uapi. Returns [] when everything it can
 * see matches. The backend is left as it was (probe maps and copies are undone, the scratch IOAS
 * destroyed); it must not be used concurrently while this runs.
 */
export async function checkDrift(ctx: UapiContext, body: StateBody): Promise<Drift[]> {
  const drifts: Drift[] = [];
  const rlimit = await ctx.option({ optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_GET, objectId: 0, val64: 0n });
  const want = RLIMIT_VALUE[body.options.rlimitMode];
  if (!isOk(rlimit) || rlimit.val64 !== want) {
    const now = isOk(rlimit) ? (Object.entries(RLIMIT_VALUE).find(([, v]) => v === rlimit.val64)?.[0] ?? String(rlimit.val64)) : rlimit.code;
    drifts.push({ kind: 'option', address: OPTIONS_ADDRESS, recorded: `rlimit_mode = ${body.options.rlimitMode}`, actual: `rlimit_mode = ${now}` });
  }
  // Existence first, before the scratch IOAS takes the lowest free id (which may be a recorded
  // IOAS's id if someone destroyed it).
  const present: { ioas: RecordedIoas; ranges: IovaRangesResult }[] = [];
  for (const ioas of body.ioas) {
    const ranges = await ctx.ioasIovaRanges({ ioasId: ioas.id, numIovas: RANGES_CAPACITY });
    if (ranges.code === 'ENOENT') drifts.push({ kind: 'ioas-missing', address: ioasAddress(ioas.name), recorded: `IOAS id ${ioas.id}`, actual: 'no such IOAS (ENOENT)' });
    else present.push({ ioas, ranges });
  }
  // Devices before the scratch IOAS too: it could take the id of a device that is gone.
  drifts.push(...(await checkDevices(ctx, body, new Map(present.map(({ ioas, ranges }) => [ioas.name, ranges])))));
  if (present.length === 0) return drifts;

  const replayed = replayOnSimulator(body);
  if (!replayed.ok) return [...drifts, { kind: 'probe-failed', address: OPTIONS_ADDRESS, recorded: 'a consistent recorded state', actual: replayed.message }];
  const expected = replayed.sim;
  const needsScratch = present.some(({ ioas }) => ioas.entries.some((e) => e.areas.length > 0));
  let scratchId: number | null = null;
  if (needsScratch) {
    const scratch = await ctx.ioasAlloc({ flags: 0 });
    if (isOk(scratch)) scratchId = scratch.outIoasId;
  }
  try {
    for (const { ioas, ranges } of present) drifts.push(...(await checkIoas(ctx, body, ioas, ranges, expected, scratchId)));
  } finally {
    if (scratchId !== null) await ctx.destroy({ id: scratchId });
    expected.close();
  }
  return drifts;
}
