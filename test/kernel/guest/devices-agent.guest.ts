// Runs inside the QEMU device VM only (IOASFORM_KERNEL_DEVICE=1, test/kernel/harness.ts), as root:
// a layout with a real VFIO device (examples/nic-passthrough.yaml, the e1000e at 0000:00:10.0
// behind the emulated Intel IOMMU) end to end on the kernel.
//   - through the holder agent with real CLI processes: the apply outlives its CLI, a new CLI
//     shows the device and plans no drift, the handover passes the device fd (VFIO_DEVICE_GET_INFO
//     works on it), a refusal only the attached device causes rolls back to the previous layout
//     with the device back in place, destroy detaches and frees everything, and a restarted agent
//     reports the device lost with the dead instance;
//   - in-process (fail-nth is per task): a real injected fault at every call of the example's apply
//     rolls back to the exact pre-apply state, and the device is free for a fresh context.
// Without the device VM every test is skipped, the reason printed.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent } from '../../../src/agent/client.js';
import { requestHandover } from '../../../src/agent/handover.js';
import { checkDrift } from '../../../src/apply/drift.js';
import { openKernelHeld } from '../../../src/apply/kernel-held.js';
import { vfioDeviceInfo } from '../../../src/backends/kernel/devices.js';
import { loadNative } from '../../../src/backends/kernel/native.js';
import { openKernel, type KernelContext } from '../../../src/backends/kernel/kernel.js';
import { loadLayoutFile } from '../../../src/config/load.js';
import { DEVICE_PROFILES } from '../../../src/model/device-profile.js';
import type { StateBody } from '../../../src/model/recorded.js';
import { isOk } from '../../../src/model/uapi.js';
import { agentWorkdir, cli, ROOT, run, startAgent, type Agent } from './agent-cli.js';
import { DEVICE_VM_NIC, handNicToVfio } from './device-vm.js';
import { applyOnHeld, recordedBody } from './held-apply.js';
import { failNthAt, haveFailNth, quietFailIommufd, type Armed } from './fail-nth.js';

const MSI = { start: 0xfee00000n, last: 0xfeefffffn };
const VFIO_DEVICE_FLAGS_PCI = 1 << 1;

const absent = handNicToVfio();
if (absent !== null) console.log(`devices-agent.guest: skipped: ${absent}`);
const skip = absent !== null;

interface ShownDevice { name: string; ioas: string; profile: string; devId: number; ptId: number }
interface Shown { state: { ioas: { name: string; id: number; entries: unknown[] }[]; memory: { name: string }[]; devices?: ShownDevice[] } | null }

/** The layout a state implements, without what a rollback legitimately renews (kernel ids). */
const layoutOf = (shown: Shown): unknown => ({
  memory: shown.state?.memory,
  ioas: shown.state?.ioas.map(({ id: _id, ...rest }) => rest),
  devices: shown.state?.devices?.map(({ name, ioas, profile }) => ({ name, ioas, profile })),
});

/** A line on stdout right away (vitest passes test output through as it comes): where a hang is. */
const progress = (line: string): void => console.log(`devices-agent: ${line}`);

/**
 * Closes received fds. A received device fd is the agent's own open file: while any copy of it is
 * open the device stays bound to the agent's iommufd (the agent "unbinds" by closing its copy).
 */
function closeFds(fds: readonly number[]): void {
  const native = loadNative();
  if (!native.ok) throw new Error(native.reason);
  for (const fd of fds) native.addon.close(fd);
}

/** Whether a fresh iommufd context can bind the NIC and attach it to a new IOAS (it is free). */
function freshContextCanAttach(): string {
  const ctx = openKernel();
  try {
    const ioas = ctx.ioasAlloc({ flags: 0 });
    if (!isOk(ioas)) return `IOAS_ALLOC ${ioas.code}`;
    const bound = ctx.deviceBind({ path: `pci:${DEVICE_VM_NIC}` });
    if (!isOk(bound)) return `bind ${bound.code}`;
    const attached = ctx.deviceAttach({ devId: bound.devId, ptId: ioas.outIoasId });
    return isOk(attached) ? 'attached' : `attach ${attached.code}`;
  } finally {
    ctx.close();
  }
}

/** The usable IOVA ranges exclude the MSI window: a device with the VT-d profile is attached. */
function excludesMsiWindow(ctx: KernelContext, ioasId: number): boolean {
  const r = ctx.ioasIovaRanges({ ioasId, numIovas: 8 });
  if (!isOk(r)) throw new Error(`IOVA_RANGES of ${ioasId}: ${r.code}`);
  return r.outIovaAlignment === 0x1000n && !r.ranges.some((x) => x.start <= MSI.last && MSI.start <= x.last);
}

/**
 * nic-passthrough with the NIC moved to a new IOAS whose one mapping sits at 2^39, just past the
 * 39-bit aperture, and profile `host`: the host profile (sysfs reserved regions) knows the MSI
 * window but not the aperture, so the plan's dry run accepts the MAP and only the kernel, with
 * the device attached, refuses it. Nothing is injected: the errno is the kernel's.
 */
function pastApertureLayout(example: string): string {
  const [head] = example.split('\ndevices:');
  return `${head}
  far:
    mappings:
      high:
        memory: packets
        iova: 0x80_0000_0000

devices:
  nic0:
    pci: ${DEVICE_VM_NIC}
    ioas: far
    profile: host
`;
}

describe.skipIf(skip)('a VFIO device through the holder agent on the real kernel', () => {
  const { dir, socket } = agentWorkdir('ioasform-devagent-vm-');
  let agent: Agent;
  // `show` from a new CLI process where the point is that a new process sees the layout; the
  // agent's own `show` op elsewhere (a node start in this TCG VM takes many seconds).
  const showCli = async (): Promise<Shown> => {
    const r = await cli(['--agent', socket, 'show', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Shown;
  };
  const show = async (): Promise<Shown> => {
    const c = await connectAgent(socket);
    if (!c.ok) throw new Error(c.message);
    try {
      const reply = await c.client.request('show');
      if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
      return reply.result as Shown;
    } finally {
      c.client.close();
    }
  };

  beforeAll(async () => {
    agent = await startAgent(dir, socket, (line) => progress(`agent: ${line}`));
  });
  afterAll(async () => {
    expect(await agent.stop()).toBe(0);
  });

  it('applies nic-passthrough: the layout outlives the CLI, a new CLI shows the device and plans no drift, and the handed-over device fd answers VFIO_DEVICE_GET_INFO', async () => {
    const applied = await cli(['--agent', socket, 'apply', '--auto-approve', 'examples/nic-passthrough.yaml'], dir);
    expect(applied.code, `${applied.stdout}\n${applied.stderr}`).toBe(0);
    expect(applied.stdout).toContain('Apply complete');
    // That CLI process has exited; what follows are new processes asking the agent.
    const shown = await showCli();
    expect(shown.state!.devices?.map((d) => [d.name, d.ioas, d.profile])).toEqual([['nic0', 'nic', 'intel-vtd-39bit']]);
    const plan = await cli(['--agent', socket, 'plan', 'examples/nic-passthrough.yaml'], dir);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).not.toContain('Drift detected');

    const got = await requestHandover(socket);
    if (!got.ok) throw new Error(`${got.code}: ${got.message}`);
    const recorded = shown.state!.devices![0]!;
    const device = got.result.fds.find((f) => f.kind === 'device');
    expect(device).toMatchObject({ kind: 'device', name: 'nic0', devId: recorded.devId, ioas: 'nic', ptId: recorded.ptId });
    const info = vfioDeviceInfo(got.fds[device!.index!]!);
    expect(info.errno, JSON.stringify(info)).toBe(0);
    if ('info' in info) {
      expect(info.info.flags & VFIO_DEVICE_FLAGS_PCI).toBe(VFIO_DEVICE_FLAGS_PCI);
      expect(info.info.numRegions).toBeGreaterThan(0);
    }
    const ctx = openKernel({ fd: got.fds[got.result.fds.find((f) => f.kind === 'iommufd')!.index]! });
    try {
      expect(excludesMsiWindow(ctx, shown.state!.ioas.find((i) => i.name === 'nic')!.id)).toBe(true);
    } finally {
      ctx.close();
      closeFds(got.fds.slice(1));
    }

    const client = await run(process.execPath, [join(ROOT, 'examples', 'agent-client.mjs'), socket], dir);
    expect(client.code, client.stdout + client.stderr).toBe(0);
    expect(client.stdout).toMatch(/fd \d+: device nic0 \(dev id \d+, attached to ioas nic as HWPT \d+\)/);
    expect(client.stdout).toMatch(/device nic0: VFIO_DEVICE_GET_INFO flags 0x[0-9a-f]+, \d+ regions, \d+ irqs/);
  });

  it('a MAP past the 39-bit aperture, refused by the kernel only because the device is attached, rolls back to the previous layout with the device back on its IOAS', async () => {
    const before = await show();
    writeFileSync(join(dir, 'past-aperture.yaml'), pastApertureLayout(readFileSync(join(dir, 'examples', 'nic-passthrough.yaml'), 'utf8')));
    const refused = await cli(['--agent', socket, 'apply', '--auto-approve', 'past-aperture.yaml'], dir);
    console.log(`past-aperture apply through the agent: exit ${refused.code}; ${refused.stderr.split('\n').filter((l) => /E[A-Z]+/.test(l)).join(' | ')}`);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout + refused.stderr).toContain('Rollback complete');
    progress('refusal: show');
    const after = await show();
    expect(layoutOf(after)).toEqual(layoutOf(before));
    progress('refusal: plan');
    const plan = await cli(['--agent', socket, 'plan', 'examples/nic-passthrough.yaml'], dir);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).not.toContain('Drift detected');
    progress('refusal: handover');
    const got = await requestHandover(socket);
    if (!got.ok) throw new Error(`${got.code}: ${got.message}`);
    const ctx = openKernel({ fd: got.fds[0]! });
    try {
      expect(excludesMsiWindow(ctx, after.state!.ioas.find((i) => i.name === 'nic')!.id)).toBe(true);
      const device = got.result.fds.find((f) => f.kind === 'device')!;
      expect(device).toMatchObject({ name: 'nic0', ioas: 'nic' });
      expect(vfioDeviceInfo(got.fds[device.index!]!).errno).toBe(0);
    } finally {
      ctx.close();
      closeFds(got.fds.slice(1));
    }
  });

  it('destroy detaches and frees everything: the old ids are ENOENT through the handed-over fd and a fresh context can bind the device', async () => {
    progress('destroy: start');
    const shown = await show();
    const got = await requestHandover(socket);
    if (!got.ok) throw new Error(`${got.code}: ${got.message}`);
    const ctx = openKernel({ fd: got.fds[0]! });
    // Only the iommufd is kept: see closeFds.
    closeFds(got.fds.slice(1));
    try {
      const ids = [...shown.state!.ioas.map((i) => i.id), ...shown.state!.devices!.map((d) => d.ptId)];
      const destroyed = await cli(['--agent', socket, 'destroy', '--auto-approve'], dir);
      progress(`destroy: exit ${destroyed.code}`);
      expect(destroyed.code, destroyed.stdout + destroyed.stderr).toBe(0);
      const after = await show();
      expect([after.state!.ioas, after.state!.memory, after.state!.devices ?? []]).toEqual([[], [], []]);
      for (const i of shown.state!.ioas) expect(ctx.ioasIovaRanges({ ioasId: i.id, numIovas: 4 }).code).toBe('ENOENT');
      // Nothing with those ids is left in the context (HWPTs included): DESTROY finds nothing.
      for (const id of ids) expect(ctx.destroy({ id }).code, `id ${id}`).toBe('ENOENT');
      expect(ctx.deviceInfo({ devId: shown.state!.devices![0]!.devId }).code).toBe('ENOENT');
      // The agent closed its device fd: the device is free for a fresh context.
      progress('destroy: fresh context');
      expect(freshContextCanAttach()).toBe('attached');
    } finally {
      ctx.close();
    }
  });

  it('a restarted agent reports the device lost with the dead instance, and the device is free again', async () => {
    progress('restart: apply');
    const applied = await cli(['--agent', socket, 'apply', '--auto-approve', 'examples/nic-passthrough.yaml'], dir);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    progress('restart: stopping the agent');
    expect(await agent.stop()).toBe(0);
    progress('restart: fresh context');
    expect(freshContextCanAttach()).toBe('attached');
    agent = await startAgent(dir, socket, (line) => progress(`agent: ${line}`));
    const r = await cli(['--agent', socket, 'show', '--json'], dir);
    expect(r.stderr).toContain('1 device(s) (nic0');
    expect((JSON.parse(r.stdout) as Shown).state!.devices ?? []).toEqual([]);
    progress('restart: done');
  });
});

// ---- rollback under real kernel faults, in-process (fail-nth is per task) ------------------------


const comparable = (b: StateBody): unknown => ({ ...b, journalSeq: 'ignored' });

describe.skipIf(skip || !haveFailNth)('a device layout under real kernel faults (fail-nth, in-process)', () => {
  it('a fault at each call of the nic-passthrough apply rolls back: state as before, device unbound and free, no IOAS left', async () => {
    quietFailIommufd();
    const loaded = await loadLayoutFile(join(ROOT, 'examples', 'nic-passthrough.yaml'));
    if (!loaded.layout) throw new Error(JSON.stringify(loaded.diagnostics));
    const layout = loaded.layout;
    expect(layout.devices?.[0]?.profile).toBe('intel-vtd-39bit');
    expect(DEVICE_PROFILES['intel-vtd-39bit']).toBeDefined();
    const path = join(await mkdtemp(join(tmpdir(), 'ioasform-devheld-')), 'ioasform.state.json');
    const opened = openKernelHeld();
    if (!opened.ok) throw new Error(opened.message);
    const backend = opened.backend;
    const before = await recordedBody(path);
    const afterAttach: string[] = [];
    const noFault: string[] = [];
    let attachAt = 0;
    let calls = 0;
    try {
      for (let k = 1; k < 100; k++) {
        const armed: Armed = { at: k, n: 0 };
        progress(`sweep: call ${k}`);
        const { report } = await applyOnHeld(path, backend, layout, failNthAt(armed));
        const seen = armed.seen;
        progress(`sweep: call ${k}: ${seen ? `${seen.method} ${seen.code}${seen.fired ? ' (injected)' : ''}` : 'past the last call'} -> ${report.outcome}`);
        if (!seen) {
          calls = k - 1;
          expect(report.outcome).toBe('applied');
          break;
        }
        if (seen.method === 'deviceAttach') attachAt = k;
        const label = `call ${k} (${seen.method})`;
        if (seen.errno === 0) {
          // No fault point in this call (or a tolerated one): the apply went through; undo it.
          noFault.push(`${k}:${seen.method}`);
          expect(report.outcome, label).toBe('applied');
          expect((await applyOnHeld(path, backend, { ...layout, memory: [], ioas: [], devices: [] })).report).toMatchObject({ outcome: 'applied' });
          continue;
        }
        expect(seen.fired, `${label}: ${seen.code} without the fault firing`).toBe(true);
        expect(report.outcome, `${label}: ${JSON.stringify(report.undos.map((u) => u.code))}`).toBe('rolled-back');
        expect(report.failure?.code, label).toBe(seen.code);
        if (attachAt > 0 && k > attachAt) afterAttach.push(`${k}:${seen.method}:${seen.code}`);
        const after = await recordedBody(path);
        expect(comparable(after), label).toEqual(comparable(before));
        expect(await checkDrift(backend.ctx, after), label).toEqual([]);
        expect(backend.ctx.deviceFds().size, label).toBe(0);
        expect(backend.regions(), label).toEqual([]);
        for (let id = 1; id <= 16; id++) expect(backend.ctx.ioasIovaRanges({ ioasId: id, numIovas: 0 }).code, `${label}: id ${id}`).toBe('ENOENT');
        expect(freshContextCanAttach(), label).toBe('attached');
      }
    } finally {
      expect(backend.close().errors).toEqual([]);
    }
    console.log(`fail-nth sweep empty -> nic-passthrough: ${calls} uapi calls, attach at call ${attachAt}; injected after the attach: [${afterAttach.join(' ')}]; no fault point: [${noFault.join(' ')}]`);
    expect(attachAt).toBeGreaterThan(0);
    expect(afterAttach.length).toBeGreaterThan(0);
  });
});
