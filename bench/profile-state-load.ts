// Memory aid for plans against an existing state (the CLI's `plan` 1% changed): the stages of
// loading a state file and planning against it, in one process, with the live heap (after a full
// GC), the RSS and the peak RSS after each.
//   node --expose-gc dist-bench/bench/profile-state-load.js <layout.yaml> <state.json>
import { planFor } from '../src/apply/make.js';
import { withSession } from '../src/apply/session.js';
import { loadLayoutFile } from '../src/config/load.js';

const collect = (globalThis as { gc?: () => void }).gc;
const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
let started = performance.now();
function report(stage: string): void {
  const peak = process.resourceUsage().maxRSS * 1024;
  collect?.();
  const usage = process.memoryUsage();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`${stage.padEnd(12)} ${seconds.padStart(5)} s  live heap ${MB(usage.heapUsed).padStart(7)}  rss ${MB(usage.rss).padStart(7)}  peak rss ${MB(peak).padStart(7)}\n`);
  started = performance.now();
}

const [layoutFile, statePath] = process.argv.slice(2);
if (!layoutFile || !statePath) throw new Error('usage: profile-state-load.js <layout.yaml> <state.json>');
report('start');
const loaded = await loadLayoutFile(layoutFile);
if (!loaded.layout) throw new Error('the layout does not validate');
const layout = loaded.layout;
report('load');
const result = await withSession({ statePath, backend: 'sim', operation: 'plan', lockTimeoutMs: 0 }, async (session) => {
  report('state load');
  const made = await planFor(session, layout, layoutFile);
  if (!made.ok) return { ok: false, error: { code: made.code, message: made.message } };
  report('plan');
  return { ok: true, value: made.plan.steps.length };
});
if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
report('done');
