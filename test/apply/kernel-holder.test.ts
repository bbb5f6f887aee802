// The kernel memory holder on the host: it only needs the native addon (mmap), not /dev/iommu.
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/backends/kernel/native.js';
import { fallbackAlignment, kernelHolder } from '../../src/apply/kernel-holder.js';
import { SIM_MEMORY_BASE, SIM_MEMORY_SLOT, simRegionVa } from '../../src/apply/holder.js';
import type { MemoryRegion } from '../../src/model/layout.js';
import type { RecordedMemory } from '../../src/model/recorded.js';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const loaded = loadNative();

describe('fallbackAlignment', () => {
  it('keeps the predicted alignment when it is all the IOVA rule can see', () => {
    expect(fallbackAlignment(SIM_MEMORY_BASE + SIM_MEMORY_SLOT, 2n * MiB)).toBe(GiB);
  });
  it('caps the 2^40-aligned first slot at what a region-sized map can see', () => {
    expect(fallbackAlignment(SIM_MEMORY_BASE, 2n * MiB)).toBe(GiB);
    expect(fallbackAlignment(SIM_MEMORY_BASE, 3n * GiB)).toBe(4n * GiB);
  });
  it('never exceeds the predicted alignment', () => {
    expect(fallbackAlignment(SIM_MEMORY_BASE + SIM_MEMORY_SLOT, 3n * GiB)).toBe(GiB);
  });
});

describe.skipIf(!loaded.ok)('kernelHolder (real mmap)', () => {
  const addon = loaded.ok ? loaded.addon : (undefined as never);
  const region = (name: string, size: bigint, backing: MemoryRegion['backing'] = { kind: 'memfd' }): MemoryRegion => ({ name, size, backing });
  const recorded = (r: MemoryRegion, userVa: bigint): RecordedMemory => ({ ...r, userVa });

  it('maps each region at the VA the simulator predicts and hands out the fds', async () => {
    const holder = kernelHolder(addon);
    try {
      const a = region('a', 2n * MiB);
      const b = region('b', 4n * MiB, { kind: 'anonymous' });
      const ra = await holder.create(a, []);
      expect(ra).toEqual({ ok: true, userVa: simRegionVa(a.size, []) });
      const existing = ra.ok ? [recorded(a, ra.userVa)] : [];
      const rb = await holder.create(b, existing);
      expect(rb).toEqual({ ok: true, userVa: simRegionVa(b.size, existing) });
      const fds = holder.regionFds();
      expect([...fds.keys()]).toEqual(['a']);
      expect(fds.get('a')).toBeGreaterThanOrEqual(0);
      expect(holder.regions().map((r) => r.atPredictedVa)).toEqual([true, true]);
    } finally {
      expect(holder.releaseAll()).toEqual([]);
    }
  });

  it('falls back to an equally aligned address when the predicted one is taken', async () => {
    const predicted = simRegionVa(2n * MiB, []);
    const squatter = addon.mapMemory({ kind: 'anonymous', size: 4096n, at: predicted });
    expect(squatter.errno).toBe(0);
    const holder = kernelHolder(addon);
    try {
      const r = await holder.create(region('a', 2n * MiB), []);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.userVa).not.toBe(predicted);
      expect(r.userVa % fallbackAlignment(predicted, 2n * MiB)).toBe(0n);
      expect(holder.regions()[0]?.atPredictedVa).toBe(false);
    } finally {
      holder.releaseAll();
      addon.unmapMemory(predicted, 4096n);
    }
  });

  it('release unmaps (the VA is free again) and refuses an unknown region', async () => {
    const holder = kernelHolder(addon);
    const a = region('a', 2n * MiB, { kind: 'anonymous' });
    const r = await holder.create(a, []);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(await holder.create(a, [])).toMatchObject({ ok: false, code: 'EEXIST' });
    expect(await holder.release(a, r.userVa + 4096n)).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await holder.release(a, r.userVa)).toEqual({ ok: true });
    expect(holder.regions()).toEqual([]);
    const again = addon.mapMemory({ kind: 'anonymous', size: a.size, at: r.userVa });
    expect(again.errno).toBe(0);
    addon.unmapMemory(r.userVa, a.size);
  });
});
