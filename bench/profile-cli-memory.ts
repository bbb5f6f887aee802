// Memory aid for the CLI's own figures: the stages of `ioasform apply --auto-approve FILE` (and of
// `plan`, which stops after "render") in one process, as src/cli/commands/apply.ts runs them, with
// the live heap (after a full GC), the RSS and the peak RSS after each.
//   node --expose-gc dist-bench/bench/profile-cli-memory.js <layout.yaml> <state.json> [out-file]
// The CLI's printed text goes to out-file (default /dev/null), as a redirected CLI's would.
import { openSync, writeSync } from 'node:fs';
import { planFor } from '../src/apply/make.js';
import { runSteps, withSession } from '../src/apply/session.js';
import { loadLayoutFile } from '../src/config/load.js';
import { PLAIN as plainStyle, describeStep, renderApplyReport, renderPlan } from '../src/cli/plan-view.js';
import { callName } from '../src/model/step.js';

const collect = (globalThis as { gc?: () => void }).gc;
const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
let started = performance.now();
function report(stage: string): void {
  collect?.();
  const usage = process.memoryUsage();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`${stage.padEnd(12)} ${seconds.padStart(5)} s  live heap ${MB(usage.heapUsed).padStart(7)}  rss ${MB(usage.rss).padStart(7)}  peak rss ${MB(process.resourceUsage().maxRSS * 1024).padStart(7)}\n`);
  started = performance.now();
}

const [layoutFile, statePath, outFile] = process.argv.slice(2);
if (!layoutFile || !statePath) throw new Error('usage: profile-cli-memory.js <layout.yaml> <state.json> [out-file]');
const out = openSync(outFile ?? '/dev/null', 'w');
const print = (text: string) => void writeSync(out, text);
report('start');
const loaded = await loadLayoutFile(layoutFile);
if (!loaded.layout) throw new Error('the layout does not validate');
const layout = loaded.layout;
report('load');
const result = await withSession({ statePath, backend: 'sim', operation: 'apply', lockTimeoutMs: 0 }, async (session) => {
  report('state load');
  const made = await planFor(session, layout, layoutFile);
  if (!made.ok) return { ok: false, error: { code: made.code, message: made.message } };
  report('plan');
  print(renderPlan(made.plan, plainStyle, { calls: false }));
  report('render');
  const ran = await runSteps(session, made.plan.steps, 'apply', (e) => {
    if (e.kind === 'step-done') print(`${callName(e.step)} ${describeStep(e.step)} -> ${e.code}\n`);
  });
  if (!ran.ok) return ran;
  report('apply+save');
  print(renderApplyReport(ran.report, plainStyle));
  return { ok: true, value: ran.report.outcome };
});
if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
report('done');
