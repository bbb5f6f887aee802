// Canonical formatting, two ways:
//  - formatLayoutText: what `ioasform fmt` does to a file. It keeps the author's comments,
//    blank lines, names, order of named items and spelling of every value (`2MiB` stays `2MiB`),
//    and makes the rest canonical: 2-space indentation and one key order per kind of map.
//  - formatLayout: writes a normalized Layout as canonical YAML (sizes with binary units,
//    addresses in hex). parseLayoutText(formatLayout(l)).layout equals l (a property test).

import { Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, YAMLMap, YAMLSeq, type Pair } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import type { Backing, Copy, CopySource, Layout, Mapping } from '../model/layout.js';
import { sortDiagnostics, yamlDiagnostic } from './parse.js';
import { formatSize } from './sizes.js';
import { sourceLocator } from './source.js';

/** The canonical key order of each kind of map; unknown keys keep their place after these. */
const KEY_ORDER = {
  root: ['version', 'options', 'memory', 'ioas', 'devices'],
  options: ['rlimit_mode'],
  region: ['size', 'backing'],
  backing: ['kind', 'page_size', 'path'],
  ioas: ['huge_pages', 'allowed_iovas', 'mappings', 'copies'],
  range: ['start', 'last', 'size'],
  mapping: ['memory', 'offset', 'length', 'iova', 'access'],
  copy: ['from', 'iova', 'access'],
  source: ['mapping', 'ioas', 'offset', 'iova', 'length'],
  device: ['path', 'pci', 'ioas', 'profile'],
} as const;
type MapKind = keyof typeof KEY_ORDER;

/** For each kind of map: what kind each key's value is (`named:` = a map of named items). */
const CHILDREN: Readonly<Record<MapKind, Readonly<Record<string, MapKind | `named:${MapKind}` | `list:${MapKind}`>>>> = {
  root: { options: 'options', memory: 'named:region', ioas: 'named:ioas', devices: 'named:device' },
  options: {},
  region: { backing: 'backing' },
  backing: {},
  ioas: { allowed_iovas: 'list:range', mappings: 'named:mapping', copies: 'named:copy' },
  range: {},
  mapping: {},
  copy: { from: 'source' },
  source: {},
  device: {},
};

export interface FormatResult {
  /** The canonical text; absent when the YAML cannot be read. */
  readonly text?: string;
  readonly diagnostics: readonly Diagnostic[];
}

export function formatLayoutText(text: string, file = '<input>'): FormatResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: false, lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const locator = sourceLocator(doc, lineCounter, file);
    return { diagnostics: sortDiagnostics(doc.errors.map((error) => yamlDiagnostic(error, locator, 'error'))) };
  }
  keepingLeadingComment(doc.contents, () => reorder(doc.contents, 'root'));
  return { text: doc.toString(TO_STRING), diagnostics: [] };
}

/**
 * The comment block at the top of a file (the schema line, a description) belongs to the file,
 * but yaml attaches it to the first key. When reordering moves another key first, the block
 * moves to the new first key, so it stays at the top.
 */
function keepingLeadingComment(root: unknown, reorderRoot: () => void): void {
  const firstKey = (): Scalar | undefined => {
    const pair = isMap(root) ? root.items[0] : undefined;
    return pair && isScalar(pair.key) ? pair.key : undefined;
  };
  const before = firstKey();
  reorderRoot();
  const after = firstKey();
  if (!before || !after || before === after || before.commentBefore === undefined) return;
  after.commentBefore = after.commentBefore === undefined ? before.commentBefore : `${before.commentBefore}\n${after.commentBefore}`;
  before.commentBefore = undefined;
  // The blank line that separated the old first key from the comment goes with the comment.
  after.spaceBefore = before.spaceBefore;
}

const TO_STRING = { indent: 2, indentSeq: true, lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false } as const;

function reorder(node: unknown, kind: MapKind): void {
  if (!isMap(node)) return;
  const order: readonly string[] = KEY_ORDER[kind];
  const rank = (pair: Pair<unknown, unknown>) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const index = order.indexOf(key);
    return index === -1 ? order.length : index;
  };
  // A stable sort: known keys in canonical order, unknown keys after them as written.
  node.items = node.items
    .map((pair, index) => ({ pair, index }))
    .sort((a, b) => rank(a.pair) - rank(b.pair) || a.index - b.index)
    .map(({ pair }) => pair);
  for (const pair of node.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const child = CHILDREN[kind][String(pair.key.value)];
    if (child === undefined) continue;
    if (child.startsWith('named:')) {
      if (isMap(pair.value)) for (const item of pair.value.items) reorder(item.value, child.slice(6) as MapKind);
    } else if (child.startsWith('list:')) {
      if (isSeq(pair.value)) for (const item of pair.value.items) reorder(item, child.slice(5) as MapKind);
    } else {
      reorder(pair.value, child as MapKind);
    }
  }
}

// --- Layout -> YAML ---

export const SCHEMA_COMMENT = '# yaml-language-server: $schema=../schema/layout.schema.json';

function hexNode(value: bigint): Scalar<bigint> {
  const scalar = new Scalar(value);
  scalar.format = 'HEX';
  return scalar;
}

function sizeNode(value: bigint): Scalar<bigint | string> {
  const written = formatSize(value);
  // Plain decimal spellings must stay integers; unit spellings are strings.
  return /^[0-9]+$/.test(written) ? new Scalar(value) : written.startsWith('0x') ? hexNode(value) : new Scalar(written);
}

function map(entries: readonly [string, unknown][], flow = false): YAMLMap {
  const node = new YAMLMap();
  for (const [key, value] of entries) node.add({ key: new Scalar(key), value } as Pair<Scalar<string>, unknown>);
  // An empty map can only be written in flow style (`{}`).
  node.flow = flow || entries.length === 0;
  return node;
}

function backingNode(backing: Backing): YAMLMap {
  switch (backing.kind) {
    case 'hugetlb':
      return map([['kind', new Scalar('hugetlb')], ['page_size', sizeNode(backing.pageSize)]], true);
    case 'file':
      return map([['kind', new Scalar('file')], ['path', new Scalar(backing.path)]], true);
    default:
      return map([['kind', new Scalar(backing.kind)]], true);
  }
}

function mappingNode(mapping: Mapping, regionSize: bigint | undefined): YAMLMap {
  const entries: [string, unknown][] = [['memory', new Scalar(mapping.memory)]];
  if (mapping.offset !== 0n) entries.push(['offset', sizeNode(mapping.offset)]);
  // The length is written unless it is the default (the rest of the region).
  if (regionSize === undefined || mapping.length !== regionSize - mapping.offset) entries.push(['length', sizeNode(mapping.length)]);
  if (mapping.iova !== null) entries.push(['iova', hexNode(mapping.iova)]);
  if (mapping.access !== 'rw') entries.push(['access', new Scalar(mapping.access)]);
  return map(entries);
}

function sourceNode(from: CopySource): unknown {
  if (from.kind === 'iova') {
    return map([['ioas', new Scalar(from.ioas)], ['iova', hexNode(from.iova)], ['length', sizeNode(from.length)]], true);
  }
  const ref = `${from.ioas}.${from.entry}`;
  // An explicit length is always written for sub-ranges: the default depends on the source.
  return map([['mapping', new Scalar(ref)], ['offset', sizeNode(from.offset)], ['length', sizeNode(from.length)]], true);
}

function copyNode(copy: Copy): YAMLMap {
  const entries: [string, unknown][] = [['from', sourceNode(copy.from)]];
  if (copy.iova !== null) entries.push(['iova', hexNode(copy.iova)]);
  if (copy.access !== 'rw') entries.push(['access', new Scalar(copy.access)]);
  return map(entries);
}

/** A normalized Layout as canonical YAML text, starting with the editor schema comment. */
export function formatLayout(layout: Layout, schemaComment: string | null = SCHEMA_COMMENT): string {
  const regionSize = new Map(layout.memory.map((m) => [m.name, m.size]));
  const root: [string, unknown][] = [['version', new Scalar(1n)]];
  if (layout.options.rlimitMode !== 'user') root.push(['options', map([['rlimit_mode', new Scalar(layout.options.rlimitMode)]])]);
  root.push(['memory', map(layout.memory.map((m) => {
    const fields: [string, unknown][] = [['size', sizeNode(m.size)]];
    if (m.backing.kind !== 'anonymous') fields.push(['backing', backingNode(m.backing)]);
    return [m.name, map(fields)];
  }))]);
  root.push(['ioas', map(layout.ioas.map((ioas) => {
    const fields: [string, unknown][] = [];
    if (!ioas.hugePages) fields.push(['huge_pages', new Scalar(false)]);
    if (ioas.allowedIovas.length > 0) {
      const seq = new YAMLSeq();
      for (const range of ioas.allowedIovas) seq.add(map([['start', hexNode(range.start)], ['last', hexNode(range.last)]], true));
      fields.push(['allowed_iovas', seq]);
    }
    if (ioas.mappings.length > 0) fields.push(['mappings', map(ioas.mappings.map((m) => [m.name, mappingNode(m, regionSize.get(m.memory))]))]);
    if (ioas.copies.length > 0) fields.push(['copies', map(ioas.copies.map((c) => [c.name, copyNode(c)]))]);
    return [ioas.name, map(fields)];
  }))]);
  const devices = layout.devices ?? [];
  if (devices.length > 0) {
    root.push(['devices', map(devices.map((d) => {
      const source: [string, unknown] = d.source.kind === 'path' ? ['path', new Scalar(d.source.path)] : ['pci', new Scalar(d.source.address)];
      return [d.name, map([source, ['ioas', new Scalar(d.ioas)], ['profile', new Scalar(d.profile)]])];
    }))]);
  }
  const doc = new Document(map(root));
  if (schemaComment !== null) doc.commentBefore = schemaComment.replace(/^#/, '');
  return doc.toString(TO_STRING);
}
