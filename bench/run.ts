// `npm run bench`: every size in its own child process (peak RSS per size), then the table, the
// targets of issue 7 as ratios from this one run, and bench/results.json.
//   BENCH_SIZES=1000,10000 BENCH_RUNS=3 npm run bench     (defaults: 1000,10000,100000 and 5)

import { execFile } from 'node:child_process';
import { writeFile, rename } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { measureCliRss } from './cli-rss.js';
import { formatKernelBench, runKernelBench } from './kernel/run.js';
import { evaluateTargets, formatTable, formatTargets, kernelTarget } from './report.js';
import type { SizeResult } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist-bench/bench/ -> the repository's bench/ (results.json lives next to the sources). */
const benchSourceDir = resolve(here, '..', '..', 'bench');

const sizes = (process.env['BENCH_SIZES'] ?? '1000,10000,100000').split(',').map(Number);
const runs = Number(process.env['BENCH_RUNS'] ?? 5);

async function runWorker<T>(entries: number, mode: string): Promise<T> {
  const worker = join(here, 'workload.js');
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--max-old-space-size=4096', worker, String(entries), mode], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`the ${entries}-entry worker (${mode}) printed no result`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

async function runSize(entries: number): Promise<SizeResult> {
  const result = await runWorker<SizeResult>(entries, String(runs));
  const yamlOnly = await runWorker<{ peakRssBytes: number }>(entries, 'rss-yaml');
  const fastOnly = await runWorker<{ peakRssBytes: number }>(entries, 'rss-fast');
  const validateOnly = await runWorker<{ peakRssBytes: number }>(entries, 'rss-validate');
  // The product's own figures: real `ioasform plan` / `apply` processes (needs a built dist/).
  const cli = await measureCliRss(entries);
  return { ...result, peakRssYamlOnlyBytes: yamlOnly.peakRssBytes, peakRssFastOnlyBytes: fastOnly.peakRssBytes, peakRssValidateOnlyBytes: validateOnly.peakRssBytes, cli };
}

const results: SizeResult[] = [];
for (const entries of sizes) {
  process.stderr.write(`bench: ${entries} entries x ${runs} runs...\n`);
  results.push(await runSize(entries));
}
process.stderr.write('bench: kernel micro-benchmark (boots the test VM; BENCH_KERNEL=0 skips it)...\n');
const kernel = await runKernelBench();
const targets = [...evaluateTargets(results), kernelTarget(kernel)];
process.stdout.write(`${formatTable(results)}\n\n${formatKernelBench(kernel)}\n\n${formatTargets(targets)}\n`);

const report = {
  takenAt: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  runs,
  results,
  kernel,
  targets,
};
const out = join(benchSourceDir, 'results.json');
await writeFile(`${out}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
await rename(`${out}.tmp`, out);
process.stderr.write(`bench: wrote ${out}\n`);
