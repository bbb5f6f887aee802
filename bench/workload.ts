// One size of the benchmark, in its own process (so the peak RSS is this size's alone):
//   node --expose-gc dist-bench/bench/workload.js <entries> <runs>
// or one RSS probe (yaml parse or validate alone, once):
//   node dist-bench/bench/workload.js <entries> rss-yaml|rss-fast|rss-validate
// Prints one line `RESULT <json>` on stdout (a SizeResult, or {peakRssBytes}).

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { runTableStep } from '../src/apply/runner.js';
import { WorkingTable } from '../src/apply/working-table.js';
import { simHolder } from '../src/apply/holder.js';
import { runSteps, withSession } from '../src/apply/session.js';
import { loadState, saveState } from '../src/apply/store.js';
import { openSimulator } from '../src/backends/sim/index.js';
import { readCommonYaml } from '../src/config/fast-yaml.js';
import { parseLayoutText } from '../src/config/parse.js';
import type { Layout } from '../src/model/layout.js';
import type { StateBody } from '../src/model/recorded.js';
import { emptyStateBody } from '../src/model/recorded.js';
import { makePlan, type Plan } from '../src/plan/plan.js';
import type { CliRss } from './cli-rss.js';
import { generateLayout } from './generate.js';
import { measure, type Timing } from './measure.js';
import { applyOnSimulator, recordingSimulator, replayCalls, type RecordedCall } from './sim-apply.js';

export interface SizeResult {
  readonly entries: number;
  readonly runs: number;
  readonly yamlBytes: number;
  readonly counts: ReturnType<typeof generateLayout>['counts'];
  readonly steps: { readonly emptyPlan: number; readonly incrementalPlan: number; readonly incrementalChanges: number };
  readonly stateBytes: number;
  readonly ms: {
    readonly yamlParse: Timing;
    readonly validate: Timing;
    readonly validateChanged: Timing;
    readonly planEmpty: Timing;
    readonly planIncremental: Timing;
    /** Plan steps run on the simulator, recorded body built (bench/sim-apply.ts). */
    readonly simApply: Timing;
    /** The same uapi calls replayed with nothing else: the simulator's own cost. */
    readonly simCallsOnly: Timing;
    readonly stateSave: Timing;
    readonly stateLoad: Timing;
    /** The applier's runner (src/apply/runner.ts), one run; null above RUNNER_MAX entries. */
    readonly runnerApply: Timing | null;
    /**
     * A real apply as `ioasform apply` makes it, minus planning: lock, journal, every call through
     * the applier, its commits (the final state save included), journal removal, unlock
     * (withSession + runSteps on a fresh state file); null above RUNNER_MAX entries.
     */
    readonly applierApply?: Timing | null;
  };
  /** process.resourceUsage().maxRSS of this process (every phase), bytes. */
  readonly peakRssBytes: number;
  /** Peak RSS of a fresh process that only parses the yaml / only validates (run.ts fills these). */
  readonly peakRssYamlOnlyBytes?: number;
  readonly peakRssValidateOnlyBytes?: number;
  /** Peak RSS of a fresh process that only reads the text with the fast path (js-yaml, src/config/fast-yaml.ts). */
  readonly peakRssFastOnlyBytes?: number;
  /** Peak RSS and wall time of real CLI processes: plan, apply, plan of the 1%-changed file (run.ts fills it). */
  readonly cli?: CliRss;
}

/** The largest size whose runner apply is timed (the working table made it O(n log n); see bench/README.md). */
export const RUNNER_MAX = Number(process.env['BENCH_RUNNER_MAX'] ?? 100_000);

const HOST = { backend: 'sim', hostname: 'bench', pageSize: 4096n } as const;
const EMPTY_BASIS = { lineage: null, serial: 0 };

function layoutOf(text: string, file: string): Layout {
  const parsed = parseLayoutText(text, file);
  if (!parsed.layout) throw new Error(`${file} does not validate: ${parsed.diagnostics.slice(0, 3).map((d) => d.message).join('; ')}`);
  return parsed.layout;
}

function planOf(desired: Layout, recorded: StateBody): Plan {
  const made = makePlan({ desired, recorded, basis: EMPTY_BASIS, host: HOST });
  if (!made.ok) throw new Error(`the planner refused: ${made.error.code}`);
  return made.plan;
}

async function runnerApply(steps: Plan['steps']): Promise<StateBody> {
  const sim = openSimulator();
  const table = WorkingTable.from(emptyStateBody('sim'));
  for (const step of steps) {
    const run = await runTableStep({ ctx: sim, holder: simHolder }, table, step);
    if (!run.ok) throw new Error(`runner: ${run.call} ${run.code}`);
  }
  sim.close();
  return table.body();
}

/** One real apply of `steps` into a fresh state file in `dir` (see SizeResult.ms.applierApply). */
export async function applierApply(dir: string, steps: Plan['steps']): Promise<number> {
  const statePath = join(dir, `applier-${Date.now()}-${Math.random().toString(16).slice(2)}.state.json`);
  const r = await withSession({ statePath, backend: 'sim', operation: 'apply', lockTimeoutMs: 0 }, async (session) => {
    const ran = await runSteps(session, steps, 'apply');
    return ran.ok ? { ok: true as const, value: ran.report } : ran;
  });
  if (!r.ok) throw new Error(`applier: ${r.error.code} ${r.error.message}`);
  if (r.value.outcome !== 'applied') throw new Error(`applier: ${r.value.outcome}`);
  await rm(statePath, { force: true });
  return r.value.executed;
}

export async function measureSize(entries: number, runs: number): Promise<SizeResult> {
  const base = generateLayout({ count: entries, seed: 1 });
  const changed = generateLayout({ count: entries, seed: 1, changedFraction: 0.01 });

  // The floor: the same yaml call parse.ts makes, and nothing else.
  // Only a boolean survives the run, so the Document (hundreds of MB at 100k) is not kept alive.
  const yamlParse = await measure(runs, () => parseDocument(base.text, { intAsBigInt: true, uniqueKeys: false, lineCounter: new LineCounter(), prettyErrors: false }).errors.length === 0);
  const validate = await measure(runs, () => layoutOf(base.text, 'bench.yaml'));
  const validateChanged = await measure(runs, () => layoutOf(changed.text, 'bench-changed.yaml'));
  const desired = validate.last;

  const planEmpty = await measure(runs, () => planOf(desired, emptyStateBody('sim')));
  const steps = planEmpty.last.steps;

  let lastSim = openSimulator();
  const simApply = await measure(runs, () => {
    lastSim.close();
    lastSim = openSimulator();
    return applyOnSimulator(lastSim, steps);
  });
  const applied: StateBody = { ...simApply.last, sim: lastSim.snapshot() };
  lastSim.close();

  // The simulator alone: the same uapi calls, recorded once and replayed on fresh simulators.
  const calls: RecordedCall[] = [];
  applyOnSimulator(recordingSimulator(openSimulator(), calls), steps);
  const simCallsOnly = await measure(runs, () => {
    const sim = openSimulator();
    const n = replayCalls(sim, calls);
    sim.close();
    return n;
  });

  const planIncremental = await measure(runs, () => planOf(validateChanged.last, applied));

  const dir = await mkdtemp(join(tmpdir(), 'ioasform-bench-'));
  const path = join(dir, 'bench.state.json');
  let stateBytes = 0;
  try {
    const stateSave = await measure(runs, async () => {
      await rm(path, { force: true });
      const saved = await saveState(path, null, applied);
      if (!saved.ok) throw new Error(`saveState: ${saved.code} ${saved.message}`);
      return saved;
    });
    stateBytes = (await stat(path)).size;
    const stateLoad = await measure(runs, async () => {
      const loaded = await loadState(path, 'sim');
      if (!loaded.ok) throw new Error(`loadState: ${loaded.code} ${loaded.message}`);
      return loaded;
    });
    const runner = entries <= RUNNER_MAX ? (await measure(1, () => runnerApply(steps))).timing : null;
    const applier = entries <= RUNNER_MAX ? (await measure(runs, () => applierApply(dir, steps))).timing : null;
    return {
      entries,
      runs,
      yamlBytes: Buffer.byteLength(base.text),
      counts: base.counts,
      steps: { emptyPlan: steps.length, incrementalPlan: planIncremental.last.steps.length, incrementalChanges: planIncremental.last.changes.length },
      stateBytes,
      ms: {
        yamlParse: yamlParse.timing,
        validate: validate.timing,
        validateChanged: validateChanged.timing,
        planEmpty: planEmpty.timing,
        planIncremental: planIncremental.timing,
        simApply: simApply.timing,
        simCallsOnly: simCallsOnly.timing,
        stateSave: stateSave.timing,
        stateLoad: stateLoad.timing,
        runnerApply: runner,
        applierApply: applier,
      },
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Peak RSS of one step alone, in a fresh process: yaml's Document, the fast path's read, validation. */
export type RssProbe = 'rss-yaml' | 'rss-fast' | 'rss-validate';

export function probeRss(entries: number, probe: RssProbe): number {
  const text = generateLayout({ count: entries, seed: 1 }).text;
  if (probe === 'rss-yaml') parseDocument(text, { intAsBigInt: true, uniqueKeys: false, lineCounter: new LineCounter(), prettyErrors: false });
  else if (probe === 'rss-fast') {
    if (!readCommonYaml(text).ok) throw new Error('the fast path declined the generated layout');
  } else layoutOf(text, 'bench.yaml');
  return process.resourceUsage().maxRSS * 1024;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const entries = Number(process.argv[2]);
  const mode = process.argv[3] ?? '5';
  if (mode === 'rss-yaml' || mode === 'rss-fast' || mode === 'rss-validate') {
    process.stdout.write(`RESULT ${JSON.stringify({ peakRssBytes: probeRss(entries, mode) })}\n`);
  } else {
    const runs = Number(mode);
    if (!Number.isInteger(entries) || entries <= 0 || !Number.isInteger(runs) || runs <= 0) {
      process.stderr.write('usage: workload.js <entries> [runs | rss-yaml | rss-validate]\n');
      process.exit(2);
    }
    const result = await measureSize(entries, runs);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  }
}
