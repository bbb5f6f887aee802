/// <reference lib="dom" />
// End to end through the real CLI: `npm run build`, then `node bin/ioasform.js graph
// examples/X.yaml --format html -o …` for every example (the layout picture, and the plan
// picture against an empty state), opened in headless Chromium. Screenshots go to
// test-output/graph-cli/; the checks: every mapping's and copy's label of the layout is rendered
// in the picture, hovering a box shows its details, and the page makes no network request.
// Skips with a printed reason when Chromium is missing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPresent, launchChromium, openPage, type Browser } from '../support/chromium.js';
import { loadLayoutFile } from '../../src/config/load.js';
import { BIN, ensureBuilt, ROOT } from '../cli/support.js';

const OUTPUT = resolve('test-output/graph-cli');
const present = chromiumPresent('graph/chromium-cli');

const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort();

/** `<ioas>/<kind>.<name>` of every mapping and copy the layout declares. */
async function declaredEntries(example: string): Promise<string[]> {
  const loaded = await loadLayoutFile(join(ROOT, 'examples', example));
  if (!loaded.layout) throw new Error(`${example} does not load`);
  return loaded.layout.ioas.flatMap((i) => [...i.mappings.map((m) => `${i.name}/mapping.${m.name}`), ...i.copies.map((c) => `${i.name}/copy.${c.name}`)]);
}

describe.skipIf(!present)('CLI graph --format html in headless Chromium', () => {
  let browser: Browser;
  let emptyState: string;

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(OUTPUT, { recursive: true });
    browser = await launchChromium();
    emptyState = join(browser.scratch, 'no-such.state.json');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
  });

  const cases = EXAMPLES.flatMap((example) => [
    { example, name: example.replace(/\.yaml$/, ''), plan: false },
    { example, name: `${example.replace(/\.yaml$/, '')}-plan`, plan: true },
  ]);

  for (const { example, name, plan } of cases) {
    it(`${name}: every mapping and copy is labelled in the browser; hover shows details`, async () => {
      const file = join(OUTPUT, `${name}.html`);
      // The layout picture plans against the default state (none in the repository root); the
      // plan picture names an empty state explicitly.
      const args = [BIN, 'graph', `examples/${example}`, ...(plan ? ['--state', emptyState] : []), '--format', 'html', '-o', file];
      execFileSync('node', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });

      const { page, requests } = await openPage(browser.context, file, OUTPUT, name);

      const labels = await page.$$eval('svg.iova-map text.label-name', (texts) =>
        texts.map((t) => {
          const r = t.getBoundingClientRect();
          return { boxId: document.getElementById(t.getAttribute('data-for') ?? '')?.getAttribute('data-id') ?? '', text: t.textContent ?? '', width: r.width, height: r.height };
        }),
      );
      const expected = await declaredEntries(example);
      expect(expected.length).toBeGreaterThan(0);
      for (const id of expected) {
        const name = id.slice(id.indexOf('.') + 1);
        const shown = labels.filter((l) => l.boxId === id && l.text.endsWith(name) && l.width > 0 && l.height > 0);
        expect(shown, `a visible label "${name}" for ${id}`).toHaveLength(1);
      }
      if (plan) {
        const statuses = await page.$$eval('svg.iova-map g.box', (boxes) => boxes.map((g) => g.getAttribute('data-status')));
        expect(new Set(statuses), 'against an empty state everything is added').toEqual(new Set(['added']));
      }

      const first = expected[0]!;
      await page.locator(`g.box[data-id="${first}"]`).hover();
      const tip = page.locator('#tip');
      await expect.poll(async () => tip.isVisible()).toBe(true);
      expect((await tip.textContent()) ?? '').toContain(first.slice(first.indexOf('.') + 1));
      expect(requests, 'no network requests').toEqual([]);
      await page.close();
    });
  }
});
