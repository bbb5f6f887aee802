// Desired layout vs. recorded state -> Changes, one per address, for people (Terraform's rule:
// changes are for people, steps are for machines). Pure. A change to any attribute of a mapping
// or copy is a replacement (the kernel cannot modify an area); IOAS allowed ranges and huge pages
// change in place; a memory region whose size or backing changes is replaced together with every
// entry using it; an RLIMIT_MODE change replaces everything (the kernel needs an empty context).

import { deviceSourceText, devicesOf, type Copy, type CopySource, type Device, type Ioas, type Layout, type Mapping, type MemoryRegion } from '../model/layout.js';
import type { RecordedEntry, RecordedIoas, RecordedMemory, StateBody } from '../model/recorded.js';
import { entryExtent } from '../model/recorded.js';
import { formatBacking, formatRanges, hex } from '../model/format.js';

export type Action = 'create' | 'delete' | 'replace' | 'update' | 'no-op';
export type ChangeKind = 'options' | 'memory' | 'ioas' | 'mapping' | 'copy' | 'device';

export interface AttributeChange {
  readonly name: string;
  /** Formatted old value; null when the resource is being created. */
  readonly before: string | null;
  /** Formatted new value; null when the resource is being deleted. */
  readonly after: string | null;
  /** True when this attribute's change is why the resource is replaced. */
  readonly forcesReplacement: boolean;
}

export interface Change {
  readonly address: string;
  readonly kind: ChangeKind;
  readonly action: Action;
  /** Why: for replacements and updates one sentence each, e.g. "iova changed". */
  readonly reasons: readonly string[];
  /** All attributes for create/delete; for replace/update/no-op, all with changed ones marked. */
  readonly attributes: readonly AttributeChange[];
  /** For created/replaced automatic entries: the IOVA the kernel will pick (from prediction). */
  readonly predictedIova?: bigint;
}

export const OPTIONS_ADDRESS = 'options';
export const memoryAddress = (name: string): string => `memory.${name}`;
export const ioasAddress = (name: string): string => `ioas.${name}`;
export const deviceAddress = (name: string): string => `device.${name}`;
export const entryAddress = (ioas: string, kind: 'mapping' | 'copy', name: string): string => `ioas.${ioas}/${kind}.${name}`;

type Attrs = ReadonlyMap<string, string>;

function mappingAttrs(m: Mapping): Attrs {
  return new Map([
    ['memory', m.memory],
    ['offset', hex(m.offset)],
    ['length', hex(m.length)],
    ['iova', m.iova === null ? '(auto)' : hex(m.iova)],
    ['access', m.access],
  ]);
}

export function formatCopySource(from: CopySource): string {
  return from.kind === 'entry'
    ? `ioas.${from.ioas}/${from.entry} + ${hex(from.offset)}`
    : `ioas.${from.ioas} @ ${hex(from.iova)}`;
}

function copyAttrs(c: Copy): Attrs {
  return new Map([
    ['from', formatCopySource(c.from)],
    ['length', hex(c.from.length)],
    ['iova', c.iova === null ? '(auto)' : hex(c.iova)],
    ['access', c.access],
  ]);
}

function ioasAttrs(i: { allowedIovas: Ioas['allowedIovas']; hugePages: boolean }): Attrs {
  return new Map([
    ['allowed_iovas', formatRanges(i.allowedIovas)],
    ['huge_pages', String(i.hugePages)],
  ]);
}

function deviceAttrs(d: Device): Attrs {
  return new Map([
    ['source', deviceSourceText(d.source)],
    ['ioas', d.ioas],
    ['profile', d.profile],
  ]);
}

function memoryAttrs(m: MemoryRegion): Attrs {
  return new Map([
    ['size', hex(m.size)],
    ['backing', formatBacking(m.backing)],
  ]);
}

/** Makes (or hands out again) one attribute row; rows are never changed after they are made. */
type RowMaker = (name: string, before: string | null, after: string | null, forcesReplacement: boolean) => AttributeChange;

/** Distinct rows kept per attribute name; beyond it (offsets, fixed IOVAs) rows are just made. */
const SHARED_ROWS_PER_NAME = 4096;

/**
 * A RowMaker that hands out one object for equal rows (same name, values and flag): a plan of
 * 100k entries has ~500k rows, most of them repeating a few values (access, length, "(auto)",
 * the memory region), and it is alive for the whole command. Rows of an attribute with more
 * distinct values than SHARED_ROWS_PER_NAME stop being looked up, so the table stays small.
 */
function sharedRows(): RowMaker {
  const tables = new Map<string, Map<string, AttributeChange> | null>();
  return (name, before, after, forcesReplacement) => {
    let table = tables.get(name);
    if (table === undefined) {
      table = new Map();
      tables.set(name, table);
    }
    if (table === null) return { name, before, after, forcesReplacement };
    // null and strings are told apart by the marker (a formatted value never holds \u0001).
    const key = `${before ?? '\u0001'}\u0000${after ?? '\u0001'}\u0000${forcesReplacement ? 1 : 0}`;
    const known = table.get(key);
    if (known) return known;
    const row = { name, before, after, forcesReplacement };
    if (table.size >= SHARED_ROWS_PER_NAME) tables.set(name, null);
    else table.set(key, row);
    return row;
  };
}

/** Attribute rows comparing two attribute maps (either may be absent). */
function compareAttrs(row: RowMaker, before: Attrs | null, after: Attrs | null, forcing: boolean): AttributeChange[] {
  const names = [...new Set([...(before?.keys() ?? []), ...(after?.keys() ?? [])])];
  return names.map((name) => {
    const b = before?.get(name) ?? null;
    const found = after?.get(name) ?? null;
    // An unchanged value keeps one string for both sides (when the row is not shared anyway).
    const a = found === b ? b : found;
    return row(name, b, a, forcing && before !== null && after !== null && a !== b);
  });
}

function changedNames(rows: readonly AttributeChange[]): string[] {
  return rows.filter((r) => r.before !== r.after).map((r) => r.name);
}

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [i.name, i]));
}

interface DesiredEntry {
  readonly name: string;
  readonly kind: 'mapping' | 'copy';
  readonly attrs: Attrs;
  readonly mapping?: Mapping;
  readonly copy?: Copy;
}

function desiredEntries(ioas: Ioas): DesiredEntry[] {
  return [
    ...ioas.mappings.map((m) => ({ name: m.name, kind: 'mapping' as const, attrs: mappingAttrs(m), mapping: m })),
    ...ioas.copies.map((c) => ({ name: c.name, kind: 'copy' as const, attrs: copyAttrs(c), copy: c })),
  ];
}

function recordedAttrs(e: RecordedEntry): Attrs {
  return e.spec.kind === 'mapping' ? mappingAttrs(e.spec.mapping) : copyAttrs(e.spec.copy);
}

/**
 * Computes the changes. Replacement propagates: an entry is replaced when its memory region is,
 * when its copy source is replaced or deleted (the copy shares the old pages), or when the
 * RLIMIT_MODE change empties the context. Changes come in a stable order: options, memory,
 * then each IOAS followed by its entries (desired order, then recorded-only ones).
 */
export function diff(desired: Layout, recorded: StateBody): Change[] {
  const changes: Change[] = [];
  const row = sharedRows();
  const rlimitChanges = desired.options.rlimitMode !== recorded.options.rlimitMode;
  const rlimitReason = recorded.ioas.length > 0
    ? `rlimit_mode changes ${recorded.options.rlimitMode} -> ${desired.options.rlimitMode}: the kernel accepts RLIMIT_MODE only on an empty iommufd context, so every IOAS is destroyed and recreated`
    : `rlimit_mode changes ${recorded.options.rlimitMode} -> ${desired.options.rlimitMode}: set first, while the iommufd context is still empty (the kernel accepts it only then)`;

  changes.push({
    address: OPTIONS_ADDRESS,
    kind: 'options',
    action: rlimitChanges ? 'update' : 'no-op',
    reasons: rlimitChanges ? [rlimitReason] : [],
    attributes: [{ name: 'rlimit_mode', before: recorded.options.rlimitMode, after: desired.options.rlimitMode, forcesReplacement: false }],
  });

  // Memory regions.
  const recordedMemory = byName<RecordedMemory>(recorded.memory);
  const desiredMemory = byName(desired.memory);
  const replacedMemory = new Set<string>();
  for (const m of desired.memory) {
    const old = recordedMemory.get(m.name);
    if (!old) {
      changes.push({ address: memoryAddress(m.name), kind: 'memory', action: 'create', reasons: [], attributes: compareAttrs(row, null, memoryAttrs(m), false) });
      continue;
    }
    const rows = compareAttrs(row, memoryAttrs(old), memoryAttrs(m), true);
    const changed = changedNames(rows);
    if (changed.length > 0) replacedMemory.add(m.name);
    changes.push({
      address: memoryAddress(m.name),
      kind: 'memory',
      action: changed.length > 0 ? 'replace' : 'no-op',
      reasons: changed.map((n) => `${n} changed`),
      attributes: rows,
    });
  }
  for (const old of recorded.memory) {
    if (!desiredMemory.has(old.name)) {
      changes.push({ address: memoryAddress(old.name), kind: 'memory', action: 'delete', reasons: [], attributes: compareAttrs(row, memoryAttrs(old), null, false) });
    }
  }

  // Entries first decide their own fate, then replacement propagates through copy sources until
  // nothing changes (copies of copies).
  const recordedIoas = byName<RecordedIoas>(recorded.ioas);
  const desiredIoas = byName(desired.ioas);
  type Fate = { action: Action; reasons: string[]; rows: AttributeChange[]; recorded?: RecordedEntry; desired?: DesiredEntry; ioas: string };
  const fates = new Map<string, Fate>();
  const entryKey = (ioas: string, name: string): string => `${ioas}\u0000${name}`;

  for (const ioas of desired.ioas) {
    const old = recordedIoas.get(ioas.name);
    const oldEntries = byName(old?.entries ?? []);
    for (const d of desiredEntries(ioas)) {
      const r = oldEntries.get(d.name);
      if (!r || r.spec.kind !== d.kind) {
        fates.set(entryKey(ioas.name, d.name), { action: 'create', reasons: [], rows: compareAttrs(row, null, d.attrs, false), desired: d, ioas: ioas.name });
        continue;
      }
      const rows = compareAttrs(row, recordedAttrs(r), d.attrs, true);
      const reasons = changedNames(rows).map((n) => `${n} changed`);
      if (rlimitChanges) reasons.push('the IOAS is recreated for the rlimit_mode change');
      if (d.mapping && replacedMemory.has(d.mapping.memory)) reasons.push(`memory.${d.mapping.memory} is replaced`);
      fates.set(entryKey(ioas.name, d.name), { action: reasons.length > 0 ? 'replace' : 'no-op', reasons, rows, recorded: r, desired: d, ioas: ioas.name });
    }
  }
  for (const old of recorded.ioas) {
    const desiredNames = new Set(desiredIoas.has(old.name) ? desiredEntries(desiredIoas.get(old.name)!).map((d) => d.name) : []);
    for (const r of old.entries) {
      const key = entryKey(old.name, r.name);
      const kept = fates.get(key);
      if (desiredNames.has(r.name) && kept?.recorded) continue;
      // Gone from the layout, or its kind changed (then a create under the other address exists).
      const deleteKey = kept ? `${key}\u0000deleted` : key;
      fates.set(deleteKey, { action: 'delete', reasons: [], rows: compareAttrs(row, recordedAttrs(r), null, false), recorded: r, ioas: old.name });
    }
  }

  // A copy shares its source's pages, so it must follow only when the bytes it was copied from
  // change (the source's memory, offset or length, or its memory region) or the source goes; a
  // source that merely moves to another IOVA or changes access still holds the same pages. A copy
  // from a raw IOVA range follows any replacement of what covers the range.
  const CONTENT = /^(memory|offset|length|from) changed$|^memory\..* is replaced$|^its source/;
  const goneOrReplaced = (ioas: string, name: string, byIova: boolean): string | null => {
    const fate = fates.get(entryKey(ioas, name));
    if (!fate) return null;
    if (fate.action === 'replace' && (byIova || fate.reasons.some((r) => CONTENT.test(r)))) return 'replaced';
    const deleted = fates.get(`${entryKey(ioas, name)}\u0000deleted`);
    if (fate.action === 'delete' || deleted) return 'deleted';
    return null;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const fate of fates.values()) {
      if (!fate.desired?.copy || fate.reasons.some((r) => r.startsWith('its source'))) continue;
      if (fate.action !== 'no-op' && fate.action !== 'replace') continue;
      const from = fate.desired.copy.from;
      const sources = copySourceEntries(from, recorded);
      for (const source of sources) {
        const what = goneOrReplaced(from.ioas, source, from.kind === 'iova');
        if (what) {
          const kind = fates.get(entryKey(from.ioas, source))?.recorded?.spec.kind ?? 'mapping';
          fate.action = 'replace';
          fate.reasons.push(`its source ${entryAddress(from.ioas, kind, source)} is ${what} (a copy shares the source's pages)`);
          changed = true;
          break;
        }
      }
    }
  }

  for (const ioas of desired.ioas) {
    const old = recordedIoas.get(ioas.name);
    if (!old) {
      changes.push({ address: ioasAddress(ioas.name), kind: 'ioas', action: 'create', reasons: [], attributes: compareAttrs(row, null, ioasAttrs(ioas), false) });
    } else {
      const rows = compareAttrs(row, ioasAttrs(old), ioasAttrs(ioas), false);
      const changedAttrs = changedNames(rows);
      const action: Action = rlimitChanges ? 'replace' : changedAttrs.length > 0 ? 'update' : 'no-op';
      const reasons = rlimitChanges ? [rlimitReason] : changedAttrs.map((n) => `${n} changed (in place)`);
      changes.push({ address: ioasAddress(ioas.name), kind: 'ioas', action, reasons, attributes: rows });
    }
    for (const fate of fates.values()) {
      if (fate.ioas !== ioas.name) continue;
      changes.push(entryChange(fate));
    }
  }
  for (const old of recorded.ioas) {
    if (desiredIoas.has(old.name)) continue;
    changes.push({ address: ioasAddress(old.name), kind: 'ioas', action: 'delete', reasons: [], attributes: compareAttrs(row, ioasAttrs(old), null, false) });
    for (const fate of fates.values()) if (fate.ioas === old.name) changes.push(entryChange(fate));
  }
  changes.push(...deviceChanges(desired, recorded, rlimitChanges, row));
  return changes;
}

/**
 * Devices last: any change of a device (its IOAS, cdev or profile) is a detach and an attach, and
 * so is the RLIMIT_MODE change (a bound device is an object, and the option needs none).
 */
function deviceChanges(desired: Layout, recorded: StateBody, rlimitChanges: boolean, row: RowMaker): Change[] {
  const changes: Change[] = [];
  const recordedDevices = byName<Device>(recorded.devices ?? []);
  const desiredDevices = byName(devicesOf(desired));
  for (const d of devicesOf(desired)) {
    const old = recordedDevices.get(d.name);
    if (!old) {
      changes.push({ address: deviceAddress(d.name), kind: 'device', action: 'create', reasons: [], attributes: compareAttrs(row, null, deviceAttrs(d), false) });
      continue;
    }
    const rows = compareAttrs(row, deviceAttrs(old), deviceAttrs(d), true);
    const reasons = changedNames(rows).map((n) => (n === 'ioas' ? `ioas changed ${old.ioas} -> ${d.ioas} (detach, then attach)` : `${n} changed`));
    if (rlimitChanges) reasons.push('the device is detached and unbound for the rlimit_mode change (the context must hold no objects)');
    changes.push({ address: deviceAddress(d.name), kind: 'device', action: reasons.length > 0 ? 'replace' : 'no-op', reasons, attributes: rows });
  }
  for (const old of recorded.devices ?? []) {
    if (!desiredDevices.has(old.name)) {
      changes.push({ address: deviceAddress(old.name), kind: 'device', action: 'delete', reasons: [], attributes: compareAttrs(row, deviceAttrs(old), null, false) });
    }
  }
  return changes;
}

function entryChange(fate: { action: Action; reasons: string[]; rows: AttributeChange[]; recorded?: RecordedEntry; desired?: DesiredEntry; ioas: string }): Change {
  const kind = fate.desired?.kind ?? fate.recorded!.spec.kind;
  const name = fate.desired?.name ?? fate.recorded!.name;
  return { address: entryAddress(fate.ioas, kind, name), kind, action: fate.action, reasons: fate.reasons, attributes: fate.rows };
}

/**
 * The names of the recorded entries a copy reads from: the named entry, or every entry of the
 * source IOAS whose recorded areas intersect a raw IOVA source range.
 */
export function copySourceEntries(from: CopySource, recorded: StateBody): string[] {
  if (from.kind === 'entry') return [from.entry];
  const ioas = recorded.ioas.find((i) => i.name === from.ioas);
  if (!ioas) return [];
  const last = from.iova + from.length - 1n;
  return ioas.entries
    .filter((e) => {
      const extent = entryExtent(e);
      return extent !== null && extent.iova <= last && from.iova <= extent.iova + extent.length - 1n;
    })
    .map((e) => e.name);
}

export function countActions(changes: readonly Change[]): { add: number; replace: number; destroy: number; update: number } {
  const count = (a: Action): number => changes.filter((c) => c.action === a && c.kind !== 'options').length;
  return { add: count('create'), replace: count('replace'), destroy: count('delete'), update: count('update') + changes.filter((c) => c.kind === 'options' && c.action === 'update').length };
}

export function hasChanges(changes: readonly Change[]): boolean {
  return changes.some((c) => c.action !== 'no-op');
}
