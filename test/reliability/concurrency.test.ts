// Issue 6.3: N parallel apply/plan/destroy processes on one state. All but the lock holder wait
// (with --lock-timeout) or fail with the lock message; whatever order they ran in, the final
// state is sound: no journal, no lock, and it equals exactly one of the layouts (or empty after a
// destroy) — which a final plan confirms. A process killed while holding the lock leaves a stale
// lock that every other process reports as such (not as "held"), naming the force-unlock command.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, start, workdir } from '../cli/support.js';
import { LONG, record } from './figures.js';

const LAYOUTS = ['examples/vmm-guest-ram.yaml', 'examples/test-lab.yaml', 'examples/dpdk-appliance.yaml'];
const ROUNDS = LONG ? 20 : 3;
const N = 6;
const figures = { rounds: 0, processes: 0, lockRefusals: 0, waitedThenRan: 0, staleReports: 0 };

beforeAll(() => ensureBuilt(), 120_000);

function command(i: number, round: number): string[] {
  const layout = LAYOUTS[(i + round) % LAYOUTS.length]!;
  const wait = i % 2 === 0 ? ['--lock-timeout', '60s'] : [];
  switch ((i + round) % 3) {
    case 0: return [...wait, 'apply', '--auto-approve', layout];
    case 1: return [...wait, 'plan', layout];
    default: return [...wait, 'destroy', '--auto-approve'];
  }
}

describe(`${N} parallel apply/plan/destroy processes on one state`, () => {
  it(`${ROUNDS} rounds: losers wait or fail with the lock message; the final state is sound`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = workdir();
      expect((await cli(['apply', '--auto-approve', LAYOUTS[0]!], dir)).code).toBe(0);
      const runs = Array.from({ length: N }, (_, i) => ({ args: command(i, round), run: start(command(i, round), dir, { IOASFORM_TEST_STEP_DELAY_MS: '20' }) }));
      const results = await Promise.all(runs.map(async (r) => ({ args: r.args, result: await r.run.done })));
      for (const { args, result } of results) {
        figures.processes += 1;
        expect(result.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
        if (args[0] === '--lock-timeout') {
          // Waiters always get their turn: success, or "changes present" for plan.
          expect(args.includes('plan') ? [0, 2] : [0], `${args.join(' ')}: ${result.stderr}`).toContain(result.code);
          figures.waitedThenRan += 1;
        } else if (result.code === 1) {
          expect(result.stderr).toMatch(/locked by pid \d+/);
          figures.lockRefusals += 1;
        }
      }
      expect(existsSync(join(dir, 'ioasform.state.json.journal'))).toBe(false);
      expect(existsSync(join(dir, 'ioasform.state.json.lock'))).toBe(false);
      // Sound: exactly one of the layouts (plan says no changes) or empty after a destroy.
      const shown = JSON.parse((await cli(['show', '--json'], dir)).stdout) as { state: { ioas: { name: string }[] } | null };
      const settled = [];
      for (const layout of LAYOUTS) settled.push((await cli(['plan', layout], dir)).code);
      const empty = shown.state === null || shown.state.ioas.length === 0;
      expect(empty || settled.filter((c) => c === 0).length === 1, `round ${round}: ${JSON.stringify(settled)}`).toBe(true);
      figures.rounds += 1;
    }
    expect(figures.lockRefusals).toBeGreaterThan(0);
  }, 600_000);

  it('a lock left by a SIGKILLed apply is reported as stale by every concurrent command', async () => {
    const dir = workdir();
    const { child, done } = start(['apply', '--auto-approve', LAYOUTS[1]!], dir, { IOASFORM_TEST_STEP_DELAY_MS: '100' });
    while (!existsSync(join(dir, 'ioasform.state.json.journal'))) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await done;
    const others = await Promise.all([
      cli(['plan', LAYOUTS[0]!], dir),
      cli(['--lock-timeout', '30s', 'apply', '--auto-approve', LAYOUTS[0]!], dir),
      cli(['destroy', '--auto-approve'], dir),
    ]);
    for (const r of others) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no longer exists.*force-unlock [0-9a-f-]{36}/s);
      figures.staleReports += 1;
    }
    record('concurrency', figures);
  }, 120_000);
});
