// Written layout (the JS value of the YAML document, integers as bigint) -> normalized Layout:
// sizes parsed exactly, defaults filled (offset 0, length = rest of the region or entry, access
// rw, huge_pages true, rlimit_mode user, allowed_iovas []), copy sources in their two kinds.
//
// Normalization is lenient on purpose, so that one run reports every problem: the schema has
// already reported malformed values, so an element with a malformed field is kept with
// placeholder values and marked `malformed` (rules skip it), and an element whose default length
// depends on a broken or unknown reference is marked `unresolved` (rules skip range checks on it).
// The only diagnostics produced here are the ones the schema cannot see: numbers beyond 64 bits.

import type { Diagnostic } from '../diagnostics.js';
import type { Access, Backing, Copy, CopySource, Device, Ioas, IovaRange, Layout, Mapping, MemoryRegion, RlimitMode } from '../model/layout.js';
import { U64_MAX } from '../model/uapi.js';
import { diagnosticAt, type DocPath, type SourceLocator } from './source.js';
import { formatHex, parseSize } from './sizes.js';

export type Element = MemoryRegion | Ioas | Mapping | Copy | IovaRange | Device;

export interface NormalizeResult {
  readonly layout: Layout;
  /** Elements with a malformed field (already reported by the schema): rules skip them. */
  readonly malformed: ReadonlySet<Element>;
  /** Elements whose length could not be derived (unknown/broken reference, cycle). */
  readonly unresolved: ReadonlySet<Element>;
  /** The written path of every normalized element, for diagnostics. */
  readonly origin: ReadonlyMap<Element, DocPath>;
  readonly diagnostics: readonly Diagnostic[];
}

type Written = Readonly<Record<string, unknown>>;

function record(value: unknown): Written {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Written) : {};
}

function entries(value: unknown): [string, Written][] {
  return Object.entries(record(value)).map(([name, item]) => [name, record(item)]);
}

const ACCESS: readonly Access[] = ['r', 'w', 'rw'];

export function normalizeLayout(written: unknown, locator: SourceLocator): NormalizeResult {
  const malformed = new Set<Element>();
  const unresolved = new Set<Element>();
  const origin = new Map<Element, DocPath>();
  const diagnostics: Diagnostic[] = [];
  const root = record(written);

  /** An exact size at `path`: undefined when absent; 'bad' when malformed or beyond 64 bits. */
  const sizeAt = (container: Written, key: string, path: DocPath): bigint | undefined | 'bad' => {
    if (!Object.hasOwn(container, key)) return undefined;
    const parsed = parseSize(container[key]);
    if (parsed.ok) return parsed.value;
    if (parsed.kind === 'range') {
      diagnostics.push(diagnosticAt(locator, { code: 'value-out-of-range', message: parsed.reason, path: [...path, key] }));
    }
    return 'bad';
  };
  const accessAt = (container: Written): Access | 'bad' => {
    const access = container['access'] ?? 'rw';
    return ACCESS.includes(access as Access) ? (access as Access) : 'bad';
  };

  // --- memory regions ---
  const memory: MemoryRegion[] = [];
  for (const [name, w] of entries(root['memory'])) {
    const path = ['memory', name];
    const size = sizeAt(w, 'size', path);
    const backing = backingOf(w['backing'], (key) => sizeAt(record(w['backing']), key, [...path, 'backing']));
    const region: MemoryRegion = {
      name,
      size: typeof size === 'bigint' ? size : 0n,
      backing: backing === 'bad' ? { kind: 'anonymous' } : backing,
    };
    if (typeof size !== 'bigint' || backing === 'bad') malformed.add(region);
    origin.set(region, path);
    memory.push(region);
  }
  const regionByName = new Map(memory.map((region) => [region.name, region]));

  // --- IOASes with their mappings; copies are drafted and resolved afterwards ---
  interface CopyDraft {
    readonly ioas: string;
    readonly name: string;
    readonly path: DocPath;
    readonly from: DraftSource | 'bad';
    readonly iova: bigint | null | 'bad';
    readonly access: Access | 'bad';
  }
  type DraftSource =
    | { kind: 'entry'; ioas: string; entry: string; offset: bigint; length: bigint | undefined }
    | { kind: 'iova'; ioas: string; iova: bigint; length: bigint };

  const ioasDrafts: { name: string; path: DocPath; allowed: IovaRange[]; hugePages: boolean; mappings: Mapping[]; copies: CopyDraft[]; bad: boolean }[] = [];
  for (const [name, w] of entries(root['ioas'])) {
    const path = ['ioas', name];
    const allowed: IovaRange[] = [];
    const writtenRanges = Array.isArray(w['allowed_iovas']) ? (w['allowed_iovas'] as unknown[]) : [];
    writtenRanges.forEach((item, index) => {
      const range = rangeOf(record(item), [...path, 'allowed_iovas', index]);
      if (range) allowed.push(range);
    });
    const hugePages = w['huge_pages'] ?? true;

    const mappings: Mapping[] = [];
    for (const [entry, m] of entries(w['mappings'])) {
      const mpath = [...path, 'mappings', entry];
      const memoryName = typeof m['memory'] === 'string' ? m['memory'] : undefined;
      const offset = sizeAt(m, 'offset', mpath) ?? 0n;
      const length = sizeAt(m, 'length', mpath);
      const iova = sizeAt(m, 'iova', mpath) ?? null;
      const access = accessAt(m);
      const region = memoryName === undefined ? undefined : regionByName.get(memoryName);
      let resolvedLength: bigint | undefined;
      if (typeof length === 'bigint') resolvedLength = length;
      else if (length === undefined && region && !malformed.has(region) && typeof offset === 'bigint' && offset <= region.size) {
        resolvedLength = region.size - offset;
      }
      const mapping: Mapping = {
        name: entry,
        memory: memoryName ?? '',
        offset: typeof offset === 'bigint' ? offset : 0n,
        length: resolvedLength ?? 0n,
        iova: iova === 'bad' ? null : iova,
        access: access === 'bad' ? 'rw' : access,
      };
      if (memoryName === undefined || offset === 'bad' || length === 'bad' || iova === 'bad' || access === 'bad') malformed.add(mapping);
      else if (resolvedLength === undefined) unresolved.add(mapping);
      origin.set(mapping, mpath);
      mappings.push(mapping);
    }

    const copies: CopyDraft[] = [];
    for (const [entry, c] of entries(w['copies'])) {
      const cpath = [...path, 'copies', entry];
      copies.push({
        ioas: name,
        name: entry,
        path: cpath,
        from: sourceOf(c['from'], [...cpath, 'from']),
        iova: sizeAt(c, 'iova', cpath) ?? null,
        access: accessAt(c),
      });
    }
    ioasDrafts.push({ name, path, allowed, hugePages: typeof hugePages === 'boolean' ? hugePages : true, mappings, copies, bad: typeof hugePages !== 'boolean' });
  }

  // --- copy lengths: a copy's default length is the rest of its source entry, which may itself
  // be a copy; resolved depth-first with a visiting set so that cycles stay unresolved. ---
  const draftsByIoas = new Map(ioasDrafts.map((d) => [d.name, d]));
  const copyLength = new Map<CopyDraft, bigint | undefined>();
  const visiting = new Set<CopyDraft>();
  // Name lookups by hash (first of a name wins, like find()); a linear find per copy made this
  // O(copies x mappings).
  const firstByName = <T extends { name: string }>(items: readonly T[]): Map<string, T> => {
    const byName = new Map<string, T>();
    for (const item of items) if (!byName.has(item.name)) byName.set(item.name, item);
    return byName;
  };
  const mappingsByIoas = new Map([...draftsByIoas].map(([name, d]) => [name, firstByName(d.mappings)]));
  const copiesByIoas = new Map([...draftsByIoas].map(([name, d]) => [name, firstByName(d.copies)]));
  const entryLength = (ioasName: string, entry: string): bigint | undefined => {
    const mapping = mappingsByIoas.get(ioasName)?.get(entry);
    if (mapping) return malformed.has(mapping) || unresolved.has(mapping) ? undefined : mapping.length;
    const copy = copiesByIoas.get(ioasName)?.get(entry);
    return copy ? lengthOfCopy(copy) : undefined;
  };
  const lengthOfCopy = (copy: CopyDraft): bigint | undefined => {
    if (copyLength.has(copy)) return copyLength.get(copy);
    if (visiting.has(copy) || copy.from === 'bad') return undefined;
    visiting.add(copy);
    let length: bigint | undefined;
    if (copy.from.kind === 'iova' || copy.from.length !== undefined) {
      length = copy.from.length;
    } else {
      const whole = entryLength(copy.from.ioas, copy.from.entry);
      length = whole !== undefined && copy.from.offset <= whole ? whole - copy.from.offset : undefined;
    }
    visiting.delete(copy);
    copyLength.set(copy, length);
    return length;
  };

  const ioas: Ioas[] = ioasDrafts.map((draft) => {
    const copies = draft.copies.map((c): Copy => {
      const length = lengthOfCopy(c);
      const from: CopySource =
        c.from === 'bad'
          ? { kind: 'entry', ioas: '', entry: '', offset: 0n, length: 0n }
          : c.from.kind === 'iova'
            ? c.from
            : { kind: 'entry', ioas: c.from.ioas, entry: c.from.entry, offset: c.from.offset, length: length ?? 0n };
      const copy: Copy = { name: c.name, from, iova: c.iova === 'bad' ? null : c.iova, access: c.access === 'bad' ? 'rw' : c.access };
      if (c.from === 'bad' || c.iova === 'bad' || c.access === 'bad') malformed.add(copy);
      else if (length === undefined) unresolved.add(copy);
      origin.set(copy, c.path);
      return copy;
    });
    const result: Ioas = { name: draft.name, allowedIovas: draft.allowed, hugePages: draft.hugePages, mappings: draft.mappings, copies };
    if (draft.bad) malformed.add(result);
    origin.set(result, draft.path);
    return result;
  });

  // --- devices (the key is kept absent when the file has none, see Layout.devices) ---
  const devices: Device[] = [];
  for (const [name, w] of entries(root['devices'])) {
    const path = ['devices', name];
    const source: Device['source'] | undefined =
      typeof w['path'] === 'string' ? { kind: 'path', path: w['path'] } : typeof w['pci'] === 'string' ? { kind: 'pci', address: w['pci'] } : undefined;
    const device: Device = {
      name,
      source: source ?? { kind: 'path', path: '' },
      ioas: typeof w['ioas'] === 'string' ? w['ioas'] : '',
      profile: typeof w['profile'] === 'string' ? w['profile'] : '',
    };
    if (source === undefined || typeof w['ioas'] !== 'string' || typeof w['profile'] !== 'string') malformed.add(device);
    origin.set(device, path);
    devices.push(device);
  }

  const rlimitMode: RlimitMode = record(root['options'])['rlimit_mode'] === 'process' ? 'process' : 'user';
  const layout: Layout = { version: 1, options: { rlimitMode }, memory, ioas, ...(devices.length > 0 ? { devices } : {}) };
  return { layout, malformed, unresolved, origin, diagnostics };

  // --- helpers that need the closure (diagnostics, origin) ---

  function rangeOf(w: Written, path: DocPath): IovaRange | undefined {
    const start = sizeAt(w, 'start', path);
    const last = sizeAt(w, 'last', path);
    const size = sizeAt(w, 'size', path);
    if (typeof start !== 'bigint') return undefined;
    let end: bigint;
    if (typeof last === 'bigint' && size === undefined) end = last;
    else if (typeof size === 'bigint' && last === undefined) {
      if (size === 0n) {
        diagnostics.push(diagnosticAt(locator, { code: 'allowed-range-inverted', message: 'an allowed range of size 0 is empty', path: [...path, 'size'] }));
        return undefined;
      }
      end = start + size - 1n;
      if (end > U64_MAX) {
        diagnostics.push(diagnosticAt(locator, {
          code: 'iova-overflow',
          message: `start ${formatHex(start)} + size ${formatHex(size)} goes past the end of the 64-bit IOVA space`,
          path,
        }));
        return undefined;
      }
    } else return undefined;
    const range: IovaRange = { start, last: end };
    origin.set(range, path);
    return range;
  }

  function sourceOf(from: unknown, path: DocPath): DraftSource | 'bad' {
    const entryRef = (ref: unknown) => {
      if (typeof ref !== 'string') return undefined;
      const dot = ref.indexOf('.');
      return dot > 0 ? { ioas: ref.slice(0, dot), entry: ref.slice(dot + 1) } : undefined;
    };
    if (typeof from === 'string') {
      const ref = entryRef(from);
      return ref ? { kind: 'entry', ...ref, offset: 0n, length: undefined } : 'bad';
    }
    const w = record(from);
    if (typeof w['ioas'] === 'string') {
      const iova = sizeAt(w, 'iova', path);
      const length = sizeAt(w, 'length', path);
      return typeof iova === 'bigint' && typeof length === 'bigint' ? { kind: 'iova', ioas: w['ioas'], iova, length } : 'bad';
    }
    const ref = entryRef(w['mapping']);
    const offset = sizeAt(w, 'offset', path) ?? 0n;
    const length = sizeAt(w, 'length', path);
    if (!ref || offset === 'bad' || length === 'bad') return 'bad';
    return { kind: 'entry', ...ref, offset, length };
  }
}

function backingOf(written: unknown, sizeOf: (key: string) => bigint | undefined | 'bad'): Backing | 'bad' {
  if (written === undefined) return { kind: 'anonymous' };
  const w = record(written);
  switch (w['kind']) {
    case 'anonymous':
      return { kind: 'anonymous' };
    case 'memfd':
      return { kind: 'memfd' };
    case 'hugetlb': {
      const pageSize = sizeOf('page_size');
      return typeof pageSize === 'bigint' ? { kind: 'hugetlb', pageSize } : 'bad';
    }
    case 'file':
      return typeof w['path'] === 'string' && w['path'] !== '' ? { kind: 'file', path: w['path'] } : 'bad';
    default:
      return 'bad';
  }
}
