// One self-contained HTML page: the SVG inline, a table of every entry, and a few lines of
// inline CSS and JS for hover details. No external URL of any kind (a Content-Security-Policy
// forbids loading anything), so the file works offline and from a CI artifact.

import { formatHex, formatSize } from './format.js';
import { boxEnd } from './model.js';
import type { IovaMap } from './model.js';
import { STATUS_WORDS } from './palette.js';
import { escapeXml, FONT_FAMILY, renderSvg } from './svg.js';
import type { SvgOptions } from './svg.js';

export interface HtmlOptions extends Omit<SvgOptions, 'standalone'> {
  /** The page title; defaults to the SVG title or "IOVA map". */
  readonly pageTitle?: string;
}

const CSS = `
body { margin: 16px; font-family: ${FONT_FAMILY}; color: #1d2329; background: #f6f7f9; }
h1 { font-size: 16px; margin: 0 0 12px; }
.map { background: #ffffff; border: 1px solid #d9dee3; display: inline-block; }
.box { cursor: default; }
.box:hover rect, .box.focus rect { filter: brightness(0.92); stroke-width: 3; }
#tip { position: fixed; pointer-events: none; background: #1d2329; color: #ffffff; padding: 6px 9px; border-radius: 4px;
  font-size: 12px; line-height: 1.45; white-space: pre; box-shadow: 0 2px 8px rgba(0,0,0,.25); z-index: 10; }
#tip[hidden] { display: none; }
table { border-collapse: collapse; margin-top: 16px; font-size: 12px; background: #ffffff; }
th, td { border: 1px solid #d9dee3; padding: 3px 8px; text-align: left; }
th { background: #eef1f4; }
td.num { text-align: right; }
tr.add td { color: #1f7a30; } tr.remove td { color: #b02a26; text-decoration: line-through; } tr.replace td { color: #a86400; }
`;

// Builds the tooltip from the hovered box's data-* attributes with textContent only, so no
// text from the layout is ever parsed as HTML.
const SCRIPT = `
(function () {
  var tip = document.getElementById('tip');
  var fields = [['range', 'IOVA'], ['length', 'length'], ['memory', 'memory'], ['access', 'access'],
    ['status', 'status'], ['placement', 'placement'], ['source', 'copy of'], ['was', 'was at']];
  function show(box, x, y) {
    var d = box.dataset;
    var lines = [d.ioas + ' / ' + d.name + ' (' + d.kind + ')'];
    fields.forEach(function (f) { if (d[f[0]]) lines.push(f[1] + ': ' + d[f[0]]); });
    tip.textContent = lines.join('\\n');
    tip.hidden = false;
    var left = Math.min(x + 14, window.innerWidth - tip.offsetWidth - 8);
    var top = y + 16 + tip.offsetHeight > window.innerHeight ? y - tip.offsetHeight - 10 : y + 16;
    tip.style.left = Math.max(4, left) + 'px';
    tip.style.top = Math.max(4, top) + 'px';
  }
  document.querySelectorAll('.box').forEach(function (box) {
    box.addEventListener('mousemove', function (e) { show(box, e.clientX, e.clientY); });
    box.addEventListener('mouseleave', function () { tip.hidden = true; });
  });
})();
`;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

export function renderHtml(map: IovaMap, options: HtmlOptions = {}): string {
  const title = options.pageTitle ?? options.title ?? 'IOVA map';
  const svg = renderSvg(map, { ...options, standalone: false });
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    options.title === undefined ? `<h1>${escapeXml(title)}</h1>` : '',
    `<div class="map">\n${svg}</div>`,
    '<div id="tip" role="tooltip" hidden></div>',
    entryTable(map),
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function entryTable(map: IovaMap): string {
  const rows = ['<table class="entries">', '<thead><tr><th>IOAS</th><th>entry</th><th>kind</th><th>IOVA first</th><th>IOVA last</th><th>length</th><th>memory</th><th>access</th><th>status</th></tr></thead>', '<tbody>'];
  for (const lane of map.lanes) {
    for (const box of lane.boxes) {
      const cells = [
        lane.ioas,
        box.name,
        box.kind,
        `${box.predicted ? '≈' : ''}${formatHex(box.iova)}`,
        formatHex(boxEnd(box) - 1n),
        formatSize(box.length),
        box.memory,
        box.access,
        STATUS_WORDS[box.status],
      ];
      rows.push(`<tr class="${box.status}">${cells.map((c, i) => `<td${i >= 3 && i <= 5 ? ' class="num"' : ''}>${escapeXml(c)}</td>`).join('')}</tr>`);
    }
  }
  rows.push('</tbody>', '</table>');
  return rows.join('\n');
}
