// The CLI with --agent against a real agent child process gives the same output and exit codes as
// the local path, on every example; the agent outlives the CLI processes.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT, cli, ensureBuilt, start } from '../cli/support.js';
import type { ChildAgent } from './support.js';
import { EXAMPLES, agentDir, childAgent } from './support.js';

beforeAll(() => ensureBuilt(), 180_000);

const agents: ChildAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) if (a.child.exitCode === null) await a.stop();
});

async function agentIn(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<ChildAgent> {
  const a = await childAgent(dir, args, env);
  agents.push(a);
  return a;
}

/** Lineages are random UUIDs; everything else must be identical. */
const normal = (text: string): string => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<lineage>');

describe('CLI through the agent', () => {
  it.each(EXAMPLES)('%s: plan, apply, plan, show, show --json, destroy print and exit as the local path does', async (name) => {
    const local = agentDir();
    const remote = agentDir();
    const a = await agentIn(remote);
    const file = `examples/${name}`;
    const script: string[][] = [['plan', file], ['plan', '--calls', file], ['apply', '--auto-approve', file], ['plan', file], ['show'], ['show', '--json'], ['destroy', '--auto-approve'], ['show']];
    for (const args of script) {
      const l = await cli(args, local);
      const r = await cli(['--agent', a.socket, ...args], remote);
      expect({ args, code: r.code, out: normal(r.stdout) }).toEqual({ args, code: l.code, out: normal(l.stdout) });
    }
    // Every CLI above was its own process: the agent held the applied layout in between.
    expect(a.stderr()).toContain('op=apply');
  }, 240_000);

  it('a saved plan (plan -out) applies through the agent; an edited one is refused', async () => {
    const dir = agentDir();
    const a = await agentIn(dir);
    expect((await cli(['--agent', a.socket, 'plan', '-out', 'lab.plan', 'examples/test-lab.yaml'], dir)).code).toBe(2);
    const applied = await cli(['--agent', a.socket, 'apply', 'lab.plan'], dir);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete');
    const again = await cli(['--agent', a.socket, 'apply', 'lab.plan'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/stale/);
  });

  it('--backend must match the agent; --backend kernel without --agent names `ioasform agent`', async () => {
    const dir = agentDir();
    const a = await agentIn(dir);
    const mismatch = await cli(['--agent', a.socket, '--backend', 'kernel', 'show'], dir);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('--backend kernel does not match the agent');
    expect((await cli(['--agent', a.socket, '--backend', 'sim', 'show'], dir)).code).toBe(0);
    for (const args of [['plan', 'examples/test-lab.yaml'], ['apply', '--auto-approve', 'examples/test-lab.yaml'], ['show'], ['destroy', '--auto-approve']]) {
      const r = await cli(['--backend', 'kernel', ...args], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ioasform agent');
    }
    const none = await cli(['--agent', join(dir, 'nobody.sock'), 'show'], dir);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('cannot connect to the agent');
  });

  it('Ctrl-C in the CLI cancels: the agent stops before its next call and rolls back (exit 1)', async () => {
    const dir = agentDir();
    const a = await agentIn(dir, [], { IOASFORM_TEST_STEP_DELAY_MS: '150' });
    const run = start(['--agent', a.socket, 'apply', '--auto-approve', 'examples/dpdk-appliance.yaml'], dir);
    await new Promise<void>((resolve) => run.child.stdout!.on('data', (d: Buffer) => d.toString().includes('-> OK') && resolve()));
    run.child.kill('SIGINT');
    const done = await run.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/rolled back|Rolled back|undo/i);
    const shown = await cli(['--agent', a.socket, 'show', '--json'], dir);
    expect(JSON.parse(shown.stdout).state.ioas).toEqual([]);
  });

  it('a CLI killed mid-apply does not stop the apply: a new CLI shows it finished', async () => {
    const dir = agentDir();
    const a = await agentIn(dir, [], { IOASFORM_TEST_STEP_DELAY_MS: '100' });
    const run = start(['--agent', a.socket, 'apply', '--auto-approve', 'examples/test-lab.yaml'], dir);
    await new Promise<void>((resolve) => run.child.stdout!.on('data', (d: Buffer) => d.toString().includes('-> OK') && resolve()));
    run.child.kill('SIGKILL');
    await run.done;
    let shown;
    for (;;) {
      shown = await cli(['--agent', a.socket, 'show', '--json'], dir);
      if (shown.stderr.includes("agent's last operation")) break;
    }
    expect(shown.stderr).toContain('apply -> applied');
    expect(shown.stderr).toContain('finished after its client disconnected');
    expect(JSON.parse(shown.stdout).state.ioas.map((i: { name: string }) => i.name).sort()).toEqual(['lab', 'mirror']);
  });
});

describe('examples/agent-client.mjs', () => {
  it('asks a sim agent for the handover and reports NOT_KERNEL (exit 1)', async () => {
    const dir = agentDir();
    const a = await agentIn(dir);
    const outcome = await promisify(execFile)(process.execPath, [join(ROOT, 'examples', 'agent-client.mjs'), a.socket]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('NOT_KERNEL');
  });
});

describe('the agent process', () => {
  it('creates its socket 0600, or 0660 owned by --group; SIGTERM exits 0 and removes the socket', async () => {
    const dir = agentDir();
    const a = await agentIn(dir);
    expect(statSync(a.socket).mode & 0o777).toBe(0o600);
    expect(await a.stop()).toBe(0);
    expect(existsSync(a.socket)).toBe(false);
    const g = await agentIn(dir, ['--group', 'nogroup']);
    const st = statSync(g.socket);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(65534);
    expect(await g.stop()).toBe(0);
  });

  it('refuses to start over a live agent; replaces the socket of a dead one', async () => {
    const dir = agentDir();
    const a = await agentIn(dir);
    const second = await cli(['--backend', 'sim', 'agent', '--socket', a.socket], dir);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('already serving');
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    expect(existsSync(a.socket)).toBe(true);
    const b = await agentIn(dir);
    expect((await cli(['--agent', b.socket, 'show'], dir)).code).toBe(0);
  });
});
