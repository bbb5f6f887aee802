// A sim-backend agent started in-process, driven through the client API.
import { closeSync, fstatSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requestHandover } from '../../src/agent/handover.js';
import { openSimulator } from '../../src/backends/sim/index.js';
import { simHolder } from '../../src/apply/holder.js';
import type { AgentClient } from '../../src/agent/client.js';
import type { OpenedBackend } from '../../src/agent/backend.js';
import { handoverList } from '../../src/agent/kernel-backend.js';
import { encodeFrame } from '../../src/agent/protocol.js';
import type { Reply } from '../../src/agent/protocol.js';
import type { StateBody } from '../../src/model/recorded.js';
import type { InProcessAgent } from './support.js';
import { EXAMPLES, agentDir, client, exampleText, inProcessAgent } from './support.js';

const result = <T>(reply: Reply): T => {
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result as T;
};
const codeOf = (reply: Reply): string => (reply.ok ? 'ok' : reply.error.code);

interface ShowResult {
  serial: number | null;
  state: { ioas: { name: string; id: number; entries: unknown[] }[]; memory: unknown[] } | null;
  lastOperation: { operation: string; outcome: string; clientGone: boolean; executed: number } | null;
  lost: { ioas: number; mappings: number; previous: { pid: number } | null } | null;
}

const open: { agents: InProcessAgent[]; clients: AgentClient[] } = { agents: [], clients: [] };
afterEach(async () => {
  for (const c of open.clients.splice(0)) c.close();
  for (const a of open.agents.splice(0)) await a.agent.close();
});

async function started(dir: string, options: Parameters<typeof inProcessAgent>[1] = {}): Promise<{ a: InProcessAgent; c: AgentClient }> {
  const a = await inProcessAgent(dir, options);
  open.agents.push(a);
  const c = await client(a.socket);
  open.clients.push(c);
  return { a, c };
}

async function planOf(c: AgentClient, dir: string, name: string): Promise<unknown> {
  return result<{ plan: unknown }>(await c.request('plan', { layout: exampleText(dir, name), file: `examples/${name}` })).plan;
}

describe('agent (sim backend, in-process)', () => {
  it('plans, applies with events, and shows every example; a second plan has no changes', async () => {
    const dir = agentDir();
    const { c } = await started(dir);
    expect(result<{ backend: string; lost: unknown }>(await c.request('hello'))).toMatchObject({ backend: 'sim', lost: null });
    for (const name of EXAMPLES) {
      const plan = (await planOf(c, dir, name)) as { steps: unknown[] };
      const events: { kind: string }[] = [];
      const applied = result<{ report: { outcome: string; executed: number } }>(await c.request('apply', { plan }, { onEvent: (e) => events.push(e as { kind: string }) }));
      expect(applied.report.outcome).toBe('applied');
      expect(applied.report.executed).toBe(plan.steps.length);
      expect(events.filter((e) => e.kind === 'step')).toHaveLength(plan.steps.length);
      const again = (await planOf(c, dir, name)) as { steps: unknown[] };
      expect(again.steps).toEqual([]);
      const shown = result<ShowResult>(await c.request('show'));
      expect(shown.lastOperation).toMatchObject({ operation: 'apply', outcome: 'applied', clientGone: false });
      expect(shown.state!.ioas.length).toBeGreaterThan(0);
    }
    const destroyPlan = result<{ plan: { steps: unknown[] } }>(await c.request('plan', { destroy: true })).plan;
    expect(destroyPlan.steps.length).toBeGreaterThan(0);
    expect(result<{ report: { outcome: string } }>(await c.request('destroy', { plan: destroyPlan })).report.outcome).toBe('applied');
    expect(result<ShowResult>(await c.request('show')).state!.ioas).toEqual([]);
  });

  it('refuses a stale plan and an edited plan without changing the state', async () => {
    const dir = agentDir();
    const { c } = await started(dir);
    const plan = (await planOf(c, dir, 'test-lab.yaml')) as { steps: { ioas?: string }[]; desired: unknown };
    const edited = { ...plan, steps: plan.steps.slice(1) };
    expect(codeOf(await c.request('apply', { plan: edited }))).toBe('PLAN_TAMPERED');
    const before = result<ShowResult>(await c.request('show')).serial;
    expect(result<{ report: { outcome: string } }>(await c.request('apply', { plan })).report.outcome).toBe('applied');
    const after = result<ShowResult>(await c.request('show')).serial;
    expect(codeOf(await c.request('apply', { plan }))).toBe('PLAN_STALE');
    expect(result<ShowResult>(await c.request('show')).serial).toBe(after);
    expect(after).not.toBe(before);
  });

  it('answers bad fields with a code: apply without a plan, plan without a layout, an invalid layout', async () => {
    const dir = agentDir();
    const { c } = await started(dir);
    expect(codeOf(await c.request('apply'))).toBe('BAD_FIELD');
    expect(codeOf(await c.request('apply', { plan: { formatVersion: 1 } }))).toBe('BAD_FIELD');
    expect(codeOf(await c.request('destroy', { plan: 'x' }))).toBe('BAD_FIELD');
    expect(codeOf(await c.request('plan'))).toBe('BAD_FIELD');
    expect(codeOf(await c.request('plan', { layout: 'x', file: 3 }))).toBe('BAD_FIELD');
    const bad = await c.request('plan', { layout: 'version: 1\nioas:\n  a: {mappings: {m: {memory: nope, iova: auto}}}\n', file: 'bad.yaml' });
    expect(codeOf(bad)).toBe('LAYOUT_INVALID');
    expect(bad.ok ? [] : (bad.error['diagnostics'] as unknown[]).length).toBeGreaterThan(0);
    expect(result<ShowResult>(await c.request('show')).state).toBeNull();
  });

  it('cancel stops the running apply before its next call and rolls it back; with nothing running it cancels nothing', async () => {
    const dir = agentDir();
    const { c } = await started(dir, { stepDelayMs: 30 });
    expect(result<{ cancelled: boolean }>(await c.request('cancel'))).toEqual({ cancelled: false });
    const plan = await planOf(c, dir, 'dpdk-appliance.yaml');
    let cancelled: Promise<Reply> | null = null;
    const applied = await c.request('apply', { plan }, {
      onEvent: (e) => {
        if ((e as { kind: string }).kind === 'step-done' && cancelled === null) cancelled = c.request('cancel');
      },
    });
    expect(cancelled).not.toBeNull();
    expect(result<{ cancelled: boolean }>(await cancelled!)).toEqual({ cancelled: true });
    const report = result<{ report: { outcome: string; executed: number; undos: unknown[] } }>(applied).report;
    expect(report.outcome).toBe('rolled-back');
    expect(report.executed).toBeGreaterThan(0);
    expect(report.undos.length).toBeGreaterThan(0);
    const shown = result<ShowResult>(await c.request('show'));
    expect(shown.state!.ioas).toEqual([]);
    expect(shown.state!.memory).toEqual([]);
  });

  it('a client that disconnects mid-apply does not stop it; another client sees the outcome', async () => {
    const dir = agentDir();
    const { a, c } = await started(dir, { stepDelayMs: 20 });
    const plan = (await planOf(c, dir, 'test-lab.yaml')) as { steps: unknown[] };
    let gone = false;
    void c.request('apply', { plan }, {
      onEvent: () => {
        if (!gone) {
          gone = true;
          c.socket.destroy();
        }
      },
    });
    const other = await client(a.socket);
    open.clients.push(other);
    let shown: ShowResult;
    for (;;) {
      shown = result<ShowResult>(await other.request('show'));
      if (shown.lastOperation) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(shown.lastOperation).toMatchObject({ operation: 'apply', outcome: 'applied', clientGone: true, executed: plan.steps.length });
    expect(shown.state!.ioas.map((i) => i.name).sort()).toEqual(['lab', 'mirror']);
  });

  it('pipelined requests are all answered, each under its own id', async () => {
    const dir = agentDir();
    const { c } = await started(dir);
    const replies = await Promise.all([c.request('hello'), c.request('show'), c.request('cancel'), c.request('plan', { destroy: true })]);
    expect(replies.map((r) => [r.id, codeOf(r)])).toEqual([[1, 'ok'], [2, 'ok'], [3, 'ok'], [4, 'ok']]);
  });

  it('handover on the simulator is NOT_KERNEL', async () => {
    const dir = agentDir();
    const { c } = await started(dir);
    expect(codeOf(await c.request('handover'))).toBe('NOT_KERNEL');
  });

  it('a restarted sim agent restores the simulated kernel from its state', async () => {
    const dir = agentDir();
    const first = await started(dir);
    const plan = await planOf(first.c, dir, 'vmm-guest-ram.yaml');
    result(await first.c.request('apply', { plan }));
    const before = result<ShowResult>(await first.c.request('show'));
    first.c.close();
    await first.a.agent.close();
    open.agents.splice(0);
    const second = await started(dir);
    const after = result<ShowResult>(await second.c.request('show'));
    expect(after.state).toEqual(before.state);
    expect(after.lost).toBeNull();
    expect(((await planOf(second.c, dir, 'vmm-guest-ram.yaml')) as { steps: unknown[] }).steps).toEqual([]);
  });

  it('closing the agent during an apply rolls it back before it stops', async () => {
    const dir = agentDir();
    const first = await started(dir, { stepDelayMs: 30 });
    const plan = await planOf(first.c, dir, 'dpdk-appliance.yaml');
    let closing: Promise<void> | null = null;
    void first.c.request('apply', { plan }, { onEvent: () => void (closing ??= first.a.agent.close()) });
    while (closing === null) await new Promise((r) => setTimeout(r, 10));
    await closing;
    open.agents.splice(0);
    const second = await started(dir);
    const shown = result<ShowResult>(await second.c.request('show'));
    expect(shown.state!.ioas).toEqual([]);
    expect(shown.state!.memory).toEqual([]);
  });

  it('a kernel agent that finds the state of another instance records an empty layout and reports what was lost', async () => {
    const dir = agentDir();
    // The kernel's lifetime rule with a simulator standing in for /dev/iommu: a fresh one per agent.
    const fakeKernel = async (): Promise<OpenedBackend> => {
      const sim = openSimulator();
      return { ok: true, backend: { held: { kind: 'kernel', ctx: sim, holder: simHolder, snapshot: (b) => b }, handoverFds: () => null, close: () => sim.close() } };
    };
    const first = await started(dir, { kind: 'kernel', openKernelBackend: fakeKernel });
    result(await first.c.request('apply', { plan: await planOf(first.c, dir, 'test-lab.yaml') }));
    const held = result<ShowResult>(await first.c.request('show')).state!;
    const mappings = held.ioas.reduce((n, i) => n + i.entries.length, 0);
    first.c.close();
    await first.a.agent.close();
    open.agents.splice(0);
    const second = await started(dir, { kind: 'kernel', openKernelBackend: fakeKernel });
    const hello = result<{ lost: ShowResult['lost'] }>(await second.c.request('hello'));
    expect(hello.lost).toMatchObject({ ioas: held.ioas.length, mappings, previous: { pid: process.pid } });
    const shown = result<ShowResult>(await second.c.request('show'));
    expect(shown.lost).toEqual(hello.lost);
    expect(shown.state!.ioas).toEqual([]);
    expect(((await planOf(second.c, dir, 'test-lab.yaml')) as { steps: unknown[] }).steps.length).toBeGreaterThan(0);
  });

  it('handover passes the fds with SCM_RIGHTS in index order, lists anonymous regions as not transferable, and says the IOAS ids', async () => {
    const dir = agentDir();
    // A kernel-kind backend whose "iommufd" and memory fds are plain files, so the test can see
    // that the very same open files arrive.
    writeFileSync(join(dir, 'iommufd-standin'), 'x');
    writeFileSync(join(dir, 'memfd-standin'), 'y');
    const standIns = [openSync(join(dir, 'iommufd-standin'), 'r'), openSync(join(dir, 'memfd-standin'), 'r')];
    const fakeKernel = async (): Promise<OpenedBackend> => {
      const sim = openSimulator();
      return {
        ok: true,
        backend: {
          held: { kind: 'kernel', ctx: sim, holder: simHolder, snapshot: (b) => b },
          handoverFds: (body) => [
            { kind: 'iommufd', fd: standIns[0]! },
            ...body.memory.map((m, i) => ({ kind: 'memory' as const, name: m.name, size: m.size, fd: i === 0 ? standIns[1]! : null })),
          ],
          close: () => sim.close(),
        },
      };
    };
    const { a, c } = await started(dir, { kind: 'kernel', openKernelBackend: fakeKernel });
    result(await c.request('apply', { plan: await planOf(c, dir, 'test-lab.yaml') }));
    const shown = result<ShowResult>(await c.request('show'));
    const got = await requestHandover(a.socket);
    if (!got.ok) throw new Error(`${got.code}: ${got.message}`);
    expect(got.fds).toHaveLength(2);
    expect(fstatSync(got.fds[0]!).ino).toBe(statSync(join(dir, 'iommufd-standin')).ino);
    expect(fstatSync(got.fds[1]!).ino).toBe(statSync(join(dir, 'memfd-standin')).ino);
    expect(got.result.fds[0]).toEqual({ index: 0, kind: 'iommufd' });
    expect(got.result.fds[1]).toMatchObject({ index: 1, kind: 'memory' });
    expect(got.result.fds.slice(2).every((f) => f.kind === 'memory' && f.transferable === false && !('index' in f))).toBe(true);
    expect(got.result.ioas.map((i) => [i.name, i.id])).toEqual(shown.state!.ioas.map((i) => [i.name, i.id]));
    for (const f of [...got.fds, ...standIns]) closeSync(f);
    // The connection after a handover, and the agent, are fine.
    expect(codeOf(await c.request('hello'))).toBe('ok');
  });

  it('with a device: handover passes its fd after the regions with its dev id, IOAS and HWPT id; a new agent reports it lost', async () => {
    const dir = agentDir();
    writeFileSync(join(dir, 'iommufd-standin'), 'x');
    writeFileSync(join(dir, 'vfio-standin'), 'z');
    const iommufd = openSync(join(dir, 'iommufd-standin'), 'r');
    const vfio = openSync(join(dir, 'vfio-standin'), 'r');
    const fakeKernel = async (): Promise<OpenedBackend> => {
      const sim = openSimulator();
      return {
        ok: true,
        backend: {
          held: { kind: 'kernel', ctx: sim, holder: simHolder, snapshot: (b) => ({ ...b, sim: null }) },
          // The kernel agent's own list, with the device's fd looked up by its recorded dev id.
          handoverFds: (body) => handoverList(body, iommufd, new Map(), new Map((body.devices ?? []).map((d) => [d.devId, vfio]))),
          close: () => sim.close(),
        },
      };
    };
    const first = await started(dir, { kind: 'kernel', openKernelBackend: fakeKernel });
    result(await first.c.request('apply', { plan: await planOf(first.c, dir, 'nic-passthrough.yaml') }));
    const recorded = result<{ state: { devices: { name: string; devId: number; ptId: number }[] } }>(await first.c.request('show')).state.devices;
    expect(recorded).toHaveLength(1);
    const got = await requestHandover(first.a.socket);
    if (!got.ok) throw new Error(`${got.code}: ${got.message}`);
    const device = got.result.fds.find((f) => f.kind === 'device');
    expect(device).toEqual({ index: 1, kind: 'device', name: 'nic0', devId: recorded[0]!.devId, ioas: 'nic', ptId: recorded[0]!.ptId });
    expect(got.result.fds.filter((f) => f.kind === 'memory').every((f) => f.transferable === false)).toBe(true);
    expect(fstatSync(got.fds[1]!).ino).toBe(statSync(join(dir, 'vfio-standin')).ino);
    for (const f of [...got.fds, iommufd, vfio]) closeSync(f);
    first.c.close();
    await first.a.agent.close();
    open.agents.splice(0);
    const second = await started(dir, { kind: 'kernel', openKernelBackend: fakeKernel });
    const hello = result<{ lost: { devices: number; deviceNames: string[]; message: string } }>(await second.c.request('hello'));
    expect(hello.lost).toMatchObject({ devices: 1, deviceNames: ['nic0'] });
    expect(hello.lost.message).toContain('1 device(s) (nic0');
  });

  it('on the kernel backend, plan runs the drift check and reports objects changed behind the agent', async () => {
    const dir = agentDir();
    let sim: ReturnType<typeof openSimulator> | null = null;
    const fakeKernel = async (): Promise<OpenedBackend> => {
      const s = openSimulator();
      sim = s;
      return { ok: true, backend: { held: { kind: 'kernel', ctx: s, holder: simHolder, snapshot: (b) => b }, handoverFds: () => null, close: () => s.close() } };
    };
    const { c } = await started(dir, { kind: 'kernel', openKernelBackend: fakeKernel });
    result(await c.request('apply', { plan: await planOf(c, dir, 'test-lab.yaml') }));
    const clean = result<{ drift: unknown[] }>(await c.request('plan', { layout: exampleText(dir, 'test-lab.yaml'), file: 'examples/test-lab.yaml' }));
    expect(clean.drift).toEqual([]);
    const mirror = result<ShowResult>(await c.request('show')).state!.ioas.find((i) => i.name === 'mirror')!;
    // Someone else with the fd unmaps everything in one IOAS.
    expect(sim!.ioasUnmap({ ioasId: mirror.id, iova: 0n, length: 0xffff_ffff_ffff_ffffn }).errno).toBe(0);
    const drifted = result<{ drift: { kind: string; address: string }[] }>(await c.request('plan', { layout: exampleText(dir, 'test-lab.yaml'), file: 'examples/test-lab.yaml' }));
    expect(drifted.drift.length).toBeGreaterThan(0);
    expect(drifted.drift.every((d) => d.address.startsWith('ioas.mirror'))).toBe(true);
    expect(drifted.drift.some((d) => d.kind === 'area-missing')).toBe(true);
  });

  it('a kernel agent plans one layout after another: each plan predicts from a simulator rebuilt from the record', async () => {
    const run = async (): Promise<string[]> => {
      const dir = agentDir();
      // A simulator standing in for the kernel; like the kernel backend, its states carry no snapshot.
      const fakeKernel = async (): Promise<OpenedBackend> => {
        const kernel = openSimulator();
        const held = { kind: 'kernel' as const, ctx: kernel, holder: simHolder, snapshot: (b: StateBody) => ({ ...b, sim: null }) };
        return { ok: true, backend: { held, handoverFds: () => null, close: () => kernel.close() } };
      };
      const { a, c } = await started(dir, { kind: 'kernel', openKernelBackend: fakeKernel });
      const codes: string[] = [];
      for (const name of ['test-lab.yaml', 'vmm-guest-ram.yaml', 'dpdk-appliance.yaml']) {
        const planned = await c.request('plan', { layout: exampleText(dir, name), file: name });
        codes.push(planned.ok ? codeOf(await c.request('apply', { plan: (planned.result as { plan: unknown }).plan })) : codeOf(planned));
      }
      const destroy = await c.request('plan', { destroy: true });
      codes.push(destroy.ok ? codeOf(await c.request('destroy', { plan: (destroy.result as { plan: unknown }).plan })) : codeOf(destroy));
      c.close();
      await a.agent.close();
      open.agents.splice(open.agents.indexOf(a), 1);
      return codes;
    };
    // Before the rebuild, the second plan started from an empty simulator and said PLAN_WOULD_FAIL.
    expect(await run()).toEqual(['ok', 'ok', 'ok', 'ok']);
  });
});
