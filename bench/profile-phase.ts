// Profiling aid: runs one phase of the benchmark once, for `node --cpu-prof`.
//   node --cpu-prof dist-bench/bench/profile-phase.js <validate|plan-empty|plan-incremental> <entries>
import { parseLayoutText } from '../src/config/parse.js';
import { emptyStateBody } from '../src/model/recorded.js';
import { makePlan } from '../src/plan/plan.js';
import { openSimulator } from '../src/backends/sim/index.js';
import { generateLayout } from './generate.js';
import { applyOnSimulator } from './sim-apply.js';

const [phase = 'plan-empty', count = '10000'] = process.argv.slice(2);
const host = { backend: 'sim', hostname: 'bench', pageSize: 4096n } as const;
const basis = { lineage: null, serial: 0 };
const text = generateLayout({ count: Number(count) }).text;
const t0 = performance.now();
const desired = parseLayoutText(text).layout;
const t1 = performance.now();
if (!desired) throw new Error('the generated layout does not validate');
const empty = makePlan({ desired, recorded: emptyStateBody('sim'), basis, host });
const t2 = performance.now();
if (!empty.ok) throw new Error(empty.error.code);
let t3 = t2;
let t4 = t2;
if (phase === 'plan-incremental') {
  const body = applyOnSimulator(openSimulator(), empty.plan.steps);
  const changed = parseLayoutText(generateLayout({ count: Number(count), changedFraction: 0.01 }).text).layout!;
  t3 = performance.now();
  makePlan({ desired: changed, recorded: body, basis, host });
  t4 = performance.now();
}
console.log(`validate ${(t1 - t0).toFixed(0)} ms, plan empty ${(t2 - t1).toFixed(0)} ms, plan incremental ${(t4 - t3).toFixed(0)} ms`);
