// Memory aid for the peak-RSS target: runs one stage of the pipeline at a time in this process
// and prints, after each, the live heap (after a full GC), the RSS and the peak RSS so far.
//   node --expose-gc dist-bench/bench/profile-memory.js <entries> [stage...]
// Stages: yaml (parseDocument kept alive), value (doc.toJS kept alive), validate (parseLayoutText),
// plan (empty state), apply (the runner on a simulator), save (saveState of the applied body).
// Each stage keeps its result alive until the next one has run, as a pipeline would.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { simHolder } from '../src/apply/holder.js';
import { runTableStep } from '../src/apply/runner.js';
import { saveState } from '../src/apply/store.js';
import { WorkingTable } from '../src/apply/working-table.js';
import { openSimulator } from '../src/backends/sim/index.js';
import { parseLayoutText } from '../src/config/parse.js';
import type { Layout } from '../src/model/layout.js';
import { emptyStateBody, type StateBody } from '../src/model/recorded.js';
import { makePlan, type Plan } from '../src/plan/plan.js';
import { generateLayout } from './generate.js';

const collect = (globalThis as { gc?: () => void }).gc;
const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function report(stage: string, started: number): void {
  collect?.();
  const usage = process.memoryUsage();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `${stage.padEnd(10)} ${seconds.padStart(5)} s  live heap ${MB(usage.heapUsed).padStart(7)}  external ${MB(usage.external + usage.arrayBuffers).padStart(6)}  rss ${MB(usage.rss).padStart(7)}  peak rss ${MB(process.resourceUsage().maxRSS * 1024).padStart(7)}\n`,
  );
}

const entries = Number(process.argv[2] ?? 100_000);
const stages = process.argv.slice(3).length > 0 ? process.argv.slice(3) : ['validate', 'plan', 'apply', 'save'];
const host = { backend: 'sim', hostname: 'bench', pageSize: 4096n } as const;

let text: string | undefined = generateLayout({ count: entries, seed: 1 }).text;
report('text', performance.now());
let doc: Document | undefined;
let value: unknown;
let layout: Layout | undefined;
let plan: Plan | undefined;
let body: StateBody | undefined;
for (const stage of stages) {
  const started = performance.now();
  if (text === undefined && ['yaml', 'value', 'validate'].includes(stage)) throw new Error(`${stage} must come before plan`);
  const source = text ?? '';
  if (stage === 'yaml') {
    doc = parseDocument(source, { intAsBigInt: true, uniqueKeys: false, lineCounter: new LineCounter(), prettyErrors: false });
  } else if (stage === 'value') {
    value = (doc ?? parseDocument(source, { intAsBigInt: true, uniqueKeys: false })).toJS();
  } else if (stage === 'validate') {
    layout = parseLayoutText(source, 'bench.yaml').layout;
    if (!layout) throw new Error('the generated layout does not validate');
    doc = undefined;
    value = undefined;
  } else if (stage === 'plan') {
    if (!layout) throw new Error('plan needs validate first');
    const made = makePlan({ desired: layout, recorded: emptyStateBody('sim'), basis: { lineage: null, serial: 0 }, host });
    if (!made.ok) throw new Error(made.error.code);
    plan = made.plan;
    text = undefined;
  } else if (stage === 'apply') {
    if (!plan) throw new Error('apply needs plan first');
    const sim = openSimulator();
    const table = WorkingTable.from(emptyStateBody('sim'));
    for (const step of plan.steps) {
      const run = await runTableStep({ ctx: sim, holder: simHolder }, table, step);
      if (!run.ok) throw new Error(`${run.call} ${run.code}`);
    }
    body = { ...table.body(), sim: sim.snapshot() };
    sim.close();
  } else if (stage === 'save') {
    if (!body) throw new Error('save needs apply first');
    const dir = await mkdtemp(join(tmpdir(), 'ioasform-mem-'));
    const saved = await saveState(join(dir, 'state.json'), null, body);
    await rm(dir, { recursive: true, force: true });
    if (!saved.ok) throw new Error(saved.code);
  } else {
    throw new Error(`unknown stage ${stage}`);
  }
  report(stage, started);
}
void value;
