// Peak RSS of real CLI processes, what a user runs (issue 7's "peak RSS for 100k mappings"):
// for one size, in a fresh temporary directory,
//   1. `ioasform plan base.yaml` against no state,
//   2. `ioasform apply --auto-approve base.yaml` into a fresh state file,
//   3. `ioasform plan changed.yaml` (1% of the automatic mappings grown) against that state.
// Each is its own `node bin/ioasform.js` process (so it needs a built dist/: `npm run build`, which
// `npm ci` runs) with bench/rss-preload.js loaded, which writes the process's maxRSS at exit.
// Output goes to a file, as a redirected CLI's would. Exit codes are checked: 2 (changes) for the
// plans, 0 for the apply.

import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateLayout } from './generate.js';

export interface CliRun {
  /** maxRSS of the CLI process, bytes. */
  readonly peakRssBytes: number;
  readonly seconds: number;
}

export interface CliRss {
  readonly planEmpty: CliRun;
  readonly apply: CliRun;
  readonly planChanged: CliRun;
}

const here = dirname(fileURLToPath(import.meta.url));
/** dist-bench/bench/ -> the repository's bin/ioasform.js. */
const cliBin = join(here, '..', '..', 'bin', 'ioasform.js');

async function runCli(dir: string, name: string, args: readonly string[], expectedExit: number): Promise<CliRun> {
  const rssFile = join(dir, `${name}.rss`);
  const output = await open(join(dir, `${name}.out`), 'w');
  const started = performance.now();
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', pathToFileURL(join(here, 'rss-preload.js')).href, cliBin, ...args], {
        cwd: dir,
        env: { ...process.env, IOASFORM_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
        stdio: ['ignore', output.fd, output.fd],
      });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== expectedExit) {
      const tail = (await readFile(join(dir, `${name}.out`), 'utf8')).slice(-2000);
      throw new Error(`ioasform ${args.join(' ')} exited ${code}, expected ${expectedExit}:\n${tail}`);
    }
    return { peakRssBytes: Number(await readFile(rssFile, 'utf8')), seconds };
  } finally {
    await output.close();
  }
}

export async function measureCliRss(entries: number): Promise<CliRss> {
  const dir = await mkdtemp(join(tmpdir(), 'ioasform-bench-cli-'));
  try {
    await writeFile(join(dir, 'base.yaml'), generateLayout({ count: entries, seed: 1 }).text);
    await writeFile(join(dir, 'changed.yaml'), generateLayout({ count: entries, seed: 1, changedFraction: 0.01 }).text);
    const state = ['--state', join(dir, 'bench.state.json')];
    const planEmpty = await runCli(dir, 'plan-empty', [...state, 'plan', 'base.yaml'], 2);
    const apply = await runCli(dir, 'apply', [...state, 'apply', '--auto-approve', 'base.yaml'], 0);
    const planChanged = await runCli(dir, 'plan-changed', [...state, 'plan', 'changed.yaml'], 2);
    return { planEmpty, apply, planChanged };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const entries = Number(process.argv[2] ?? 100_000);
  process.stdout.write(`RESULT ${JSON.stringify(await measureCliRss(entries))}\n`);
}
