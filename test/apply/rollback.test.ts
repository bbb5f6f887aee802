import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../src/model/uapi.js';
import type { Layout } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import { applyLayout, comparable, exampleLayout, planOnly, readBody, tempStatePath } from './support.js';
import { copyFile } from 'node:fs/promises';

/** test-lab, edited so that one apply needs every kind of call: unmap, map, copy, allow, huge pages, alloc, destroy, memory. */
function edited(lab: Layout): Layout {
  const [labIoas, mirror] = lab.ioas;
  return {
    ...lab,
    memory: [...lab.memory.filter((m) => m.name !== 'table'), { name: 'extra', size: 0x200000n, backing: { kind: 'anonymous' } }],
    ioas: [
      {
        ...labIoas!,
        allowedIovas: [{ start: 0x100000n, last: 0x1ffffffn }],
        mappings: [
          ...labIoas!.mappings.filter((m) => m.name !== 'table').map((m) => (m.name === 'b' ? { ...m, length: 0x200000n, iova: 0x1800000n } : m)),
          { name: 'extra', memory: 'extra', offset: 0n, length: 0x200000n, iova: null, access: 'rw' },
        ],
      },
      { ...mirror!, hugePages: true, copies: mirror!.copies.filter((c) => c.name !== 'table-window').map((c) => (c.name === 'b' ? { ...c, from: { ...c.from, length: 0x200000n } } : c.name === 'seam' ? { ...c, iova: 0x9000000n } : c)) },
      { name: 'fresh', allowedIovas: [], hugePages: false, mappings: [{ name: 'x', memory: 'extra', offset: 0n, length: 0x1000n, iova: 0x4000n, access: 'r' }], copies: [] },
    ],
  };
}

describe('rollback restores the state after a failure at any call', () => {
  async function failEveryCall(from: Layout, desired: Layout, mustContain: readonly string[]): Promise<StateBody> {
    const base = await tempStatePath();
    expect((await applyLayout(base, from)).outcome).toBe('applied');
    const baseBody = await readBody(base);
    const before = comparable(await readBody(base));

    const plan = await planOnly(base, desired);
    const ops = new Set(plan.steps.map((s) => s.op));
    for (const op of mustContain) expect(ops).toContain(op);
    expect(plan.steps.length).toBeGreaterThan(10);

    for (let call = 1; call <= plan.steps.length; call++) {
      const statePath = await tempStatePath();
      await copyFile(base, statePath);
      const report = await applyLayout(statePath, desired, { failCall: call, errno: ERRNO.ENOMEM, code: 'ENOMEM' });
      expect(report.outcome, `failure at call ${call}`).toBe('rolled-back');
      expect(report.failure?.step).toEqual(plan.steps[call - 1]);
      expect(report.failure?.code).toBe('ENOMEM');
      expect(report.undos.every((u) => u.ok)).toBe(true);
      expect(comparable(await readBody(statePath)), `state after a failure at call ${call}`).toEqual(before);
    }

    // And without a fault the same plan applies, so the loop above really stopped mid-way.
    const clean = await tempStatePath();
    await copyFile(base, clean);
    expect((await applyLayout(clean, desired)).outcome).toBe('applied');
    expect(comparable(await readBody(clean))).not.toEqual(before);
    return baseBody;
  }

  it('injects a failure at every call of a multi-step apply; the state after rollback equals the state before', async () => {
    const lab = await exampleLayout('test-lab');
    const baseBody = await failEveryCall(lab, edited(lab), ['unmap', 'map', 'copy', 'allow-iovas', 'set-huge-pages', 'alloc-ioas', 'create-memory', 'release-memory']);
    // The moved seam copy spans two source areas, so it is two kernel areas: its unmap was undone by two maps.
    expect(baseBody.ioas.find((i) => i.name === 'mirror')?.entries.find((e) => e.name === 'seam')?.areas).toHaveLength(2);
  });

  it('the same across an rlimit_mode change (every IOAS destroyed, option set, new layout built)', async () => {
    await failEveryCall(await exampleLayout('vmm-guest-ram'), await exampleLayout('dpdk-appliance'), ['unmap', 'destroy-ioas', 'set-rlimit-mode', 'alloc-ioas', 'map', 'copy', 'release-memory']);
  });

  it('an undo that fails too: exactly what is left is reported and the state needs attention', async () => {
    const statePath = await tempStatePath();
    const lab = await exampleLayout('test-lab');
    const plan = await planOnly(statePath, lab);
    // Fail forward call 6, then the first undo call (7), which undoes forward call 5.
    const report = await applyLayout(statePath, lab, { failCall: [6, 7], errno: ERRNO.EBUSY, code: 'EBUSY' });
    expect(report.outcome).toBe('attention');
    expect(report.failure?.step).toEqual(plan.steps[5]);
    expect(report.undos).toHaveLength(1);
    expect(report.undos[0]!.ok).toBe(false);
    expect(report.leftovers).toHaveLength(5);
    expect(report.leftovers[0]).toContain(plan.steps[4]!.address);
    const body = await readBody(statePath);
    expect(body.attention?.leftovers).toEqual(report.leftovers);
    // What is recorded is what is really there: the five executed calls are still in effect.
    expect(body.memory.map((m) => m.name).sort()).toEqual(lab.memory.map((m) => m.name).sort());
  });
});
