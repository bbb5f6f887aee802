// A compact IOVA map for terminals: per IOAS one bar along the shared broken axis (one letter
// per entry, so equal IOVAs line up between lanes), then one line per entry with its exact
// range. Plain ASCII unless color is asked for.

import { buildAxis, iovaToX, TOP_PAGE, ZERO_PAGE } from './axis.js';
import type { Axis } from './axis.js';
import { formatHex, formatReserved, formatSize } from './format.js';
import { boxEnd } from './model.js';
import type { Box, BoxStatus, IovaInterval, IovaMap, Lane } from './model.js';
import { STATUS_MARKS } from './palette.js';

export interface TextMapOptions {
  /** Columns to fill (default 80, at least 40). */
  readonly width?: number;
  /** ANSI colors for plan statuses. Default false. */
  readonly color?: boolean;
}

const KEYS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ANSI: Readonly<Record<BoxStatus, string>> = { same: '', add: '\u001b[32m', remove: '\u001b[31m', replace: '\u001b[33m' };
const RESET = '\u001b[0m';

export const TEXT_LEGEND = "A-Z: entries below   -: allowed range   .: nothing   /: empty space, not to scale   ^: zero/top page";

export function renderTextMap(map: IovaMap, options: TextMapOptions = {}): string {
  const width = Math.max(40, options.width ?? 80);
  const barWidth = width - 4;
  const axis = buildAxis(axisInput(map), { width: barWidth, minBoxWidth: 2, breakWidth: 1, shadeWidth: 2, integral: true });
  const paint = (status: BoxStatus, text: string): string => (options.color && status !== 'same' ? `${ANSI[status]}${text}${RESET}` : text);
  const reserved = map.lanes.some((l) => (l.reserved ?? []).length > 0);
  const out: string[] = [reserved ? `${TEXT_LEGEND}   x: reserved by a device` : TEXT_LEGEND];
  for (const lane of map.lanes) {
    out.push('', paint(lane.status ?? 'same', laneHeading(lane)));
    out.push(`  [${bar(axis, lane)}]`);
    const widths = { name: Math.max(4, ...lane.boxes.map((b) => b.name.length)), range: Math.max(0, ...lane.boxes.map((b) => rangeText(b).length)) };
    lane.boxes.forEach((box, i) => out.push(paint(box.status, entryLine(box, keyOf(i), widths))));
    for (const window of lane.reserved ?? []) out.push(`  x   reserved: ${formatReserved(window)}`);
    for (const name of lane.unplaced ?? []) out.push(`  ?   ${name}: kernel-chosen IOVA, not known yet`);
    if (lane.boxes.length === 0 && (lane.unplaced ?? []).length === 0) out.push('  (no mappings)');
  }
  return out.join('\n') + '\n';
}

function axisInput(map: IovaMap): { boxes: IovaInterval[]; shaded: IovaInterval[] } {
  return {
    boxes: map.lanes.flatMap((l) => l.boxes.map((b) => ({ start: b.iova, last: boxEnd(b) - 1n }))),
    shaded: map.lanes.flatMap((l) => [...l.allowed, ...(l.reserved ?? []).map(({ start, last }) => ({ start, last }))]),
  };
}

function laneHeading(lane: Lane): string {
  const mark = lane.status && lane.status !== 'same' ? `${STATUS_MARKS[lane.status]} ` : '';
  const allowed = lane.allowed.length === 0 ? 'any IOVA allowed' : `allowed ${lane.allowed.map((r) => `${formatHex(r.start)}-${formatHex(r.last)}`).join(', ')}`;
  const alignment = lane.alignment !== undefined && lane.alignment > 1n ? `, align ${formatSize(lane.alignment)}` : '';
  return `${mark}${lane.ioas}: ${allowed}${alignment}`;
}

function keyOf(index: number): string {
  return KEYS[index] ?? '#';
}

/** Cells [from, to) of an IOVA interval; at least one cell. */
function cells(axis: Axis, start: bigint, end: bigint): [number, number] {
  const from = Math.floor(iovaToX(axis, start));
  const to = Math.max(from + 1, Math.ceil(iovaToX(axis, end)));
  return [from, Math.min(to, Math.ceil(axis.width))];
}

function bar(axis: Axis, lane: Lane): string {
  const row = new Array<string>(Math.ceil(axis.width)).fill('.');
  for (const piece of axis.pieces) if (piece.kind === 'gap' && piece.broken) fill(row, cells(axis, piece.start, piece.end), '/');
  for (const r of lane.allowed) fill(row, cells(axis, r.start, r.last + 1n), '-');
  for (const r of lane.reserved ?? []) fill(row, cells(axis, r.start, r.last + 1n), 'x');
  for (const page of [ZERO_PAGE, TOP_PAGE]) fill(row, cells(axis, page.start, page.last + 1n), '^');
  const owner = new Array<number>(row.length).fill(-1);
  lane.boxes.forEach((box, i) => {
    const [from, to] = cells(axis, box.iova, boxEnd(box));
    for (let c = from; c < to; c++) {
      row[c] = owner[c]! >= 0 ? '*' : keyOf(i);
      owner[c] = i;
    }
  });
  return row.join('');
}

function fill(row: string[], [from, to]: [number, number], char: string): void {
  for (let c = from; c < to; c++) row[c] = char;
}

function rangeText(box: Box): string {
  return `${formatHex(box.iova)}-${formatHex(boxEnd(box) - 1n)}`;
}

function sourceText(box: Box): string {
  const source = box.source!;
  if (source.boxId) return source.boxId;
  return source.range ? `${source.lane} ${formatHex(source.range.start)}-${formatHex(source.range.last)}` : source.lane;
}

function entryLine(box: Box, key: string, widths: { readonly name: number; readonly range: number }): string {
  const mark = STATUS_MARKS[box.status] || ' ';
  const notes: string[] = [];
  if (box.predicted) notes.push('kernel-chosen, predicted');
  if (box.source) notes.push(`copy of ${sourceText(box)}`);
  if (box.previous) notes.push(`was ${formatHex(box.previous.iova)}-${formatHex(boxEnd(box.previous) - 1n)}`);
  const fields = [`${mark} ${key}`, box.name.padEnd(widths.name), box.kind.padEnd(7), rangeText(box).padEnd(widths.range), formatSize(box.length).padStart(8), box.memory, box.access];
  return `  ${fields.join('  ')}${notes.length > 0 ? `  (${notes.join('; ')})` : ''}`;
}
