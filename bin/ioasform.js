#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (Node 20 runs no .ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('ioasform: dist/ is missing; run `npm run build` (npm ci does it for you).\n');
  process.exit(1);
}
const { run } = await import(main);
process.exitCode = await run(process.argv.slice(2));
