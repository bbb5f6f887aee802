// Geometry of a picture: where lanes, boxes, labels, links and ticks go. No markup here, so the
// placement rules (every box visible, labels never overlapping) can be tested as numbers; svg.ts
// only turns a Scene into text.

import { axisTicks, buildAxis, iovaToX, TOP_PAGE, ZERO_PAGE } from './axis.js';
import type { Axis, Tick } from './axis.js';
import { formatHex, formatReserved, formatSize } from './format.js';
import { boxEnd } from './model.js';
import type { Box, IovaInterval, IovaMap, Lane } from './model.js';
import { STATUS_MARKS } from './palette.js';

export interface SceneOptions {
  /** Total width in pixels (default 1200); the picture grows when the content needs more. */
  readonly width?: number;
  /** A heading drawn above the axis. */
  readonly title?: string;
}

/** Monospace metrics: DejaVu Sans Mono / Menlo advance is about 0.6 em. */
export const CHAR_EM = 0.61;
export const NAME_SIZE = 11.5;
export const DETAIL_SIZE = 10.5;
export const TICK_SIZE = 10;

export function textWidth(text: string, size: number): number {
  return [...text].length * size * CHAR_EM;
}

const GUTTER = 150;
const RIGHT_MARGIN = 20;
const BOX_HEIGHT = 48;
const TRACK_GAP = 6;
const LANE_PAD = 12;
/** Room under a lane for copy links to curve into the next lane. */
const LANE_BOTTOM = 14;
const LINK_ROOM = 34;
const CALLOUT_TOP_GAP = 8;
const CALLOUT_ROW = 30;
const CALLOUT_SPACING = 10;
const NOTE_HEIGHT = 16;
const LANE_MIN_HEIGHT = 64;
const LABEL_PAD = 6;
/** The source-range bracket sits just outside the band, clear of the box borders. */
const SOURCE_OFFSET = 4;
const LINE_HEIGHT = 13;

export interface LabelLine {
  readonly text: string;
  readonly size: number;
  readonly bold: boolean;
}

export interface BoxGeometry {
  readonly box: Box;
  readonly domId: string;
  readonly x1: number;
  readonly x2: number;
  readonly y: number;
  readonly height: number;
  /** True: the label sits inside the box; false: in a callout row below the lane's band. */
  readonly inside: boolean;
  readonly lines: readonly LabelLine[];
  /** The label block: left, top, width, height (inside the box or in its callout row). */
  readonly label: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** For callouts: the leader line from the box to the label. */
  readonly leader?: { readonly x: number; readonly y1: number; readonly y2: number };
}

export interface LaneGeometry {
  readonly lane: Lane;
  readonly y: number;
  readonly height: number;
  readonly bandY: number;
  readonly bandHeight: number;
  readonly boxes: readonly BoxGeometry[];
  readonly allowed: readonly { readonly x1: number; readonly x2: number }[];
  /** Outlines where replaced entries were before. */
  readonly ghosts: readonly { readonly domId: string; readonly x1: number; readonly x2: number; readonly y: number; readonly height: number; readonly label?: string }[];
  readonly note?: { readonly text: string; readonly y: number };
  /**
   * Windows attached devices reserve: drawn hatched over the band (`kind` inside when it fits),
   * each labelled on its own line under the lane, starting below the window where there is room.
   */
  readonly reserved: readonly ReservedGeometry[];
}

export interface ReservedGeometry {
  readonly x1: number;
  readonly x2: number;
  /** The short name drawn inside the hatch, when it fits. */
  readonly kind?: string;
  /** The full label, e.g. `MSI 0xfee0_0000-0xfeef_ffff (device.nic0)`. */
  readonly text: string;
  readonly labelX: number;
  readonly labelY: number;
}

export interface LinkGeometry {
  readonly copyDomId: string;
  readonly memory: string;
  /** The source range on the source lane. */
  readonly source: { readonly x1: number; readonly x2: number; readonly y: number };
  readonly path: string;
}

export interface Scene {
  readonly width: number;
  readonly title?: string;
  /** x of IOVA 0; every axis x is offset by it. */
  readonly x0: number;
  readonly axis: Axis;
  readonly axisY: number;
  readonly ticks: readonly Tick[];
  readonly tickRowY: readonly [number, number];
  readonly pageMarks: readonly { readonly x1: number; readonly x2: number; readonly caption: string; readonly captionY: number }[];
  readonly breaks: readonly number[];
  readonly lanesTop: number;
  readonly lanesBottom: number;
  readonly lanes: readonly LaneGeometry[];
  readonly links: readonly LinkGeometry[];
  readonly legendY: number;
}

export function buildScene(map: IovaMap, options: SceneOptions = {}): Scene {
  const requested = options.width ?? 1200;
  const axis = fittingAxis(axisInput(map), requested - GUTTER - RIGHT_MARGIN);
  const width = Math.max(requested, GUTTER + axis.width + RIGHT_MARGIN);
  const x0 = GUTTER;
  const X = (iova: bigint): number => x0 + iovaToX(axis, iova);

  const top = options.title !== undefined ? 44 : 10;
  const captionY = top + 10;
  const tickRowY: [number, number] = [top + 26, top + 39];
  const axisY = top + 46;
  const ticks = axisTicks(axis, (iova) => textWidth(formatHex(iova), TICK_SIZE), 8, { min: 4 - x0, max: width - x0 - 4 }).map((t) => ({
    ...t,
    x: t.x + x0,
    labelX: t.labelX + x0,
  }));
  const pageMarks = [
    { interval: ZERO_PAGE, caption: 'page 0' },
    { interval: TOP_PAGE, caption: 'top page' },
  ].map(({ interval, caption }) => ({ x1: X(interval.start), x2: X(interval.last + 1n), caption, captionY }));
  const breaks = axis.pieces.filter((p) => p.kind === 'gap' && p.broken).map((p) => x0 + p.x + p.width / 2);

  const lanes: LaneGeometry[] = [];
  let y = axisY + 12;
  const linkRoom = lanesWithLinksBelow(map);
  map.lanes.forEach((lane, laneIndex) => {
    const geometry = laneGeometry(lane, laneIndex, y, X, width, linkRoom.has(laneIndex) ? LINK_ROOM : LANE_BOTTOM);
    lanes.push(geometry);
    y += geometry.height;
  });
  const links = copyLinks(lanes, X);
  return {
    width,
    ...(options.title !== undefined ? { title: options.title } : {}),
    x0,
    axis,
    axisY,
    ticks,
    tickRowY,
    pageMarks,
    breaks,
    lanesTop: axisY + 12,
    lanesBottom: y,
    lanes,
    links,
    legendY: y + 18,
  };
}

/**
 * Boxes as wide as a three-line label (104 px) when the width allows, narrower (labels then
 * move to callout rows) before the picture grows past the requested width.
 */
const MIN_BOX_WIDTHS = [104, 84, 64, 48, 36, 26, 18] as const;

function fittingAxis(input: { boxes: IovaInterval[]; shaded: IovaInterval[] }, width: number): Axis {
  let axis: Axis | undefined;
  for (const minBoxWidth of MIN_BOX_WIDTHS) {
    axis = buildAxis(input, { width, minBoxWidth, breakWidth: 26, holeWidth: 8, shadeWidth: 36 });
    if (axis.width <= width + 0.5) break;
  }
  return axis!;
}

/** Lanes that some copy in a later lane takes pages from: their links need room to curve. */
function lanesWithLinksBelow(map: IovaMap): Set<number> {
  const index = new Map(map.lanes.map((l, i) => [l.ioas, i] as const));
  const out = new Set<number>();
  map.lanes.forEach((lane, to) => {
    for (const box of lane.boxes) {
      const from = box.source?.range ? index.get(box.source.lane) : undefined;
      if (from !== undefined && from < to) out.add(to - 1);
    }
  });
  return out;
}

function axisInput(map: IovaMap): { boxes: IovaInterval[]; shaded: IovaInterval[] } {
  const boxes: IovaInterval[] = [];
  const shaded: IovaInterval[] = [];
  for (const lane of map.lanes) {
    shaded.push(...lane.allowed, ...(lane.reserved ?? []).map(({ start, last }) => ({ start, last })));
    for (const box of lane.boxes) {
      boxes.push({ start: box.iova, last: boxEnd(box) - 1n });
      if (box.previous) boxes.push({ start: box.previous.iova, last: boxEnd(box.previous) - 1n });
    }
  }
  return { boxes, shaded };
}

/** Boxes that overlap in one lane (a plan's removed and added entries) go on separate tracks. */
function assignTracks(boxes: readonly Box[]): number[] {
  const trackEnds: bigint[] = [];
  return boxes.map((box) => {
    let track = trackEnds.findIndex((end) => end <= box.iova);
    if (track < 0) track = trackEnds.push(0n) - 1;
    trackEnds[track] = boxEnd(box);
    return track;
  });
}

/** Longer names are cut in the picture (the tooltip and the table have them whole). */
const MAX_LABEL_CHARS = 32;

function shortName(name: string): string {
  const chars = [...name];
  return chars.length <= MAX_LABEL_CHARS ? name : `${chars.slice(0, MAX_LABEL_CHARS - 1).join('')}…`;
}

function labelLines(box: Box): LabelLine[] {
  const mark = STATUS_MARKS[box.status];
  const name = mark ? `${mark} ${shortName(box.name)}` : shortName(box.name);
  const iova = `${box.predicted ? '≈' : ''}${formatHex(box.iova)}`;
  return [
    { text: name, size: NAME_SIZE, bold: true },
    { text: iova, size: DETAIL_SIZE, bold: false },
    { text: `${formatSize(box.length)} ${box.access}`, size: DETAIL_SIZE, bold: false },
  ];
}

function blockWidth(lines: readonly LabelLine[]): number {
  return Math.max(...lines.map((l) => textWidth(l.text, l.size)));
}

function laneGeometry(lane: Lane, laneIndex: number, y: number, X: (iova: bigint) => number, width: number, bottomPad: number): LaneGeometry {
  const tracks = assignTracks(lane.boxes);
  const trackCount = Math.max(1, ...tracks.map((t) => t + 1));
  const bandY = y + LANE_PAD;
  const bandHeight = trackCount * (BOX_HEIGHT + TRACK_GAP) - TRACK_GAP;
  const calloutTop = bandY + bandHeight + CALLOUT_TOP_GAP;

  const placed: { row: number; left: number; right: number; leaderX: number }[] = [];
  const boxes: BoxGeometry[] = [];
  lane.boxes.forEach((box, boxIndex) => {
    const [x1, x2] = [X(box.iova), X(boxEnd(box))];
    const boxY = bandY + tracks[boxIndex]! * (BOX_HEIGHT + TRACK_GAP);
    const lines = labelLines(box);
    const domId = `lane${laneIndex}-box${boxIndex}`;
    const insideWidth = blockWidth(lines);
    if (insideWidth <= x2 - x1 - 2 * LABEL_PAD) {
      boxes.push({ box, domId, x1, x2, y: boxY, height: BOX_HEIGHT, inside: true, lines, label: { x: x1 + LABEL_PAD, y: boxY + 4, width: insideWidth, height: 3 * LINE_HEIGHT } });
      return;
    }
    // A callout: two lines (name; IOVA and size) in the first row where it collides with nothing.
    const [nameLine, iovaLine, sizeLine] = lines as [LabelLine, LabelLine, LabelLine];
    const calloutLines: LabelLine[] = [nameLine, { text: `${iovaLine.text} · ${sizeLine.text}`, size: DETAIL_SIZE, bold: false }];
    const w = blockWidth(calloutLines);
    const leaderX = (x1 + x2) / 2;
    const left = Math.min(Math.max(leaderX - w / 2, 4), width - RIGHT_MARGIN - w);
    const right = left + w;
    const row = calloutRow(placed, left, right, leaderX);
    placed.push({ row, left, right, leaderX });
    const labelY = calloutTop + row * CALLOUT_ROW;
    boxes.push({
      box,
      domId,
      x1,
      x2,
      y: boxY,
      height: BOX_HEIGHT,
      inside: false,
      lines: calloutLines,
      label: { x: left, y: labelY, width: w, height: 2 * LINE_HEIGHT },
      leader: { x: leaderX, y1: boxY + BOX_HEIGHT, y2: labelY },
    });
  });

  const rows = placed.length === 0 ? 0 : Math.max(...placed.map((p) => p.row)) + 1;
  let bottom = bandY + bandHeight + (rows > 0 ? CALLOUT_TOP_GAP + rows * CALLOUT_ROW - 4 : 0);
  const unplaced = lane.unplaced ?? [];
  let note: LaneGeometry['note'];
  if (unplaced.length > 0) {
    note = { text: `kernel-chosen, IOVA not known: ${unplaced.join(', ')}`, y: bottom + 14 };
    bottom += NOTE_HEIGHT;
  }
  const reserved: ReservedGeometry[] = [];
  for (const window of lane.reserved ?? []) {
    const [x1, x2] = [X(window.start), X(window.last + 1n)];
    const text = formatReserved(window);
    const labelX = Math.max(4, Math.min(x1, width - RIGHT_MARGIN - textWidth(text, DETAIL_SIZE)));
    const fitsKind = textWidth(window.kind, DETAIL_SIZE) <= x2 - x1 - 2 * LABEL_PAD;
    reserved.push({ x1, x2, ...(fitsKind ? { kind: window.kind } : {}), text, labelX, labelY: bottom + 14 });
    bottom += NOTE_HEIGHT;
  }
  const height = Math.max(LANE_MIN_HEIGHT, bottom + bottomPad - y);
  const ghosts = boxes
    .filter((g) => g.box.previous)
    .map((g) => {
      const previous = g.box.previous!;
      const [gx1, gx2] = [X(previous.iova), X(boxEnd(previous))];
      // "was <name>" inside the old outline when it fits; the tooltip has it anyway.
      const text = `was ${g.box.name}`;
      const fits = textWidth(text, DETAIL_SIZE) <= gx2 - gx1 - 2 * LABEL_PAD;
      return { domId: `${g.domId}-was`, x1: gx1, x2: gx2, y: g.y, height: g.height, ...(fits ? { label: text } : {}) };
    });
  const allowed = lane.allowed.map((r) => ({ x1: X(r.start), x2: X(r.last + 1n) }));
  return { lane, y, height, bandY, bandHeight, boxes, allowed, ghosts, ...(note ? { note } : {}), reserved };
}

interface PlacedCallout {
  readonly row: number;
  readonly left: number;
  readonly right: number;
  readonly leaderX: number;
}

/**
 * The first row where the label overlaps no other label and no leader line crosses a label;
 * when crowding leaves no such row, the first row with no overlapping label (a leader may then
 * cross a label, which its white halo keeps readable). Always terminates: a new row below all
 * others has no labels.
 */
function calloutRow(placed: readonly PlacedCallout[], left: number, right: number, leaderX: number): number {
  const rows = placed.reduce((n, p) => Math.max(n, p.row + 1), 0);
  const overlapsOnRow = (row: number): boolean =>
    placed.some((p) => p.row === row && left < p.right + CALLOUT_SPACING && right + CALLOUT_SPACING > p.left);
  const crossesLeader = (row: number): boolean =>
    placed.some(
      (p) => (p.row < row && leaderX >= p.left - 2 && leaderX <= p.right + 2) || (p.row > row && p.leaderX >= left - 2 && p.leaderX <= right + 2),
    );
  for (let row = 0; row <= rows; row++) if (!overlapsOnRow(row) && !crossesLeader(row)) return row;
  for (let row = 0; row <= rows; row++) if (!overlapsOnRow(row)) return row;
  return rows;
}

/** A curve from each copy's source range to the copy, across lanes. */
function copyLinks(lanes: readonly LaneGeometry[], X: (iova: bigint) => number): LinkGeometry[] {
  const laneIndex = new Map(lanes.map((l, i) => [l.lane.ioas, i] as const));
  const links: LinkGeometry[] = [];
  lanes.forEach((lane, to) => {
    for (const g of lane.boxes) {
      const source = g.box.source;
      if (!source?.range) continue;
      const from = laneIndex.get(source.lane);
      if (from === undefined) continue;
      const src = lanes[from]!;
      const [sx1, sx2] = [X(source.range.start), X(source.range.last + 1n)];
      const sx = (sx1 + sx2) / 2;
      const dx = (g.x1 + g.x2) / 2;
      let sy: number;
      let dy: number;
      let path: string;
      if (from < to) {
        sy = src.bandY + src.bandHeight + SOURCE_OFFSET;
        dy = g.y;
        const mid = (dy - sy) / 2;
        path = `M${r(sx)} ${r(sy)} C${r(sx)} ${r(sy + mid)} ${r(dx)} ${r(dy - mid)} ${r(dx)} ${r(dy)}`;
      } else if (from > to) {
        sy = src.bandY - SOURCE_OFFSET;
        dy = g.y + g.height;
        const mid = (sy - dy) / 2;
        path = `M${r(sx)} ${r(sy)} C${r(sx)} ${r(sy - mid)} ${r(dx)} ${r(dy + mid)} ${r(dx)} ${r(dy)}`;
      } else {
        sy = src.bandY + src.bandHeight + SOURCE_OFFSET;
        dy = g.y + g.height;
        path = `M${r(sx)} ${r(sy)} C${r(sx)} ${r(sy + 28)} ${r(dx)} ${r(dy + 28)} ${r(dx)} ${r(dy)}`;
      }
      links.push({ copyDomId: g.domId, memory: g.box.memory, source: { x1: sx1, x2: sx2, y: sy }, path });
    }
  });
  return links;
}

function r(value: number): number {
  return Math.round(value * 100) / 100;
}

