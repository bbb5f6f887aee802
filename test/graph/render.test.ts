// Golden SVGs and text maps of the example fixtures, determinism, escaping, and the HTML page's
// self-containment.

import { describe, expect, it } from 'vitest';
import { diffIovaMaps, formatHex, formatSize, renderHtml, renderSvg, renderTextMap } from '../../src/graph/index.js';
import type { IovaMap } from '../../src/graph/index.js';
import { crowdedPlan, dpdkPlan, FIXTURES, fixtureMap } from './fixtures.js';
import { expectGolden } from './golden.js';

const cases: { name: string; map: () => IovaMap }[] = [
  ...FIXTURES.map((make) => ({ name: make().name, map: () => fixtureMap(make()) })),
  { name: 'dpdk-plan', map: () => dpdkPlan().plan },
  { name: 'crowded-plan', map: crowdedPlan },
];

describe('golden output', () => {
  for (const { name, map } of cases) {
    it(`${name}.svg`, () => expectGolden(`${name}.svg`, renderSvg(map(), { title: name })));
    it(`${name}.txt`, () => expectGolden(`${name}.txt`, renderTextMap(map(), { width: 100 })));
  }
});

describe('SVG', () => {
  it('is the same text on every render (no timestamps, stable ids and order)', () => {
    for (const { map } of cases) expect(renderSvg(map())).toBe(renderSvg(map()));
  });

  it('has one box group per mapping or copy, with its id', () => {
    for (const { map } of cases) {
      const m = map();
      const svg = renderSvg(m);
      const ids = [...svg.matchAll(/<g class="box" id="[^"]+" data-id="([^"]+)"/g)].map((x) => x[1]);
      expect(ids.sort()).toEqual(m.lanes.flatMap((l) => l.boxes.map((b) => b.id)).sort());
    }
  });

  it('escapes names from the layout', () => {
    const hostile: IovaMap = {
      lanes: [
        {
          ioas: 'io<as>&"',
          allowed: [],
          boxes: [{ id: 'x', name: '<script>alert(1)</script>', kind: 'mapping', memory: "m'&", iova: 0x10000n, length: 0x1000n, access: 'rw', status: 'same' }],
        },
      ],
    };
    const svg = renderSvg(hostile);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('io&lt;as&gt;&amp;&quot;');
    expect(svg).not.toMatch(/m'&(?!amp;)/);
    const html = renderHtml(hostile);
    expect(html.match(/<script>/g)).toHaveLength(1); // only the page's own script
  });

  it('marks plan statuses with their colors and a legend', () => {
    const svg = renderSvg(dpdkPlan().plan);
    expect(svg).toContain('stroke="#1f9d3a"');
    expect(svg).toContain('stroke="#d0312d"');
    expect(svg).toContain('stroke="#e08a00"');
    for (const word of ['added', 'removed', 'replaced']) expect(svg).toContain(`>${word}</text>`);
    const plain = renderSvg(fixtureMap(FIXTURES[0]!()));
    expect(plain).not.toContain('>added</text>');
  });

  it('draws one link per copy whose source range is known', () => {
    for (const { map } of cases) {
      const m = map();
      const copies = m.lanes.flatMap((l) => l.boxes.filter((b) => b.kind === 'copy' && b.source?.range));
      expect(renderSvg(m).match(/<path class="link"/g) ?? []).toHaveLength(copies.length);
    }
  });
});

describe('HTML', () => {
  for (const { name, map } of cases) {
    it(`${name}: self-contained (no http or https URL, no external resource)`, () => {
      const html = renderHtml(map(), { title: name });
      expect(html).not.toMatch(/https?:/i);
      expect(html).not.toMatch(/\b(src|href)=/i);
      expect(html).toContain("default-src 'none'");
      expect(html).toContain('<svg class="iova-map"');
    });
  }
});

describe('text map', () => {
  it('respects the width and uses no color unless asked', () => {
    const m = dpdkPlan().plan;
    for (const width of [40, 80, 132]) {
      const text = renderTextMap(m, { width });
      const bars = text.split('\n').filter((line) => line.startsWith('  ['));
      expect(bars.length).toBe(m.lanes.length);
      for (const line of bars) expect(line.length).toBeLessThanOrEqual(width);
      expect(text).not.toContain('\u001b[');
    }
    expect(renderTextMap(m, { color: true })).toContain('\u001b[32m');
  });

  it('gives every entry its own letter in the bar, left to right by IOVA', () => {
    const m = fixtureMap(FIXTURES[2]!());
    const text = renderTextMap(m, { width: 100 });
    const bars = text.split('\n').filter((line) => line.startsWith('  ['));
    m.lanes.forEach((lane, i) => {
      const letters = [...new Set(bars[i]!.replace(/[^A-Za-z]/g, ''))].join('');
      expect(letters).toBe('ABCDEFGHIJ'.slice(0, lane.boxes.length));
    });
  });

  it('lists every entry with its exact range', () => {
    const m = fixtureMap(FIXTURES[0]!());
    const text = renderTextMap(m);
    expect(text).toContain('0x1_0000_0000-0x1_7fff_ffff');
    expect(text).toContain('0x2_0200_0000-0x2_03ff_ffff');
  });

  it('shows an empty diff as all unchanged', () => {
    const m = fixtureMap(FIXTURES[1]!());
    const same = diffIovaMaps(m, m);
    expect(renderTextMap(same)).toBe(renderTextMap(m));
  });
});

describe('number formats', () => {
  it('groups hex digits by four, exactly up to 2^64 - 1', () => {
    expect(formatHex(0n)).toBe('0x0');
    expect(formatHex(0x1000n)).toBe('0x1000');
    expect(formatHex(0x1_0000_0000n)).toBe('0x1_0000_0000');
    expect(formatHex((1n << 64n) - 1n)).toBe('0xffff_ffff_ffff_ffff');
  });

  it('writes sizes in binary units, with two decimals when not whole', () => {
    expect(formatSize(100n)).toBe('100 B');
    expect(formatSize(4096n)).toBe('4 KiB');
    expect(formatSize(2n << 20n)).toBe('2 MiB');
    expect(formatSize(3n << 29n)).toBe('1.50 GiB');
    expect(formatSize((1n << 64n) - 1n)).toBe('15.99 EiB');
  });
});
