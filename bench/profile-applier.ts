// Profiling aid: a real apply through the applier (journal, commits, final state save) of one
// size, for `node --cpu-prof dist-bench/bench/profile-applier.js <entries>`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLayoutText } from '../src/config/parse.js';
import { emptyStateBody } from '../src/model/recorded.js';
import { makePlan } from '../src/plan/plan.js';
import { generateLayout } from './generate.js';
import { applierApply } from './workload.js';

const count = Number(process.argv[2] ?? 100_000);
const desired = parseLayoutText(generateLayout({ count }).text).layout;
if (!desired) throw new Error('the generated layout does not validate');
const made = makePlan({ desired, recorded: emptyStateBody('sim'), basis: { lineage: null, serial: 0 }, host: { backend: 'sim', hostname: 'bench', pageSize: 4096n } });
if (!made.ok) throw new Error(made.error.code);
const dir = await mkdtemp(join(tmpdir(), 'ioasform-profile-'));
try {
  for (let i = 0; i < Number(process.argv[3] ?? 1); i++) {
    const t = performance.now();
    const calls = await applierApply(dir, made.plan.steps);
    console.log(`applier apply: ${calls} calls in ${(performance.now() - t).toFixed(0)} ms`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
