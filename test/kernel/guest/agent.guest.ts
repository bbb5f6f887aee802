// Runs inside the QEMU VM only (test/kernel/harness.ts), as root, on the shared 6.12 test kernel:
// the holder agent on the real kernel, driven by real CLI processes (dist/ must be built on the
// host first: `npm run build`). Every CLI exits between steps; the agent holds the layout.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHandover } from '../../../src/agent/handover.js';
import { openKernel, type KernelContext } from '../../../src/backends/kernel/kernel.js';
import { agentWorkdir, cli, ROOT, run, startAgent, type Agent } from './agent-cli.js';

const layoutOf = (shown: Shown): unknown => ({
  memory: shown.state?.memory,
  ioas: shown.state?.ioas.map(({ id: _id, ...rest }) => rest),
});

interface Shown { state: { ioas: { name: string; id: number; entries: unknown[] }[]; memory: { name: string }[] } | null }

describe('the holder agent on the real kernel', () => {
  const { dir, socket } = agentWorkdir('ioasform-agent-vm-');
  let agent: Agent;
  const show = async (): Promise<Shown> => {
    const r = await cli(['--agent', socket, 'show', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Shown;
  };

  beforeAll(async () => {
    agent = await startAgent(dir, socket);
  });
  afterAll(async () => {
    expect(await agent.stop()).toBe(0);
  });

  it('applies the examples through the agent; each layout outlives its CLI and a new CLI shows it without drift', async () => {
    for (const name of ['test-lab.yaml', 'vmm-guest-ram.yaml']) {
      const applied = await cli(['--agent', socket, 'apply', '--auto-approve', `examples/${name}`], dir);
      expect(applied.code, `${name}\n${applied.stdout}\n${applied.stderr}`).toBe(0);
      expect(applied.stdout).toContain('Apply complete');
      const shown = await show();
      expect(shown.state!.ioas.length).toBeGreaterThan(0);
      const again = await cli(['--agent', socket, 'plan', `examples/${name}`], dir);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).not.toContain('Drift detected');
    }
    // 3 GiB of 1 GiB huge pages cannot exist in this 2 GiB VM: the holder's mmap fails and the
    // apply must roll back to exactly the layout before it.
    const before = await show();
    const dpdk = await cli(['--agent', socket, 'apply', '--auto-approve', 'examples/dpdk-appliance.yaml'], dir);
    console.log(`dpdk-appliance through the agent: exit ${dpdk.code}`);
    if (dpdk.code === 0) {
      expect((await show()).state!.ioas.map((i) => i.name).sort()).toEqual(['port0', 'port1'].sort());
    } else {
      expect(dpdk.code, dpdk.stderr).toBe(1);
      expect(dpdk.stderr).toMatch(/holder|memory/i);
      // The rollback recreates what the apply had destroyed, so kernel ids, serial and journal
      // sequence move on; the layout itself (names, ranges, areas at their IOVAs) must be back.
      expect(layoutOf(await show())).toEqual(layoutOf(before));
    }
  });

  it('hands the fds over: the example client calls IOVA_RANGES by the told ids through the received fd', async () => {
    const shown = await show();
    const client = await run(process.execPath, [join(ROOT, 'examples', 'agent-client.mjs'), socket], dir);
    expect(client.code, client.stdout + client.stderr).toBe(0);
    for (const ioas of shown.state!.ioas) expect(client.stdout).toContain(`ioas ${ioas.name} (id ${ioas.id}): ${ioas.entries.length} area(s); IOVA ranges: 0x`);
    expect(client.stdout).toMatch(/fd \d+: iommufd/);
    expect(client.stdout).toMatch(/fd \d+: memory/);
  });

  it('destroy frees everything: the state is empty and the old IOAS ids are gone from the kernel', async () => {
    const shown = await show();
    const got = await requestHandover(socket);
    if (!got.ok) throw new Error(`${got.code}: ${got.message}`);
    const index = got.result.fds.find((f) => f.kind === 'iommufd')!.index!;
    const ctx: KernelContext = openKernel({ fd: got.fds[index]! });
    try {
      for (const i of shown.state!.ioas) expect(ctx.ioasIovaRanges({ ioasId: i.id, numIovas: 4 }).errno).toBe(0);
      const destroyed = await cli(['--agent', socket, 'destroy', '--auto-approve'], dir);
      expect(destroyed.code, destroyed.stdout + destroyed.stderr).toBe(0);
      const after = await show();
      expect(after.state!.ioas).toEqual([]);
      expect(after.state!.memory).toEqual([]);
      // The received fd is the agent's context: the IOASes are gone from it.
      for (const i of shown.state!.ioas) expect(ctx.ioasIovaRanges({ ioasId: i.id, numIovas: 4 }).code).toBe('ENOENT');
      const again = await requestHandover(socket);
      if (!again.ok) throw new Error(again.code);
      expect(again.result.fds).toEqual([{ index: 0, kind: 'iommufd' }]);
      expect(again.result.ioas).toEqual([]);
    } finally {
      ctx.close();
    }
  });

  it('a new agent reports what died with the previous one, and records an empty layout', async () => {
    const applied = await cli(['--agent', socket, 'apply', '--auto-approve', 'examples/test-lab.yaml'], dir);
    expect(applied.code).toBe(0);
    const held = (await show()).state!;
    expect(await agent.stop()).toBe(0);
    agent = await startAgent(dir, socket);
    const r = await cli(['--agent', socket, 'show', '--json'], dir);
    expect(r.stderr).toContain(`lost ${held.ioas.length} IOAS(es)`);
    expect((JSON.parse(r.stdout) as Shown).state!.ioas).toEqual([]);
  });
});
