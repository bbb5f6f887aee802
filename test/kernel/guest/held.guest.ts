// Runs inside the QEMU VM only (test/kernel/harness.ts), as root, on the 6.12 test kernel.
// The kernel as a held backend, in-process (no agent): each example applied through the same
// session code the CLI uses (withSession/runSteps with targetOptions.held), predicted IOVAs
// compared with the kernel's, the drift check clean, destroy leaving nothing; drift made behind
// the state's back reported; and rollback proven with real kernel faults (fail-nth on this task,
// which fires the fail_iommufd fault points of CONFIG_IOMMUFD_TEST kernels).
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDrift } from '../../../src/apply/drift.js';
import { openKernelHeld, type KernelHeldBackend } from '../../../src/apply/kernel-held.js';
import { loadLayoutFile } from '../../../src/config/load.js';
import { EMPTY_LAYOUT, type Layout } from '../../../src/model/layout.js';
import type { StateBody } from '../../../src/model/recorded.js';
import { isOk, type UapiContext } from '../../../src/model/uapi.js';
import { applyOnHeld, recordedBody } from './held-apply.js';
import { failNthAt, haveFailNth, quietFailIommufd, type Armed } from './fail-nth.js';
import { entryAddress } from '../../../src/plan/diff.js';

const EXAMPLES = ['test-lab', 'vmm-guest-ram', 'dpdk-appliance'] as const;
const MiB2 = 2n << 20n;

let opened: KernelHeldBackend[] = [];
function held(): KernelHeldBackend {
  const r = openKernelHeld();
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  opened.push(r.backend);
  return r.backend;
}
afterEach(() => {
  for (const b of opened) expect(b.close().errors).toEqual([]);
  opened = [];
});

async function statePath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'ioasform-held-')), 'ioasform.state.json');
}

// 2 MiB huge pages for the hugetlb regions that fit the 2 GiB VM (kernel-facts reserves a few too).
writeFileSync('/proc/sys/vm/nr_hugepages', '48');

/**
 * The example as written, except hugetlb regions with pages larger than 2 MiB: the VM has 2 GiB of
 * RAM, so dpdk-appliance's 1 GiB pages become memfd memory. The holder places a region at the same
 * VA whatever its backing, so the IOVAs (what this suite checks) do not change.
 */
async function example(name: string): Promise<Layout> {
  const loaded = await loadLayoutFile(new URL(`../../../examples/${name}.yaml`, import.meta.url).pathname);
  if (!loaded.layout) throw new Error(`${name}: ${JSON.stringify(loaded.diagnostics)}`);
  const layout = loaded.layout;
  return {
    ...layout,
    memory: layout.memory.map((m) => (m.backing.kind === 'hugetlb' && m.backing.pageSize > MiB2 ? { ...m, backing: { kind: 'memfd' as const } } : m)),
  };
}

/** The IOAS ids that exist among 1..limit (IOVA_RANGES answers ENOENT for the others). */
async function liveIoasIds(ctx: UapiContext, limit = 32): Promise<number[]> {
  const ids: number[] = [];
  for (let id = 1; id <= limit; id++) if ((await ctx.ioasIovaRanges({ ioasId: id, numIovas: 0 })).code !== 'ENOENT') ids.push(id);
  return ids;
}

describe('the kernel as a held backend', () => {
  it.each(EXAMPLES)('%s: applies with the predicted IOVAs, no drift, and destroy leaves nothing', async (name) => {
    const backend = held();
    const path = await statePath();
    const { plan, report } = await applyOnHeld(path, backend, await example(name));
    expect(report.outcome, JSON.stringify(report.failure)).toBe('applied');
    const recorded = await recordedBody(path);

    const byName = (a: readonly [string, boolean], b: readonly [string, boolean]): number => a[0].localeCompare(b[0]);
    expect(backend.regions().map((r) => [r.name, r.atPredictedVa] as const).sort(byName)).toEqual(recorded.memory.map((m) => [m.name, true] as const).sort(byName));
    for (const m of recorded.memory) expect(backend.regions().find((r) => r.name === m.name)?.userVa, m.name).toBe(m.userVa);
    const kernelIova = new Map(recorded.ioas.flatMap((i) => i.entries.map((e) => [entryAddress(i.name, e.spec.kind, e.name), e.areas[0]?.iova] as const)));
    const predicted = plan.steps.flatMap((s) => ((s.op === 'map' || s.op === 'copy') && s.predictedIova !== undefined ? [[s.address, s.predictedIova] as const] : []));
    // vmm-guest-ram places everything at fixed IOVAs; the other two have automatic ones.
    if (name !== 'vmm-guest-ram') expect(predicted.length).toBeGreaterThan(0);
    for (const [address, iova] of predicted) expect(kernelIova.get(address), address).toBe(iova);

    expect(await checkDrift(backend.ctx, recorded)).toEqual([]);
    expect(await liveIoasIds(backend.ctx)).toEqual(recorded.ioas.map((i) => i.id).sort((a, b) => a - b));

    const destroyed = await applyOnHeld(path, backend, { ...EMPTY_LAYOUT, options: recorded.options }, undefined, 'destroy');
    expect(destroyed.report.outcome).toBe('applied');
    expect(await liveIoasIds(backend.ctx)).toEqual([]);
    expect(backend.regions()).toEqual([]);
    const after = await recordedBody(path);
    expect([after.ioas, after.memory]).toEqual([[], []]);
  });

  it('drift made through the raw context behind the state is reported', async () => {
    const backend = held();
    const path = await statePath();
    expect((await applyOnHeld(path, backend, await example('test-lab'))).report.outcome).toBe('applied');
    const recorded = await recordedBody(path);
    const lab = recorded.ioas.find((i) => i.name === 'lab')!;
    const area = lab.entries.find((e) => e.name === 'b')!.areas[0]!;
    expect(isOk(backend.ctx.ioasUnmap({ ioasId: lab.id, iova: area.iova, length: area.length }))).toBe(true);
    const mirror = recorded.ioas.find((i) => i.name === 'mirror')!;
    expect(isOk(backend.ctx.destroy({ id: mirror.id }))).toBe(true);
    const drifts = await checkDrift(backend.ctx, recorded);
    expect(drifts.filter((d) => d.kind !== 'allowed-iovas').map((d) => `${d.kind} ${d.address}`)).toEqual(['ioas-missing ioas.mirror', 'area-missing ioas.lab/mapping.b']);
  });
});

// ---- rollback under real kernel faults ----------------------------------------------------------

quietFailIommufd();

/** A state body without what a rollback legitimately renews (journal position, kernel ids). */
const comparable = (b: StateBody): unknown => ({ ...b, journalSeq: 'ignored', ioas: b.ioas.map(({ id: _id, ...rest }) => rest) });

interface Tally { calls: number; injected: number; noFaultPoint: string[]; tolerated: string[] }

interface Fixture { backend: KernelHeldBackend; path: string; before: StateBody; liveBefore: number }

/**
 * For each uapi call k of the apply `from` -> `to` (from: null is an empty state): arm a real
 * fault at call k, apply `to`, and check the rollback left the state file and the kernel exactly
 * as before. A rolled-back kernel and state are the next k's starting point (that is what the
 * checks prove); after an apply that went through, a fresh context gets `from` applied again.
 * Stops when k passes the last call.
 */
async function sweep(from: string | null, to: string): Promise<Tally> {
  const target = await example(to);
  const base = from ? await example(from) : null;
  const tally: Tally = { calls: 0, injected: 0, noFaultPoint: [], tolerated: [] };
  const fresh = async (): Promise<Fixture> => {
    const backend = held();
    const path = await statePath();
    if (base) expect((await applyOnHeld(path, backend, base)).report.outcome).toBe('applied');
    return { backend, path, before: await recordedBody(path), liveBefore: (await liveIoasIds(backend.ctx)).length };
  };
  const discard = (f: Fixture): void => {
    expect(f.backend.close().errors).toEqual([]);
    opened = opened.filter((b) => b !== f.backend);
  };
  let fixture = await fresh();
  for (let k = 1; k < 400; k++) {
    const { backend, path, before, liveBefore } = fixture;
    const armed: Armed = { at: k, n: 0 };
    const { report } = await applyOnHeld(path, backend, target, failNthAt(armed));
    const after = await recordedBody(path);
    const seen = armed.seen;
    if (!seen) {
      // k is past the last call: the apply ran clean.
      expect(report.outcome).toBe('applied');
      tally.calls = k - 1;
      discard(fixture);
      return tally;
    }
    const label = `${from ?? 'empty'} -> ${to}, call ${k} (${seen.method})`;
    if (seen.errno === 0) {
      // The call reached no fault point, or the kernel tolerated the failure (a fallback path).
      (seen.fired ? tally.tolerated : tally.noFaultPoint).push(`${k}:${seen.method}`);
      expect(report.outcome, label).toBe('applied');
      discard(fixture);
      fixture = await fresh();
      continue;
    }
    tally.injected++;
    expect(seen.fired, `${label}: failed with ${seen.code} although no fault fired`).toBe(true);
    expect(report.outcome, `${label}: ${JSON.stringify(report.undos.map((u) => u.code))}`).toBe('rolled-back');
    expect(report.failure?.errno, label).toBe(seen.errno);
    expect(report.failure?.code, label).toBe(seen.code);
    expect(comparable(after), label).toEqual(comparable(before));
    // The kernel equals the pre-apply state: the drift check (ids, IOVA_RANGES, options, allowed
    // ranges, every area) finds nothing, and exactly as many IOASes exist as before.
    expect(await checkDrift(backend.ctx, after), label).toEqual([]);
    expect((await liveIoasIds(backend.ctx)).length, label).toBe(liveBefore);
    expect(backend.regions().map((r) => r.name).sort(), label).toEqual(after.memory.map((m) => m.name).sort());
    fixture = { ...fixture, before: after };
  }
  throw new Error('more than 400 calls');
}

describe.skipIf(!haveFailNth)('rollback under real kernel faults (fail-nth, fail_iommufd)', () => {
  it.each([
    [null, 'test-lab'],
    ['vmm-guest-ram', 'test-lab'],
  ] as const)('%s -> %s: a fault at every call rolls back to the exact previous state', async (from, to) => {
    const tally = await sweep(from, to);
    console.log(`fail-nth sweep ${from ?? 'empty'} -> ${to}: ${tally.calls} uapi calls, ${tally.injected} failed with an injected kernel errno; no fault point: [${tally.noFaultPoint.join(' ')}]; fault tolerated: [${tally.tolerated.join(' ')}]`);
    expect(tally.calls).toBeGreaterThan(5);
    expect(tally.injected).toBeGreaterThan(tally.calls / 2);
  });
});
