// Profiling aid: the simulator apply of one size, run a few times, for `node --cpu-prof`.
//   node --cpu-prof dist-bench/bench/profile-apply.js <entries>
import { openSimulator } from '../src/backends/sim/index.js';
import { parseLayoutText } from '../src/config/parse.js';
import { emptyStateBody } from '../src/model/recorded.js';
import { makePlan } from '../src/plan/plan.js';
import { generateLayout } from './generate.js';
import { applyOnSimulator } from './sim-apply.js';

const count = Number(process.argv[2] ?? 100_000);
const desired = parseLayoutText(generateLayout({ count }).text).layout;
if (!desired) throw new Error('the generated layout does not validate');
const made = makePlan({ desired, recorded: emptyStateBody('sim'), basis: { lineage: null, serial: 0 }, host: { backend: 'sim', hostname: 'bench', pageSize: 4096n } });
if (!made.ok) throw new Error(made.error.code);
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  applyOnSimulator(openSimulator(), made.plan.steps);
  console.log(`sim apply ${(performance.now() - t).toFixed(0)} ms`);
}
