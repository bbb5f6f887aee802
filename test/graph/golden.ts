// Golden files: compared byte for byte; `UPDATE_GOLDEN=1 npx vitest run test/graph` rewrites them
// (then review the diff, and look at the pictures, before committing).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');

export function expectGolden(fileName: string, actual: string): void {
  const file = join(GOLDEN_DIR, fileName);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(existsSync(file), `${fileName} is missing: run with UPDATE_GOLDEN=1 to create it`).toBe(true);
  expect(actual, `${fileName} differs: if the change is intended, run with UPDATE_GOLDEN=1`).toBe(readFileSync(file, 'utf8'));
}
