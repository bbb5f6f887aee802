// The runner's in-memory working table: the recorded state body held as Maps (IOAS by name, entry
// by name, memory by name) for the length of one run, so each step is a hash lookup and a small
// update instead of a rebuild and re-sort of the whole body. `body()` produces the recorded body
// in exactly the order the immutable per-step updates produced before (see `sorted` below); it
// caches what did not change, so asking after every call costs one IOAS's entries, not the state.

import type { Area } from '../model/step.js';
import type { RecordedDevice, RecordedEntry, RecordedIoas, RecordedMemory, StateBody } from '../model/recorded.js';

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
export const byIova = (a: Area, b: Area): number => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0);

/**
 * A copy of the name-sorted `list` with `row` at its place: inserted (`insert` 1) or replacing
 * the row of the same name (`insert` 0).
 */
function spliced<T extends { name: string }>(list: readonly T[], row: T, insert: 0 | 1): T[] {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.name < row.name) lo = mid + 1;
    else hi = mid;
  }
  const next = list.slice();
  next.splice(lo, 1 - insert, row);
  return next;
}

/**
 * A list keyed by name that materializes like the old immutable updates: in the order it came in
 * (deletions keep the order) until the first insertion, which sorted the whole list by name; from
 * then on it stays sorted by name. Map iteration order is insertion order, so "as it came in" is
 * the Map's own order.
 */
class NamedList<T extends { name: string }> {
  private readonly rows: Map<string, T>;
  private sorted = false;
  private cache: readonly T[] | null;

  constructor(initial: readonly T[]) {
    this.rows = new Map(initial.map((row) => [row.name, row]));
    // Reuse the caller's array until something changes (it is exactly the old body's list).
    this.cache = this.rows.size === initial.length ? initial : null;
  }

  get(name: string): T | undefined {
    return this.rows.get(name);
  }

  has(name: string): boolean {
    return this.rows.has(name);
  }

  /** Replaces a row in place (same name, same position). */
  replace(row: T): void {
    this.rows.set(row.name, row);
    this.cache = this.sorted && this.cache ? spliced(this.cache, row, 0) : null;
  }

  insert(row: T): void {
    // A sorted list already materialized takes the row at its place (O(length) copy, no sort),
    // so asking for the list after every call stays linear in the list, not n log n.
    const splice = this.sorted && this.cache !== null;
    const existed = splice && this.rows.has(row.name);
    this.rows.set(row.name, row);
    this.cache = splice && this.cache ? spliced(this.cache, row, existed ? 0 : 1) : null;
    this.sorted = true;
  }

  delete(name: string): void {
    this.rows.delete(name);
    this.cache = this.cache ? this.cache.filter((row) => row.name !== name) : null;
  }

  values(): IterableIterator<T> {
    return this.rows.values();
  }

  list(): readonly T[] {
    if (!this.cache) {
      const rows = [...this.rows.values()];
      this.cache = this.sorted ? rows.sort(byName) : rows;
    }
    return this.cache;
  }
}

/** One IOAS: its scalar fields and its entries keyed by name. */
class IoasRow {
  readonly entries: NamedList<RecordedEntry>;
  /** The scalar fields; the object's own `entries` is stale (spread keeps the key order). */
  private fields: RecordedIoas;
  private cache: RecordedIoas | null;

  /** `changed` tells the table that its list of IOAS records must be rebuilt. */
  private readonly changed: () => void;

  constructor(ioas: RecordedIoas, changed: () => void) {
    this.changed = changed;
    this.fields = ioas;
    this.entries = new NamedList(ioas.entries);
    this.cache = ioas;
  }

  get name(): string {
    return this.fields.name;
  }

  get id(): number {
    return this.fields.id;
  }

  update(fields: Partial<Pick<RecordedIoas, 'allowedIovas' | 'hugePages'>>): void {
    this.fields = { ...this.fields, ...fields };
    this.cache = null;
    this.changed();
  }

  /** Adds areas to an entry (creating it), areas kept in ascending IOVA order. */
  addAreas(entry: string, spec: RecordedEntry['spec'], add: readonly Area[]): void {
    const old = this.entries.get(entry);
    // A new entry of one area (every MAP) needs no merge and no sort.
    const areas = old === undefined && add.length === 1 ? [add[0] as Area] : [...(old?.areas ?? []), ...add].sort(byIova);
    // The old update removed the entry and re-inserted it with a sort of the whole list.
    this.entries.insert({ name: entry, spec, areas });
    this.cache = null;
    this.changed();
  }

  /** Removes the areas starting at `iovas` from an entry; an entry left without areas goes. */
  removeAreas(entry: string, iovas: ReadonlySet<bigint>): void {
    const old = this.entries.get(entry);
    if (!old) return;
    const left = old.areas.filter((a) => !iovas.has(a.iova));
    if (left.length > 0) this.entries.replace({ ...old, areas: left });
    else this.entries.delete(entry);
    this.cache = null;
    this.changed();
  }

  record(): RecordedIoas {
    this.cache ??= { ...this.fields, entries: this.entries.list() };
    return this.cache;
  }
}


/** The live table of one run. Built once from a body (O(n)); every step updates it in place. */
export class WorkingTable {
  /** The fields other than memory and ioas; its own memory/ioas are stale (kept for key order). */
  private header: StateBody;
  readonly memory: NamedList<RecordedMemory>;
  private readonly ioasRows: NamedList<IoasRow>;
  private ioasCache: readonly RecordedIoas[] | null = null;

  private constructor(body: StateBody) {
    this.header = body;
    this.memory = new NamedList(body.memory);
    this.ioasRows = new NamedList(body.ioas.map((i) => new IoasRow(i, this.changed)));
    this.ioasCache = body.ioas;
  }

  static from(body: StateBody): WorkingTable {
    return new WorkingTable(body);
  }

  ioas(name: string): IoasRow | undefined {
    return this.ioasRows.get(name);
  }

  private readonly changed = (): void => {
    this.ioasCache = null;
  };

  addIoas(ioas: RecordedIoas): void {
    this.ioasRows.insert(new IoasRow(ioas, this.changed));
    this.ioasCache = null;
  }

  deleteIoas(name: string): void {
    this.ioasRows.delete(name);
    this.ioasCache = null;
  }

  device(name: string): RecordedDevice | undefined {
    return this.header.devices?.find((d) => d.name === name);
  }

  /** Devices are few: a sorted array rebuilt per change is fine. The key stays absent when empty. */
  setDevice(device: RecordedDevice): void {
    const others = (this.header.devices ?? []).filter((d) => d.name !== device.name);
    this.header = { ...this.header, devices: [...others, device].sort(byName) };
  }

  deleteDevice(name: string): void {
    const { devices, ...rest } = this.header;
    const left = (devices ?? []).filter((d) => d.name !== name);
    this.header = left.length > 0 ? { ...rest, devices: left } : rest;
  }

  get options(): StateBody['options'] {
    return this.header.options;
  }

  setOptions(options: StateBody['options']): void {
    this.header = { ...this.header, options };
  }

  /** Takes over the fields a committed body adds (journalSeq, the simulator snapshot). */
  adoptHeader(body: StateBody): void {
    this.header = body;
  }

  /** The recorded state body, in canonical order; unchanged parts are shared with earlier bodies. */
  body(): StateBody {
    if (!this.ioasCache) this.ioasCache = this.ioasRows.list().map((row) => row.record());
    return { ...this.header, memory: this.memory.list(), ioas: this.ioasCache };
  }
}

export type { IoasRow };
