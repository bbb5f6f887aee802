// The persisted simulator state: plain JSON data (bigints as "0x…" strings) in canonical order
// (objects by id, areas by iova, pages by id, range lists ascending), versioned. Saving and
// restoring is exact: the object ids and the id allocator, every area with its pages object and
// the sharing COPY made, allowed and reserved lists, HUGE_PAGES, the context's RLIMIT mode and
// the options.
import { emptyState, newIoas, resolveOptions, type AccountMode, type ContextState, type ResolvedOptions } from './state.js';
import { IdAllocator, MAX_OBJECT_ID, MIN_OBJECT_ID } from './id-allocator.js';
import type { PagesAccountMode, SimPages } from './pages.js';
import { hex, U64_MAX } from './u64.js';
import type { ReservedIova } from './io-pagetable.js';

export const SIM_SNAPSHOT_FORMAT = 'ioasform-sim-state';
export const SIM_SNAPSHOT_VERSION = 1;

export interface SimSnapshotRange {
  readonly start: string;
  readonly last: string;
  /** Reserved ranges only: the owner (`dev:<id>`, `hwpt:<id>`); absent for a NULL owner. */
  readonly owner?: string;
}

/** A bound device (present only when devices exist: older snapshots have none). */
export interface SimSnapshotDevice {
  readonly id: number;
  readonly path: string;
  readonly profile: {
    readonly name: string;
    readonly reserved: readonly { readonly start: string; readonly last: string; readonly type: string }[];
    readonly aperture: SimSnapshotRange;
    readonly pageSize: string;
  };
  readonly hwptId: number | null;
}

export interface SimSnapshotHwpt {
  readonly id: number;
  readonly ioasId: number;
  readonly profileName: string;
  readonly pageSize: string;
  readonly devices: readonly number[];
}

export interface SimSnapshotPages {
  readonly id: number;
  readonly uptr: string;
  readonly npages: string;
  readonly writable: boolean;
  readonly accountMode: PagesAccountMode;
}

export interface SimSnapshotArea {
  readonly iova: string;
  readonly last: string;
  readonly pagesId: number;
  readonly startByte: string;
  /** WRITEABLE | READABLE bits. */
  readonly flags: number;
}

export interface SimSnapshotIoas {
  readonly id: number;
  readonly type: 'ioas';
  readonly hugePages: boolean;
  readonly allowed: readonly SimSnapshotRange[];
  readonly reserved: readonly SimSnapshotRange[];
  readonly areas: readonly SimSnapshotArea[];
}

export interface SimSnapshot {
  readonly format: typeof SIM_SNAPSHOT_FORMAT;
  readonly version: typeof SIM_SNAPSHOT_VERSION;
  readonly options: { readonly capSysResource: boolean; readonly pageSize: string; readonly testKernel: boolean };
  readonly accountMode: AccountMode;
  readonly nextPagesId: number;
  readonly pages: readonly SimSnapshotPages[];
  readonly objects: readonly SimSnapshotIoas[];
  /** Device model (additive, absent when empty so device-free snapshots stay as they were). */
  readonly devices?: readonly SimSnapshotDevice[];
  readonly hwpts?: readonly SimSnapshotHwpt[];
  /** The backed user VA ranges (absent: not modelled, every VA is backed). */
  readonly userMemory?: readonly SimSnapshotRange[];
  /** RLIMIT_MEMLOCK in bytes (absent: unlimited). */
  readonly memlockLimit?: string;
}

export function encodeState(state: ContextState): SimSnapshot {
  const pages = new Map<number, SimPages>();
  const objects: SimSnapshotIoas[] = [];
  const ids = [...state.objects.keys()].sort((a, b) => a - b);
  for (const id of ids) {
    const { iopt } = state.objects.get(id)!;
    const areas: SimSnapshotArea[] = [];
    for (const area of iopt.areas) {
      pages.set(area.value.pages.id, area.value.pages);
      areas.push({
        iova: hex(area.start),
        last: hex(area.last),
        pagesId: area.value.pages.id,
        startByte: hex(area.value.startByte),
        flags: area.value.prot,
      });
    }
    objects.push({
      id,
      type: 'ioas',
      hugePages: !iopt.disableLargePages,
      allowed: sortedRanges(iopt.allowed).map(encodeRange),
      reserved: sortedReserved(iopt.reserved).map(encodeRange),
      areas,
    });
  }
  const byId = (a: { id: number }, b: { id: number }): number => a.id - b.id;
  const devices: SimSnapshotDevice[] = [...state.devices.values()].sort(byId).map((d) => ({
    id: d.id,
    path: d.path,
    profile: {
      name: d.profile.name,
      reserved: d.profile.reserved.map((r) => ({ start: hex(r.start), last: hex(r.last), type: r.type })),
      aperture: encodeRange(d.profile.aperture),
      pageSize: hex(d.profile.pageSize),
    },
    hwptId: d.hwptId,
  }));
  const hwpts: SimSnapshotHwpt[] = [...state.hwpts.values()].sort(byId).map((h) => ({
    id: h.id,
    ioasId: h.ioasId,
    profileName: h.profileName,
    pageSize: hex(h.pageSize),
    devices: [...h.devices].sort((a, b) => a - b),
  }));
  const extras = {
    ...(devices.length !== 0 ? { devices } : {}),
    ...(hwpts.length !== 0 ? { hwpts } : {}),
    ...(state.userMemory !== null ? { userMemory: state.userMemory.map(encodeRange) } : {}),
    ...(state.options.memlockLimit !== null ? { memlockLimit: hex(state.options.memlockLimit) } : {}),
  };
  return {
    format: SIM_SNAPSHOT_FORMAT,
    version: SIM_SNAPSHOT_VERSION,
    options: {
      capSysResource: state.options.capSysResource,
      pageSize: hex(state.options.pageSize),
      testKernel: state.options.testKernel,
    },
    accountMode: state.accountMode,
    nextPagesId: state.nextPagesId,
    pages: [...pages.values()]
      .sort((a, b) => a.id - b.id)
      .map((p) => ({ id: p.id, uptr: hex(p.uptr), npages: hex(p.npages), writable: p.writable, accountMode: p.accountMode })),
    objects,
    ...extras,
  };
}

/** Range lists in ascending order: their order never affects behaviour, so it is not state. */
function sortedRanges(ranges: readonly { start: bigint; last: bigint }[]): { start: bigint; last: bigint }[] {
  return [...ranges].sort((a, b) => (a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.last < b.last ? -1 : a.last > b.last ? 1 : 0));
}

/** Reserved ranges by start, last, then owner (two owners may reserve the same range). */
function sortedReserved(ranges: readonly ReservedIova[]): ReservedIova[] {
  return [...ranges].sort((a, b) => {
    if (a.start !== b.start) return a.start < b.start ? -1 : 1;
    if (a.last !== b.last) return a.last < b.last ? -1 : 1;
    const ao = a.owner ?? '';
    const bo = b.owner ?? '';
    return ao < bo ? -1 : ao > bo ? 1 : 0;
  });
}

function encodeRange(r: { start: bigint; last: bigint; owner?: string }): SimSnapshotRange {
  return r.owner === undefined ? { start: hex(r.start), last: hex(r.last) } : { start: hex(r.start), last: hex(r.last), owner: r.owner };
}

export type DecodeResult = { readonly ok: true; readonly state: ContextState } | { readonly ok: false; readonly error: string };

/** Rebuilds a context state from snapshot data, checking every invariant the simulator relies on. */
export function decodeState(data: unknown): DecodeResult {
  try {
    return { ok: true, state: decodeOrThrow(data) };
  } catch (error) {
    if (error instanceof SnapshotError) return { ok: false, error: error.message };
    throw error;
  }
}

class SnapshotError extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new SnapshotError(`invalid simulator snapshot: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function u64(value: unknown, what: string): bigint {
  check(typeof value === 'string' && /^0x[0-9a-f]+$/.test(value), `${what} must be a "0x…" hex string`);
  const n = BigInt(value);
  check(n <= U64_MAX, `${what} exceeds 64 bits`);
  return n;
}

function list(value: unknown, what: string): unknown[] {
  check(Array.isArray(value), `${what} must be an array`);
  return value;
}

function record(value: unknown, what: string): Record<string, unknown> {
  check(isRecord(value), `${what} must be an object`);
  return value;
}

function decodeRange(value: unknown, what: string): { start: bigint; last: bigint } {
  const r = record(value, what);
  const start = u64(r.start, `${what}.start`);
  const last = u64(r.last, `${what}.last`);
  check(start <= last, `${what} has start > last`);
  return { start, last };
}

function decodeOrThrow(data: unknown): ContextState {
  const root = record(data, 'snapshot');
  check(root.format === SIM_SNAPSHOT_FORMAT, `format must be "${SIM_SNAPSHOT_FORMAT}"`);
  check(root.version === SIM_SNAPSHOT_VERSION, `unsupported version ${String(root.version)}`);
  const rawOptions = record(root.options, 'options');
  check(typeof rawOptions.capSysResource === 'boolean', 'options.capSysResource must be a boolean');
  check(typeof rawOptions.testKernel === 'boolean', 'options.testKernel must be a boolean');
  let options: ResolvedOptions;
  try {
    options = resolveOptions({
      capSysResource: rawOptions.capSysResource,
      testKernel: rawOptions.testKernel,
      pageSize: u64(rawOptions.pageSize, 'options.pageSize'),
      memlockLimit: root.memlockLimit === undefined ? null : u64(root.memlockLimit, 'memlockLimit'),
    });
  } catch (error) {
    throw new SnapshotError(`invalid simulator snapshot: ${(error as Error).message}`);
  }
  const state = emptyState(options);
  check(root.accountMode === 'none' || root.accountMode === 'user' || root.accountMode === 'mm', 'bad accountMode');
  state.accountMode = root.accountMode;
  check(Number.isSafeInteger(root.nextPagesId) && (root.nextPagesId as number) >= 1, 'bad nextPagesId');
  state.nextPagesId = root.nextPagesId as number;

  const pagesById = new Map<number, SimPages>();
  list(root.pages, 'pages').forEach((raw, i) => {
    const p = record(raw, `pages[${i}]`);
    const id = p.id;
    check(Number.isSafeInteger(id) && (id as number) >= 1 && (id as number) < state.nextPagesId, `pages[${i}].id out of range`);
    check(!pagesById.has(id as number), `pages[${i}].id is duplicated`);
    check(typeof p.writable === 'boolean', `pages[${i}].writable must be a boolean`);
    check(p.accountMode === 'user' || p.accountMode === 'mm', `pages[${i}].accountMode is bad`);
    const uptr = u64(p.uptr, `pages[${i}].uptr`);
    check(uptr % options.pageSize === 0n, `pages[${i}].uptr is not page aligned`);
    pagesById.set(id as number, {
      id: id as number,
      uptr,
      npages: u64(p.npages, `pages[${i}].npages`),
      writable: p.writable,
      accountMode: p.accountMode,
    });
  });

  const usedPages = new Set<number>();
  list(root.objects, 'objects').forEach((raw, i) => {
    const o = record(raw, `objects[${i}]`);
    const id = o.id;
    check(Number.isInteger(id) && (id as number) >= MIN_OBJECT_ID && (id as number) <= MAX_OBJECT_ID, `objects[${i}].id out of range`);
    check(!state.objects.has(id as number), `objects[${i}].id is duplicated`);
    check(o.type === 'ioas', `objects[${i}].type must be "ioas"`);
    check(typeof o.hugePages === 'boolean', `objects[${i}].hugePages must be a boolean`);
    const ioas = newIoas(options);
    const { iopt } = ioas;
    if (!o.hugePages) {
      iopt.disableLargePages = true;
      iopt.iovaAlignment = options.pageSize;
    }
    iopt.allowed = list(o.allowed, `objects[${i}].allowed`).map((r, j) => decodeRange(r, `objects[${i}].allowed[${j}]`));
    iopt.reserved = list(o.reserved, `objects[${i}].reserved`).map((r, j) => decodeReserved(r, `objects[${i}].reserved[${j}]`));
    let previousLast: bigint | null = null;
    list(o.areas, `objects[${i}].areas`).forEach((rawArea, j) => {
      const what = `objects[${i}].areas[${j}]`;
      const a = record(rawArea, what);
      const { start: iova, last } = decodeRange({ start: a.iova, last: a.last }, what);
      check(previousLast === null || iova > previousLast, `${what} overlaps or is out of order`);
      previousLast = last;
      const pages = pagesById.get(a.pagesId as number);
      check(pages !== undefined, `${what}.pagesId names no pages object`);
      usedPages.add(pages.id);
      const startByte = u64(a.startByte, `${what}.startByte`);
      check(a.flags === 2 || a.flags === 4 || a.flags === 6, `${what}.flags must be WRITEABLE and/or READABLE`);
      check(!((a.flags & 2) !== 0 && !pages.writable), `${what} is writeable over read-only pages`);
      check((startByte + (last - iova)) / options.pageSize < pages.npages, `${what} runs past its pages`);
      iopt.areas.insert(iova, last, { pages, startByte, prot: a.flags });
    });
    state.objects.set(id as number, ioas);
  });
  check(usedPages.size === pagesById.size, 'a pages object is referenced by no area');
  decodeDevices(root, state);
  state.ids = IdAllocator.withUsed([...state.objects.keys(), ...state.devices.keys(), ...state.hwpts.keys()]);
  return state;
}

function decodeReserved(value: unknown, what: string): ReservedIova {
  const range = decodeRange(value, what);
  const owner = record(value, what).owner;
  if (owner === undefined) return range;
  check(typeof owner === 'string' && /^(dev|hwpt):\d+$/.test(owner), `${what}.owner is bad`);
  return { ...range, owner };
}

function objectId(value: unknown, what: string): number {
  check(Number.isInteger(value) && (value as number) >= MIN_OBJECT_ID && (value as number) <= MAX_OBJECT_ID, `${what} out of range`);
  return value as number;
}

/** The device model part: devices, their HWPTs (each on an IOAS) and the backed user memory. */
function decodeDevices(root: Record<string, unknown>, state: ContextState): void {
  const taken = (id: number): boolean => state.objects.has(id) || state.devices.has(id) || state.hwpts.has(id);
  list(root.hwpts ?? [], 'hwpts').forEach((raw, i) => {
    const h = record(raw, `hwpts[${i}]`);
    const id = objectId(h.id, `hwpts[${i}].id`);
    check(!taken(id), `hwpts[${i}].id is duplicated`);
    const ioas = state.objects.get(objectId(h.ioasId, `hwpts[${i}].ioasId`));
    check(ioas !== undefined, `hwpts[${i}].ioasId names no IOAS`);
    check(typeof h.profileName === 'string', `hwpts[${i}].profileName must be a string`);
    const pageSize = u64(h.pageSize, `hwpts[${i}].pageSize`);
    check(pageSize >= 1n && (pageSize & (pageSize - 1n)) === 0n && pageSize <= state.options.pageSize, `hwpts[${i}].pageSize is bad`);
    const devices = new Set(list(h.devices, `hwpts[${i}].devices`).map((d, j) => objectId(d, `hwpts[${i}].devices[${j}]`)));
    check(devices.size !== 0, `hwpts[${i}] has no device`);
    state.hwpts.set(id, { id, ioasId: h.ioasId as number, profileName: h.profileName, pageSize, devices });
    ioas.iopt.domains.set(id, pageSize);
  });
  for (const { iopt } of state.objects.values()) {
    let alignment = iopt.disableLargePages ? state.options.pageSize : 1n;
    for (const pageSize of iopt.domains.values()) if (pageSize > alignment) alignment = pageSize;
    iopt.iovaAlignment = alignment;
  }
  list(root.devices ?? [], 'devices').forEach((raw, i) => {
    const d = record(raw, `devices[${i}]`);
    const id = objectId(d.id, `devices[${i}].id`);
    check(!taken(id), `devices[${i}].id is duplicated`);
    check(typeof d.path === 'string', `devices[${i}].path must be a string`);
    const p = record(d.profile, `devices[${i}].profile`);
    check(typeof p.name === 'string', `devices[${i}].profile.name must be a string`);
    const reserved = list(p.reserved, `devices[${i}].profile.reserved`).map((r, j) => {
      const what = `devices[${i}].profile.reserved[${j}]`;
      const type = record(r, what).type;
      check(typeof type === 'string', `${what}.type must be a string`);
      return { ...decodeRange(r, what), type };
    });
    const hwptId = d.hwptId === null ? null : objectId(d.hwptId, `devices[${i}].hwptId`);
    check(hwptId === null || state.hwpts.get(hwptId)?.devices.has(id) === true, `devices[${i}].hwptId does not list the device`);
    state.devices.set(id, {
      id,
      path: d.path,
      profile: { name: p.name, reserved, aperture: decodeRange(p.aperture, `devices[${i}].profile.aperture`), pageSize: u64(p.pageSize, `devices[${i}].profile.pageSize`) },
      hwptId,
    });
  });
  for (const hwpt of state.hwpts.values()) {
    for (const devId of hwpt.devices) check(state.devices.get(devId)?.hwptId === hwpt.id, `hwpt ${hwpt.id} lists device ${devId} that is not attached to it`);
  }
  if (root.userMemory !== undefined) {
    state.userMemory = list(root.userMemory, 'userMemory').map((r, j) => decodeRange(r, `userMemory[${j}]`));
  }
}
