/// <reference lib="dom" />
// End to end: open each rendered HTML page in headless Chromium (Debian's `chromium`, driven by
// playwright-core), take a screenshot into test-output/graph/, and check in the real browser
// that every box's label is rendered inside the picture, that no two labels overlap, and that
// hovering a box shows its details. Skips with a printed reason when Chromium is missing.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPresent, launchChromium, openPage, type Browser } from '../support/chromium.js';
import { renderHtml } from '../../src/graph/index.js';
import type { IovaMap } from '../../src/graph/index.js';
import { crowdedPlan, dpdkPlan, FIXTURES, fixtureMap } from './fixtures.js';

const OUTPUT = resolve('test-output/graph');
const present = chromiumPresent('graph/chromium');

const pages: { name: string; map: IovaMap; title: string }[] = [
  ...FIXTURES.map((make) => {
    const fixture = make();
    return { name: fixture.name, map: fixtureMap(fixture), title: `IOVA map: ${fixture.name}` };
  }),
  { name: 'dpdk-plan', map: dpdkPlan().plan, title: 'Plan: dpdk-appliance' },
  { name: 'crowded-plan', map: crowdedPlan(), title: 'Plan: many small mappings' },
];

interface Rect {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

interface RenderedLabel {
  readonly boxId: string;
  readonly domId: string;
  readonly text: string;
  readonly rect: Rect;
}

describe.skipIf(!present)('HTML in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const { name, map, title } of pages) {
    it(`${name}: every label is rendered, inside the picture, without overlaps; hover shows details`, async () => {
      const file = join(OUTPUT, `${name}.html`);
      writeFileSync(file, renderHtml(map, { title }));
      const { page, requests } = await openPage(browser.context, file, OUTPUT, name);

      const svgRect = await page.locator('svg.iova-map').evaluate((svg) => {
        const r = svg.getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      });
      const labels: RenderedLabel[] = await page.$$eval('svg.iova-map text.label-name, svg.iova-map text.label-detail, svg.iova-map text.label-was', (texts) =>
        texts.map((t) => {
          const r = t.getBoundingClientRect();
          const domId = t.getAttribute('data-for') ?? '';
          return {
            domId,
            boxId: document.getElementById(domId)?.getAttribute('data-id') ?? '',
            text: t.textContent ?? '',
            rect: { left: r.left, top: r.top, right: r.right, bottom: r.bottom },
          };
        }),
      );

      // Every box of the model has a visible name label in the picture.
      for (const lane of map.lanes) {
        for (const box of lane.boxes) {
          // The fixtures' names are short enough to be shown whole.
          const names = labels.filter((l) => l.boxId === box.id && l.text.endsWith(box.name));
          expect(names, `label of ${box.id}`).toHaveLength(1);
        }
      }
      for (const label of labels) {
        expect(label.rect.right - label.rect.left, `width of "${label.text}"`).toBeGreaterThan(0);
        expect(inside(label.rect, svgRect), `"${label.text}" inside the picture`).toBe(true);
      }
      // Labels of different boxes never overlap (measured with the browser's real font).
      for (let i = 0; i < labels.length; i++) {
        for (let j = i + 1; j < labels.length; j++) {
          const [a, b] = [labels[i]!, labels[j]!];
          if (a.domId !== b.domId) expect(overlap(a.rect, b.rect), `"${a.text}" overlaps "${b.text}"`).toBe(false);
        }
      }
      // Labels inside boxes fit their box.
      const insideFit = await page.$$eval('svg.iova-map g.box', (boxes) =>
        boxes.flatMap((g) => {
          const rect = g.querySelector('rect')!.getBoundingClientRect();
          return Array.from(g.querySelectorAll("text"))
            .filter((t) => !t.hasAttribute('stroke'))
            .map((t) => {
              const r = t.getBoundingClientRect();
              return { text: t.textContent ?? '', fits: r.left >= rect.left - 0.5 && r.right <= rect.right + 0.5 };
            });
        }),
      );
      for (const label of insideFit) expect(label.fits, `"${label.text}" fits its box`).toBe(true);

      // Hovering the first box shows a tooltip with its name and IOVA range.
      const first = map.lanes.flatMap((l) => l.boxes)[0]!;
      await page.locator(`g.box[data-id="${first.id}"]`).hover();
      const tip = page.locator('#tip');
      await expect.poll(async () => tip.isVisible()).toBe(true);
      const tipText = (await tip.textContent()) ?? '';
      expect(tipText).toContain(first.name);
      expect(tipText).toContain('IOVA');
      await page.screenshot({ path: join(OUTPUT, `${name}-hover.png`) });

      expect(requests, 'no network requests').toEqual([]);
      await page.close();
    });
  }
});

function inside(r: Rect, outer: Rect): boolean {
  return r.left >= outer.left - 0.5 && r.right <= outer.right + 0.5 && r.top >= outer.top - 0.5 && r.bottom <= outer.bottom + 0.5;
}

function overlap(a: Rect, b: Rect): boolean {
  const tolerance = 0.5;
  return a.left < b.right - tolerance && b.left < a.right - tolerance && a.top < b.bottom - tolerance && b.top < a.bottom - tolerance;
}
