/// <reference lib="dom" />
// End to end through the real CLI: `npm run build`, then `node bin/ioasform.js graph
// examples/X.yaml --format html -o …` for every example (the layout picture, and the plan
// picture against an empty state), opened in headless Chromium. Screenshots go to
// test-output/graph-cli/; the checks: every mapping's and copy's label of the layout is rendered
// in the picture, hovering a box shows its details, and the page makes no network request.
// Skips with a printed reason when Chromium is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { loadLayoutFile } from '../../src/config/load.js';
import { BIN, ensureBuilt, ROOT } from '../cli/support.js';

const CHROMIUM = process.env.IOASFORM_CHROMIUM ?? '/usr/bin/chromium';
const OUTPUT = resolve('test-output/graph-cli');
const present = existsSync(CHROMIUM);
if (!present) console.log(`graph/chromium-cli: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set IOASFORM_CHROMIUM)`);

const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort();

/** `<ioas>/<kind>.<name>` of every mapping and copy the layout declares. */
async function declaredEntries(example: string): Promise<string[]> {
  const loaded = await loadLayoutFile(join(ROOT, 'examples', example));
  if (!loaded.layout) throw new Error(`${example} does not load`);
  return loaded.layout.ioas.flatMap((i) => [...i.mappings.map((m) => `${i.name}/mapping.${m.name}`), ...i.copies.map((c) => `${i.name}/copy.${c.name}`)]);
}

describe.skipIf(!present)('CLI graph --format html in headless Chromium', () => {
  let context: BrowserContext;
  let profile: string;
  let emptyState: string;

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(OUTPUT, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'ioasform-chromium-'));
    emptyState = join(profile, 'no-such.state.json');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 2,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
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

      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith('file:')) requests.push(request.url());
      });
      await page.goto(pathToFileURL(file).href);
      await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
      await page.locator('.map').screenshot({ path: join(OUTPUT, `${name}-map.png`) });

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
