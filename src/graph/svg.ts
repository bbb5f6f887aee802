// Scene -> SVG text. Deterministic: the same map gives the same bytes (ids from lane and box
// positions, numbers rounded to 0.01, no timestamps), so golden files can be compared exactly.

import { formatHex, formatSize, num } from './format.js';
import { boxEnd } from './model.js';
import type { Box, BoxStatus, IovaMap } from './model.js';
import { memoryFills, memoryInks, memoryOrder, STATUS_COLORS, STATUS_WORDS } from './palette.js';
import { buildScene, DETAIL_SIZE, textWidth, TICK_SIZE } from './scene.js';
import type { BoxGeometry, LaneGeometry, Scene, SceneOptions } from './scene.js';

export interface SvgOptions extends SceneOptions {
  /** Add the SVG namespace (needed for a standalone .svg file, not inside HTML). Default true. */
  readonly standalone?: boolean;
}

export const FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, monospace";
const INK = '#1d2329';
const MUTED = '#5f6b76';
const GRID = '#d9dee3';
const ALLOWED_FILL = '#e4eef7';
const ALLOWED_STROKE = '#8fb0cf';
const PAGE_HATCH = '#b4472f';
/** Reserved by a device: a darker, denser hatch than the zero/top page marks. */
const RESERVED_HATCH = '#6a3d9a';
const LEGEND_ROW = 20;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One IOVA map as an SVG document. */
export function renderSvg(map: IovaMap, options: SvgOptions = {}): string {
  const scene = buildScene(map, options);
  const fills = memoryFills(map);
  const inks = memoryInks(map);
  const legend = legendItems(map, scene);
  const height = scene.legendY + legend.height + 8;
  const out: string[] = [];
  const ns = options.standalone === false ? '' : ' xmlns="http://www.w3.org/2000/svg"';
  out.push(
    `<svg${ns} class="iova-map" width="${num(scene.width)}" height="${num(height)}" viewBox="0 0 ${num(scene.width)} ${num(height)}" font-family="${escapeXml(FONT_FAMILY)}" font-size="${DETAIL_SIZE}" role="img" aria-label="${escapeXml(summary(map))}">`,
  );
  out.push(defs(map.lanes.some((l) => (l.reserved ?? []).length > 0)));
  out.push(`<rect x="0" y="0" width="${num(scene.width)}" height="${num(height)}" fill="#ffffff"/>`);
  if (scene.title !== undefined) out.push(`<text x="12" y="26" font-size="15" font-weight="bold" fill="${INK}">${escapeXml(scene.title)}</text>`);
  out.push(...axisMarkup(scene));
  scene.lanes.forEach((lane, i) => out.push(...laneBackground(scene, lane, i)));
  out.push(...pageMarkup(scene));
  out.push('<g class="links">');
  for (const link of scene.links) {
    // In a strong shade of the memory's color, so crossing links stay apart.
    const ink = inks.get(link.memory) ?? MUTED;
    out.push(
      `<rect class="link-source" x="${num(link.source.x1 + 1)}" y="${num(link.source.y - 2)}" width="${num(Math.max(2, link.source.x2 - link.source.x1 - 2))}" height="4" fill="${ink}" fill-opacity="0.8"/>`,
      `<path class="link" data-for="${link.copyDomId}" d="${link.path}" fill="none" stroke="${ink}" stroke-width="1.6" stroke-opacity="0.9" stroke-dasharray="6 3"/>`,
      `<path d="${arrowHead(link.path)}" fill="${ink}"/>`,
    );
  }
  out.push('</g>');
  for (const lane of scene.lanes) out.push(...laneBoxes(lane, fills));
  out.push(...legendMarkup(legend.items, scene.legendY, fills));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** A small triangle at the end of a link path, pointing along its last (vertical) tangent. */
function arrowHead(path: string): string {
  const numbers = path.match(/-?[\d.]+/g)!.map(Number);
  const [x, y] = numbers.slice(-2) as [number, number];
  const beforeY = numbers[numbers.length - 3]!;
  const down = y >= beforeY;
  const tip = y;
  const base = down ? y - 7 : y + 7;
  return `M${num(x - 4.5)} ${num(base)} L${num(x + 4.5)} ${num(base)} L${num(x)} ${num(tip)} z`;
}

function summary(map: IovaMap): string {
  const boxes = map.lanes.reduce((n, l) => n + l.boxes.length, 0);
  return `IOVA map: ${map.lanes.length} IOAS, ${boxes} mappings and copies`;
}

function defs(reserved: boolean): string {
  return [
    '<defs>',
    `<pattern id="page-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff" fill-opacity="0"/><line x1="0" y1="0" x2="0" y2="6" stroke="${PAGE_HATCH}" stroke-width="2" stroke-opacity="0.55"/></pattern>`,
    `<pattern id="remove-hatch" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><line x1="0" y1="0" x2="0" y2="7" stroke="${STATUS_COLORS.remove}" stroke-width="1.5" stroke-opacity="0.45"/></pattern>`,
    // Only pictures with reserved windows carry this pattern (the others stay byte-identical).
    ...(reserved
      ? [`<pattern id="reserved-hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><line x1="0" y1="0" x2="0" y2="5" stroke="${RESERVED_HATCH}" stroke-width="1.5" stroke-opacity="0.6"/></pattern>`]
      : []),
    '</defs>',
  ].join('\n');
}

function axisMarkup(scene: Scene): string[] {
  const out: string[] = ['<g class="axis">'];
  for (const piece of scene.axis.pieces) {
    if (piece.kind === 'gap' && piece.broken) continue;
    out.push(`<line x1="${num(scene.x0 + piece.x)}" y1="${num(scene.axisY)}" x2="${num(scene.x0 + piece.x + piece.width)}" y2="${num(scene.axisY)}" stroke="${INK}" stroke-width="1.5"/>`);
  }
  for (const x of scene.breaks) out.push(breakMark(x, scene.axisY, 7));
  for (const tick of scene.ticks) {
    const label = formatHex(tick.iova);
    const labelY = scene.tickRowY[tick.row === 0 ? 1 : 0];
    out.push(
      `<line x1="${num(tick.x)}" y1="${num(labelY + 3)}" x2="${num(tick.x)}" y2="${num(scene.axisY + 4)}" stroke="${MUTED}" stroke-width="1"/>`,
      `<text class="tick" x="${num(tick.labelX)}" y="${num(labelY)}" text-anchor="middle" font-size="${TICK_SIZE}" fill="${INK}">${label}</text>`,
      `<line x1="${num(tick.x)}" y1="${num(scene.lanesTop)}" x2="${num(tick.x)}" y2="${num(scene.lanesBottom)}" stroke="${GRID}" stroke-width="1" stroke-dasharray="2 3"/>`,
    );
  }
  out.push(`<text x="12" y="${num(scene.axisY + 4)}" font-size="${TICK_SIZE}" fill="${MUTED}">IOVA</text>`);
  out.push('</g>');
  return out;
}

function breakMark(x: number, y: number, half: number): string {
  const d = `M${num(x - 5)} ${num(y + half)} L${num(x - 1)} ${num(y - half)} M${num(x + 1)} ${num(y + half)} L${num(x + 5)} ${num(y - half)}`;
  return `<path class="break" d="${d}" stroke="${MUTED}" stroke-width="1.5" fill="none"/>`;
}

function pageMarkup(scene: Scene): string[] {
  const out = ['<g class="pages">'];
  for (const mark of scene.pageMarks) {
    const width = Math.max(3, mark.x2 - mark.x1);
    out.push(
      `<rect class="page-mark" x="${num(mark.x1)}" y="${num(scene.axisY - 6)}" width="${num(width)}" height="${num(scene.lanesBottom - scene.axisY + 6)}" fill="url(#page-hatch)"/>`,
      `<text x="${num(mark.x1 + width / 2)}" y="${num(mark.captionY)}" text-anchor="middle" font-size="9" fill="${PAGE_HATCH}">${mark.caption}</text>`,
    );
  }
  out.push('</g>');
  return out;
}

function laneBackground(scene: Scene, g: LaneGeometry, index: number): string[] {
  const lane = g.lane;
  const out: string[] = [`<g class="lane" data-ioas="${escapeXml(lane.ioas)}">`];
  if (index > 0) out.push(`<line x1="0" y1="${num(g.y)}" x2="${num(scene.width)}" y2="${num(g.y)}" stroke="${GRID}" stroke-width="1"/>`);
  const statusColor = lane.status && lane.status !== 'same' ? STATUS_COLORS[lane.status] : INK;
  out.push(`<text class="lane-name" x="12" y="${num(g.bandY + 15)}" font-size="13" font-weight="bold" fill="${statusColor}">${escapeXml(laneTitle(lane.ioas, lane.status))}</text>`);
  const facts = [
    lane.allowed.length === 0 ? 'any IOVA allowed' : `${lane.allowed.length} allowed range${lane.allowed.length > 1 ? 's' : ''}`,
    lane.alignment !== undefined && lane.alignment > 1n ? `align ${formatSize(lane.alignment)}` : 'huge pages on',
  ];
  facts.forEach((fact, i) => out.push(`<text x="12" y="${num(g.bandY + 31 + i * 13)}" font-size="10" fill="${MUTED}">${escapeXml(fact)}</text>`));
  for (const a of g.allowed) {
    out.push(
      `<rect class="allowed" x="${num(a.x1)}" y="${num(g.bandY - 5)}" width="${num(Math.max(1, a.x2 - a.x1))}" height="${num(g.bandHeight + 10)}" fill="${ALLOWED_FILL}" stroke="${ALLOWED_STROKE}" stroke-dasharray="4 3"/>`,
    );
  }
  for (const w of g.reserved) {
    const top = g.bandY - 5;
    const height = g.bandHeight + 10;
    out.push(
      `<g class="reserved"><title>${escapeXml(`reserved: ${w.text}`)}</title>`,
      `<rect x="${num(w.x1)}" y="${num(top)}" width="${num(Math.max(2, w.x2 - w.x1))}" height="${num(height)}" fill="url(#reserved-hatch)" stroke="${RESERVED_HATCH}" stroke-opacity="0.7"/>`,
      ...(w.kind !== undefined ? [`<text x="${num((w.x1 + w.x2) / 2)}" y="${num(top + height / 2 + 4)}" text-anchor="middle" font-size="10" font-weight="bold" fill="${RESERVED_HATCH}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(w.kind)}</text>`] : []),
      `<text class="reserved-label" x="${num(w.labelX)}" y="${num(w.labelY)}" font-size="10" fill="${RESERVED_HATCH}">${escapeXml(w.text)}</text>`,
      '</g>',
    );
  }
  for (const x of scene.breaks) out.push(breakMark(x, g.bandY + g.bandHeight / 2, 9));
  if (g.note) out.push(`<text class="note" x="${num(scene.x0)}" y="${num(g.note.y)}" font-size="10" fill="${MUTED}">${escapeXml(g.note.text)}</text>`);
  out.push('</g>');
  return out;
}

function laneTitle(name: string, status: BoxStatus | undefined): string {
  if (status === 'add') return `+ ${name}`;
  if (status === 'remove') return `- ${name}`;
  if (status === 'replace') return `~ ${name}`;
  return name;
}

function laneBoxes(g: LaneGeometry, fills: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const ghost of g.ghosts) {
    out.push(
      `<rect class="was" id="${ghost.domId}" x="${num(ghost.x1 + 1)}" y="${num(ghost.y)}" width="${num(Math.max(1, ghost.x2 - ghost.x1 - 2))}" height="${num(ghost.height)}" fill="none" stroke="${STATUS_COLORS.replace}" stroke-width="1.5" stroke-dasharray="3 3"/>`,
    );
    if (ghost.label) {
      out.push(`<text class="label-was" data-for="${ghost.domId}" x="${num(ghost.x1 + 7)}" y="${num(ghost.y + 14)}" fill="${STATUS_COLORS.replace}">${escapeXml(ghost.label)}</text>`);
    }
  }
  for (const b of g.boxes) out.push(...boxMarkup(g, b, fills));
  return out;
}

function boxMarkup(lane: LaneGeometry, g: BoxGeometry, fills: ReadonlyMap<string, string>): string[] {
  const box = g.box;
  const fill = fills.get(box.memory) ?? '#dddddd';
  const stroke = STATUS_COLORS[box.status];
  const changed = box.status !== 'same';
  const dash = box.predicted ? ' stroke-dasharray="2 2"' : box.kind === 'copy' ? ' stroke-dasharray="6 3"' : '';
  const width = Math.max(1, g.x2 - g.x1 - 2);
  const out: string[] = [`<g class="box" id="${g.domId}"${dataAttributes(lane, box)}>`];
  out.push(`<title>${escapeXml(tooltipText(lane.lane.ioas, box))}</title>`);
  out.push(
    `<rect x="${num(g.x1 + 1)}" y="${num(g.y)}" width="${num(width)}" height="${num(g.height)}" rx="3" fill="${fill}"${box.status === 'remove' ? ' fill-opacity="0.45"' : ''} stroke="${stroke}" stroke-width="${changed ? 2.5 : 1}"${dash}/>`,
  );
  if (box.status === 'remove') out.push(`<rect x="${num(g.x1 + 1)}" y="${num(g.y)}" width="${num(width)}" height="${num(g.height)}" rx="3" fill="url(#remove-hatch)"/>`);
  if (!g.inside && g.leader) {
    out.push(`<line class="leader" x1="${num(g.leader.x)}" y1="${num(g.leader.y1)}" x2="${num(g.leader.x)}" y2="${num(g.leader.y2)}" stroke="${MUTED}" stroke-width="1"/>`);
  }
  const halo = g.inside ? '' : ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"';
  g.lines.forEach((line, i) => {
    const y = g.label.y + 10 + i * 13;
    const cls = i === 0 ? 'label-name' : 'label-detail';
    const color = i === 0 && changed ? stroke : INK;
    out.push(
      `<text class="${cls}" data-for="${g.domId}" x="${num(g.label.x)}" y="${num(y)}" font-size="${line.size}"${line.bold ? ' font-weight="bold"' : ''} fill="${color}"${halo}>${escapeXml(line.text)}</text>`,
    );
  });
  out.push('</g>');
  return out;
}

function dataAttributes(lane: LaneGeometry, box: Box): string {
  const attributes: [string, string][] = [
    ['id', box.id],
    ['ioas', lane.lane.ioas],
    ['name', box.name],
    ['kind', box.kind],
    ['range', `${formatHex(box.iova)} .. ${formatHex(boxEnd(box) - 1n)}`],
    ['length', `${formatSize(box.length)} (${formatHex(box.length)})`],
    ['memory', box.memory],
    ['access', box.access],
    ['status', STATUS_WORDS[box.status]],
  ];
  if (box.predicted) attributes.push(['placement', 'kernel-chosen (predicted)']);
  if (box.source) attributes.push(['source', sourceText(box)]);
  if (box.previous) attributes.push(['was', `${formatHex(box.previous.iova)} .. ${formatHex(boxEnd(box.previous) - 1n)}`]);
  return attributes.map(([k, v]) => ` data-${k}="${escapeXml(v)}"`).join('');
}

function sourceText(box: Box): string {
  const source = box.source!;
  const entry = source.boxId ? source.boxId : source.lane;
  return source.range ? `${entry} @ ${formatHex(source.range.start)} .. ${formatHex(source.range.last)}` : entry;
}

/** The native tooltip text of a box (also what the HTML page shows on hover). */
export function tooltipText(ioas: string, box: Box): string {
  const lines = [
    `${ioas} / ${box.name} (${box.kind})`,
    `IOVA ${formatHex(box.iova)} .. ${formatHex(boxEnd(box) - 1n)}${box.predicted ? ' (kernel-chosen, predicted)' : ''}`,
    `length ${formatSize(box.length)} (${formatHex(box.length)})`,
    `memory ${box.memory}, access ${box.access}`,
    `status ${STATUS_WORDS[box.status]}`,
  ];
  if (box.source) lines.push(`copy of ${sourceText(box)}`);
  if (box.previous) lines.push(`was at ${formatHex(box.previous.iova)} .. ${formatHex(boxEnd(box.previous) - 1n)}`);
  return lines.join('\n');
}

type LegendSwatch = 'memory' | 'mapping' | 'copy' | 'predicted' | 'allowed' | 'reserved' | 'page' | 'break' | BoxStatus;
interface LegendItem {
  readonly swatch: LegendSwatch;
  readonly text: string;
  readonly memory?: string;
  readonly x: number;
  readonly row: number;
}

/** Only what the picture shows: its memories, kinds, and statuses. */
function legendItems(map: IovaMap, scene: Scene): { items: LegendItem[]; height: number } {
  const width = scene.width;
  const boxes = map.lanes.flatMap((l) => l.boxes);
  const wanted: { swatch: LegendSwatch; text: string; memory?: string }[] = memoryOrder(map).map((m) => ({ swatch: 'memory', text: m, memory: m }));
  const shown: [boolean, LegendSwatch, string][] = [
    [boxes.some((b) => b.kind === 'mapping' && !b.predicted), 'mapping', 'mapping'],
    [boxes.some((b) => b.kind === 'copy'), 'copy', 'copy (arrow from its source)'],
    [boxes.some((b) => b.predicted), 'predicted', 'kernel-chosen IOVA (≈ predicted)'],
    [map.lanes.some((l) => l.allowed.length > 0), 'allowed', 'allowed IOVA range'],
    [map.lanes.some((l) => (l.reserved ?? []).length > 0), 'reserved', 'reserved by an attached device'],
    [true, 'page', 'zero page / top page'],
    [scene.breaks.length > 0, 'break', 'empty space, not to scale'],
  ];
  for (const [show, swatch, text] of shown) if (show) wanted.push({ swatch, text });
  const statuses = new Set(boxes.map((b) => b.status));
  for (const status of ['add', 'remove', 'replace'] as const) if (statuses.has(status)) wanted.push({ swatch: status, text: STATUS_WORDS[status] });
  const items: LegendItem[] = [];
  let x = 12;
  let row = 0;
  for (const item of wanted) {
    const w = 26 + textWidth(item.text, DETAIL_SIZE) + 18;
    if (x + w > width - 12 && x > 12) {
      row += 1;
      x = 12;
    }
    items.push({ ...item, x, row });
    x += w;
  }
  return { items, height: (row + 1) * LEGEND_ROW };
}

function legendMarkup(items: readonly LegendItem[], top: number, fills: ReadonlyMap<string, string>): string[] {
  const out = ['<g class="legend">'];
  for (const item of items) {
    const y = top + item.row * LEGEND_ROW;
    const sx = num(item.x);
    const sy = num(y);
    switch (item.swatch) {
      case 'memory':
        out.push(`<rect x="${sx}" y="${sy}" width="20" height="12" rx="2" fill="${fills.get(item.memory!) ?? '#dddddd'}" stroke="${STATUS_COLORS.same}"/>`);
        break;
      case 'mapping':
        out.push(`<rect x="${sx}" y="${sy}" width="20" height="12" rx="2" fill="#ffffff" stroke="${STATUS_COLORS.same}"/>`);
        break;
      case 'copy':
        out.push(`<rect x="${sx}" y="${sy}" width="20" height="12" rx="2" fill="#ffffff" stroke="${STATUS_COLORS.same}" stroke-dasharray="6 3"/>`);
        break;
      case 'predicted':
        out.push(`<rect x="${sx}" y="${sy}" width="20" height="12" rx="2" fill="#ffffff" stroke="${STATUS_COLORS.same}" stroke-dasharray="2 2"/>`);
        break;
      case 'allowed':
        out.push(`<rect x="${sx}" y="${sy}" width="20" height="12" fill="${ALLOWED_FILL}" stroke="${ALLOWED_STROKE}" stroke-dasharray="4 3"/>`);
        break;
      case 'reserved':
        out.push(`<rect x="${sx}" y="${sy}" width="20" height="12" fill="url(#reserved-hatch)" stroke="${RESERVED_HATCH}" stroke-opacity="0.7"/>`);
        break;
      case 'page':
        out.push(`<rect x="${sx}" y="${sy}" width="20" height="12" fill="url(#page-hatch)" stroke="${PAGE_HATCH}" stroke-opacity="0.5"/>`);
        break;
      case 'break':
        out.push(breakMark(item.x + 10, y + 6, 6));
        break;
      default:
        out.push(`<rect x="${sx}" y="${sy}" width="20" height="12" rx="2" fill="#ffffff" stroke="${STATUS_COLORS[item.swatch]}" stroke-width="2.5"/>`);
    }
    out.push(`<text x="${num(item.x + 26)}" y="${num(y + 10)}" fill="${INK}">${escapeXml(item.text)}</text>`);
  }
  out.push('</g>');
  return out;
}
