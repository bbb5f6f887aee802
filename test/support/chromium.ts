// Headless Chromium for the end-to-end picture tests: where it is, how it is launched (the flags
// this closed-network machine needs), and opening a page with its screenshots taken and every
// network request recorded. Shared so both Chromium suites launch and observe the browser alike.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.IOASFORM_CHROMIUM ?? '/usr/bin/chromium';

/** Whether Chromium is present; prints the skip reason for `suite` when it is not. */
export function chromiumPresent(suite: string): boolean {
  const present = existsSync(CHROMIUM);
  if (!present) console.log(`${suite}: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set IOASFORM_CHROMIUM)`);
  return present;
}

export interface Browser {
  readonly context: BrowserContext;
  /** A scratch directory removed by close() (the browser profile lives in it). */
  readonly scratch: string;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile, 1280x900 at 2x (crisp screenshots). */
export async function launchChromium(): Promise<Browser> {
  const scratch = mkdtempSync(join(tmpdir(), 'ioasform-chromium-'));
  const context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 2, // docs/images/iova-map.png is one of these screenshots
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    scratch,
    async close() {
      await context.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the HTML file `file`, recording every request that is not for a local file, and saves a
 * full-page screenshot `<name>.png` and one of the map `<name>-map.png` into `outputDir`.
 */
export async function openPage(context: BrowserContext, file: string, outputDir: string, name: string): Promise<{ page: Page; requests: string[] }> {
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) requests.push(request.url());
  });
  await page.goto(pathToFileURL(file).href);
  await page.screenshot({ path: join(outputDir, `${name}.png`), fullPage: true });
  await page.locator('.map').screenshot({ path: join(outputDir, `${name}-map.png`) });
  return { page, requests };
}
