// The memory holder of the real kernel backend: every region is really allocated (anonymous,
// memfd, hugetlb or file memory, through the native addon) and stays mapped in this process until
// it is released, because the kernel pins the pages of a mapping from the user VA it was given.
//
// Placement makes IOVA prediction exact. A plan predicts IOVAs by dry-running on a simulator whose
// holder gives each region the VA simRegionVa computes, and the kernel's automatic IOVA alignment
// depends on that VA (spec: alignment = min(roundup_pow_of_two(length), lowest set bit of uptr)).
// So each region is mapped at exactly that VA (MAP_FIXED_NOREPLACE). Only when something else
// already occupies it does the holder fall back to another address, aligned at least as strongly
// as far as the alignment rule can see (see fallbackAlignment).
import type { MemoryRegion } from '../model/layout.js';
import type { RecordedMemory } from '../model/recorded.js';
import { errnoName } from '../model/uapi.js';
import type { MemoryKind, NativeAddon } from '../backends/kernel/native.js';
import { SIM_MEMORY_SLOT, simRegionVa, type HolderResult, type MemoryHolder } from './holder.js';

const EEXIST = 17;
const ENOENT = 2;
const EINVAL = 22;

/** One region the holder has mapped; `fd` is -1 for anonymous memory. */
export interface HeldRegion {
  readonly name: string;
  readonly kind: MemoryKind;
  readonly size: bigint;
  readonly userVa: bigint;
  readonly fd: number;
  /** Whether the region sits at the VA the plan predicted (false: IOVA predictions may differ, see fallbackAlignment). */
  readonly atPredictedVa: boolean;
}

export interface KernelHolder extends MemoryHolder {
  /** The regions held now, in creation order (fds for a hand-over to a client process). */
  regions(): readonly HeldRegion[];
  /** The fds of the memfd/hugetlb/file regions by region name (anonymous memory has none). */
  regionFds(): ReadonlyMap<string, number>;
  /** Unmaps and closes every region (the holder's owner is shutting down). Returns the errnos seen. */
  releaseAll(): readonly { name: string; errno: number }[];
}

const lowestSetBit = (v: bigint): bigint => v & -v;

const roundUpPow2 = (v: bigint): bigint => {
  let p = 1n;
  while (p < v) p <<= 1n;
  return p;
};

/**
 * The alignment of the fallback address when the predicted VA is taken. The kernel's IOVA
 * alignment for a map of `length` bytes at `uptr` is min(roundup_pow_of_two(length), lowbit(uptr)),
 * and every map into a region is at most the region's size long, so alignment beyond
 * roundup_pow_of_two(size) is invisible to it. Capping at that (and at least one simulator slot)
 * keeps the reservation used to align small even for the 2^40-aligned first slot. Prediction can
 * still differ from the kernel when the region is larger than the predicted VA's alignment (a
 * region over 1 GiB in a slot aligned only to 1 GiB): the fallback address may then be aligned
 * more strongly than the predicted one, and the kernel may choose a more aligned IOVA.
 */
export function fallbackAlignment(predictedVa: bigint, size: bigint): bigint {
  const visible = roundUpPow2(size > SIM_MEMORY_SLOT ? size : SIM_MEMORY_SLOT);
  const predicted = lowestSetBit(predictedVa);
  return predicted < visible ? predicted : visible;
}

export function kernelHolder(addon: NativeAddon): KernelHolder {
  const held = new Map<string, HeldRegion>();

  const map = (region: MemoryRegion, at: bigint | undefined, align: bigint) => {
    const b = region.backing;
    return addon.mapMemory({
      kind: b.kind,
      size: region.size,
      align,
      ...(at === undefined ? {} : { at }),
      ...(b.kind === 'hugetlb' ? { hugePageSize: b.pageSize } : {}),
      ...(b.kind === 'file' ? { path: b.path } : {}),
    });
  };

  const unmap = (r: HeldRegion): number => {
    const unmapped = addon.unmapMemory(r.userVa, r.size);
    const closed = r.fd >= 0 ? addon.close(r.fd) : 0;
    return unmapped !== 0 ? unmapped : closed;
  };

  const fail = (errno: number): HolderResult<never> => ({ ok: false, errno, code: errnoName(errno) });

  return {
    async create(region: MemoryRegion, existing: readonly RecordedMemory[]) {
      if (held.has(region.name)) return fail(EEXIST);
      const predicted = simRegionVa(region.size, existing);
      const align = fallbackAlignment(predicted, region.size);
      let mapped = map(region, predicted, align);
      // EEXIST: the predicted range is occupied (by this process's heap, a library, ...).
      if (mapped.errno === EEXIST) mapped = map(region, undefined, align);
      if (mapped.errno !== 0 || !('addr' in mapped)) return fail(mapped.errno || EINVAL);
      const entry: HeldRegion = { name: region.name, kind: region.backing.kind, size: region.size, userVa: mapped.addr, fd: mapped.fd, atPredictedVa: mapped.addr === predicted };
      held.set(region.name, entry);
      return { ok: true, userVa: mapped.addr };
    },
    async release(region: MemoryRegion, userVa: bigint) {
      const entry = held.get(region.name);
      if (!entry || entry.userVa !== userVa) return fail(ENOENT);
      const errno = unmap(entry);
      // The region is gone from our side whatever close said; keeping it would leak on retry.
      held.delete(region.name);
      return errno === 0 ? { ok: true } : fail(errno);
    },
    regions: () => [...held.values()],
    regionFds: () => new Map([...held.values()].filter((r) => r.fd >= 0).map((r) => [r.name, r.fd])),
    releaseAll() {
      const errors: { name: string; errno: number }[] = [];
      for (const r of [...held.values()].reverse()) {
        const errno = unmap(r);
        if (errno !== 0) errors.push({ name: r.name, errno });
        held.delete(r.name);
      }
      return errors;
    },
  };
}
