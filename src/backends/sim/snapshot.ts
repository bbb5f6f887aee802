// The persisted simulator state: plain JSON data (bigints as "0x…" strings) in canonical order
// (objects by id, areas by iova, pages by id, range lists ascending), versioned. Saving and
// restoring is exact: the object ids and the id allocator, every area with its pages object and
// the sharing COPY made, allowed and reserved lists, HUGE_PAGES, the context's RLIMIT mode and
// the options.
import { emptyState, newIoas, resolveOptions, type AccountMode, type ContextState, type ResolvedOptions } from './state.js';
import { IdAllocator, MAX_OBJECT_ID, MIN_OBJECT_ID } from './id-allocator.js';
import type { PagesAccountMode, SimPages } from './pages.js';
import { hex, U64_MAX } from './u64.js';

export const SIM_SNAPSHOT_FORMAT = 'ioasform-sim-state';
export const SIM_SNAPSHOT_VERSION = 1;

export interface SimSnapshotRange {
  readonly start: string;
  readonly last: string;
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
      reserved: sortedRanges(iopt.reserved).map(encodeRange),
      areas,
    });
  }
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
  };
}

/** Range lists in ascending order: their order never affects behaviour, so it is not state. */
function sortedRanges(ranges: readonly { start: bigint; last: bigint }[]): { start: bigint; last: bigint }[] {
  return [...ranges].sort((a, b) => (a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.last < b.last ? -1 : a.last > b.last ? 1 : 0));
}

function encodeRange(r: { start: bigint; last: bigint }): SimSnapshotRange {
  return { start: hex(r.start), last: hex(r.last) };
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
    iopt.reserved = list(o.reserved, `objects[${i}].reserved`).map((r, j) => decodeRange(r, `objects[${i}].reserved[${j}]`));
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
  state.ids = IdAllocator.withUsed(state.objects.keys());
  return state;
}
