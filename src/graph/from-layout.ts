// Filling the view model: from a normalized Layout (fixed IOVAs, plus known or predicted IOVAs
// for automatic ones), and merging a before and an after view into plan statuses.
//
// Inputs are plain data so that the planner and the state code can call these without the
// renderers knowing their types: a Layout, and a list of placements.

import type { Copy, Ioas, Layout, Mapping } from '../model/layout.js';
import { boxEnd } from './model.js';
import { reservedWindows } from './reserved.js';
import type { Box, BoxSource, BoxStatus, IovaInterval, IovaMap, Lane } from './model.js';

/** An IOVA that the kernel chose (or that a simulator predicts) for an automatic entry. */
export interface Placement {
  readonly ioas: string;
  /** Mapping or copy name within the IOAS. */
  readonly entry: string;
  readonly iova: bigint;
  /** True when predicted (plan), false when observed (state). */
  readonly predicted: boolean;
}

/** IOMMU_OPTION_HUGE_PAGES off raises the IOAS alignment to PAGE_SIZE. */
const PAGE_SIZE = 4096n;

export function boxId(ioas: string, kind: Box['kind'], name: string): string {
  return `${ioas}/${kind}.${name}`;
}

/**
 * The view of a layout. An entry without a fixed IOVA is drawn where `placements` puts it;
 * without a placement it is listed in `Lane.unplaced` (and so is a copy whose source range
 * cannot be resolved), never guessed.
 */
export function layoutToIovaMap(layout: Layout, placements: readonly Placement[] = []): IovaMap {
  const placed = new Map(placements.map((p) => [`${p.ioas}\u0000${p.entry}`, p] as const));
  const ioasByName = new Map(layout.ioas.map((ioas) => [ioas.name, ioas] as const));
  const resolved = new Map<string, Box | null>();
  const resolving = new Set<string>();

  function placementOf(ioas: string, name: string, fixed: bigint | null): { iova: bigint; predicted: boolean } | undefined {
    if (fixed !== null) return { iova: fixed, predicted: false };
    const p = placed.get(`${ioas}\u0000${name}`);
    return p ? { iova: p.iova, predicted: p.predicted } : undefined;
  }

  // Boxes of one IOAS, entry by name; copies resolve their source (possibly in another IOAS,
  // possibly another copy) on demand. The parser rejects cycles; the guard only keeps a bad
  // input from recursing forever.
  function entryBox(ioas: Ioas, name: string): Box | null {
    const key = `${ioas.name}\u0000${name}`;
    const done = resolved.get(key);
    if (done !== undefined) return done;
    if (resolving.has(key)) return null;
    resolving.add(key);
    const mapping = ioas.mappings.find((m) => m.name === name);
    const copy = ioas.copies.find((c) => c.name === name);
    const box = mapping ? mappingBox(ioas, mapping) : copy ? copyBox(ioas, copy) : null;
    resolving.delete(key);
    resolved.set(key, box);
    return box;
  }

  function mappingBox(ioas: Ioas, mapping: Mapping): Box | null {
    const at = placementOf(ioas.name, mapping.name, mapping.iova);
    if (!at) return null;
    return {
      id: boxId(ioas.name, 'mapping', mapping.name),
      name: mapping.name,
      kind: 'mapping',
      memory: mapping.memory,
      iova: at.iova,
      length: mapping.length,
      access: mapping.access,
      status: 'same',
      ...(at.predicted ? { predicted: true } : {}),
    };
  }

  function copyBox(ioas: Ioas, copy: Copy): Box | null {
    const at = placementOf(ioas.name, copy.name, copy.iova);
    if (!at) return null;
    const from = copy.from;
    const sourceIoas = ioasByName.get(from.ioas);
    let source: BoxSource;
    let memory: string;
    if (from.kind === 'entry') {
      const sourceBox = sourceIoas ? entryBox(sourceIoas, from.entry) : null;
      const range = sourceBox ? { start: sourceBox.iova + from.offset, last: sourceBox.iova + from.offset + from.length - 1n } : undefined;
      const sourceKind = sourceIoas?.mappings.some((m) => m.name === from.entry) ? 'mapping' : 'copy';
      source = { lane: from.ioas, boxId: boxId(from.ioas, sourceKind, from.entry), ...(range ? { range } : {}) };
      memory = sourceBox?.memory ?? memoryOfEntry(sourceIoas, from.entry) ?? '?';
    } else {
      const range = { start: from.iova, last: from.iova + from.length - 1n };
      source = { lane: from.ioas, range };
      const covering = sourceIoas ? entryNames(sourceIoas).map((n) => entryBox(sourceIoas, n)).filter((b): b is Box => b !== null && overlaps(b, range)) : [];
      memory = [...new Set(covering.sort((a, b) => compare(a.iova, b.iova)).map((b) => b.memory))].join('+') || '?';
    }
    return {
      id: boxId(ioas.name, 'copy', copy.name),
      name: copy.name,
      kind: 'copy',
      memory,
      iova: at.iova,
      length: from.length,
      access: copy.access,
      status: 'same',
      source,
      ...(at.predicted ? { predicted: true } : {}),
    };
  }

  function memoryOfEntry(ioas: Ioas | undefined, name: string): string | undefined {
    return ioas?.mappings.find((m) => m.name === name)?.memory;
  }

  const lanes: Lane[] = layout.ioas.map((ioas) => {
    const reserved = reservedWindows(layout, ioas.name);
    const boxes: Box[] = [];
    const unplaced: string[] = [];
    for (const name of entryNames(ioas)) {
      const box = entryBox(ioas, name);
      if (box) boxes.push(box);
      else unplaced.push(name);
    }
    return {
      ioas: ioas.name,
      ...(ioas.hugePages ? {} : { alignment: PAGE_SIZE }),
      allowed: ioas.allowedIovas.map((r) => ({ start: r.start, last: r.last })),
      boxes: sortBoxes(boxes),
      ...(unplaced.length > 0 ? { unplaced } : {}),
      ...(reserved.length > 0 ? { reserved } : {}),
    };
  });
  return { lanes, memories: layout.memory.map((m) => m.name) };
}

/**
 * A plan's picture: `after`'s boxes, with those only in `before` added back as `remove`.
 * Boxes match by id; a matched box whose IOVA, length, memory, access, kind or source changed
 * is `replace` (and remembers where it was).
 */
export function diffIovaMaps(before: IovaMap, after: IovaMap): IovaMap {
  const beforeLanes = new Map(before.lanes.map((l) => [l.ioas, l] as const));
  const afterNames = new Set(after.lanes.map((l) => l.ioas));
  const lanes: Lane[] = after.lanes.map((lane) => {
    const old = beforeLanes.get(lane.ioas);
    if (!old) return withStatus(lane, 'add');
    const oldBoxes = new Map(old.boxes.map((b) => [b.id, b] as const));
    const newIds = new Set(lane.boxes.map((b) => b.id));
    const boxes: Box[] = lane.boxes.map((box) => {
      const was = oldBoxes.get(box.id);
      if (!was) return { ...box, status: 'add' };
      if (sameBox(was, box)) return { ...box, status: 'same' };
      const moved = was.iova !== box.iova || was.length !== box.length;
      return { ...box, status: 'replace', ...(moved ? { previous: { iova: was.iova, length: was.length } } : {}) };
    });
    for (const was of old.boxes) if (!newIds.has(was.id)) boxes.push({ ...was, status: 'remove' });
    const allowedChanged = !sameIntervals(old.allowed, lane.allowed) || old.alignment !== lane.alignment;
    return { ...lane, boxes: sortBoxes(boxes), status: allowedChanged ? 'replace' : 'same' };
  });
  for (const old of before.lanes) if (!afterNames.has(old.ioas)) lanes.push(withStatus(old, 'remove'));
  const memories = [...new Set([...(after.memories ?? []), ...(before.memories ?? [])])];
  return { lanes, memories };
}

function withStatus(lane: Lane, status: BoxStatus): Lane {
  return { ...lane, status, boxes: lane.boxes.map((b) => ({ ...b, status })) };
}

function sameBox(a: Box, b: Box): boolean {
  return (
    a.kind === b.kind &&
    a.iova === b.iova &&
    a.length === b.length &&
    a.memory === b.memory &&
    a.access === b.access &&
    a.source?.lane === b.source?.lane &&
    a.source?.boxId === b.source?.boxId &&
    sameIntervals(a.source?.range ? [a.source.range] : [], b.source?.range ? [b.source.range] : [])
  );
}

function sameIntervals(a: readonly IovaInterval[], b: readonly IovaInterval[]): boolean {
  return a.length === b.length && a.every((r, i) => r.start === b[i]!.start && r.last === b[i]!.last);
}

function entryNames(ioas: Ioas): string[] {
  return [...ioas.mappings.map((m) => m.name), ...ioas.copies.map((c) => c.name)];
}

function overlaps(box: Box, range: IovaInterval): boolean {
  return box.iova <= range.last && boxEnd(box) - 1n >= range.start;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** By IOVA, then id: the drawing order, stable for golden files. */
function sortBoxes(boxes: Box[]): Box[] {
  return boxes.sort((a, b) => compare(a.iova, b.iova) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
