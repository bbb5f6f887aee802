// What an apply will pin: per IOAS with a device attached, the bytes of memory the kernel pins
// and charges to RLIMIT_MEMLOCK (spec §12). Pure, from layouts alone, so `plan` can show it
// before anything runs.
//
// The kernel pins only while an IOAS has a domain (a device attached), page by page, once per
// pages object: a MAP is its own pages object (charged), a COPY shares its source's (charged
// only if the source is not pinned already, i.e. its IOAS has no device and no earlier copy of
// it was charged). Memory regions start page aligned, so a mapping spans
// ceil((offset % 4 KiB + length) / 4 KiB) pages. Copies of raw IOVA ranges are not counted (their
// pages are only known once placed): the figure is then a lower bound.

import { devicesOf, type CopySource, type Ioas, type Layout, type Mapping } from '../model/layout.js';

const PAGE = 4096n;

export interface PinnedIoas {
  readonly ioas: string;
  /** Pinned bytes charged to this IOAS's pages before the apply (from the recorded layout). */
  readonly before: bigint;
  /** Pinned bytes after the apply (from the desired layout). */
  readonly after: bigint;
}

function pinnedSize(m: Mapping): bigint {
  const span = (m.offset % PAGE) + m.length;
  return ((span + PAGE - 1n) / PAGE) * PAGE;
}

/** The mapping a copy's pages come from (following copies of copies), or null (raw IOVA, unknown). */
function rootMapping(layout: Layout, from: CopySource, depth = 0): { ioas: string; mapping: Mapping } | null {
  if (from.kind !== 'entry' || depth > 64) return null;
  const ioas = layout.ioas.find((i) => i.name === from.ioas);
  const mapping = ioas?.mappings.find((m) => m.name === from.entry);
  if (mapping) return { ioas: from.ioas, mapping };
  const copy = ioas?.copies.find((c) => c.name === from.entry);
  return copy ? rootMapping(layout, copy.from, depth + 1) : null;
}

/** Pinned bytes per IOAS name for a layout (IOASes without a device pin nothing). */
export function pinnedByIoas(layout: Layout): Map<string, bigint> {
  const attached = new Set(devicesOf(layout).map((d) => d.ioas));
  const pinned = new Map<string, bigint>();
  const charged = new Set<Mapping>();
  const charge = (ioas: Ioas, bytes: bigint): void => {
    pinned.set(ioas.name, (pinned.get(ioas.name) ?? 0n) + bytes);
  };
  // Mappings of attached IOASes first: they are always their own pages.
  for (const ioas of layout.ioas) {
    if (!attached.has(ioas.name)) continue;
    pinned.set(ioas.name, 0n);
    for (const m of ioas.mappings) {
      charge(ioas, pinnedSize(m));
      charged.add(m);
    }
  }
  for (const ioas of layout.ioas) {
    if (!attached.has(ioas.name)) continue;
    for (const c of ioas.copies) {
      const root = rootMapping(layout, c.from);
      if (!root || charged.has(root.mapping)) continue;
      charge(ioas, pinnedSize(root.mapping));
      charged.add(root.mapping);
    }
  }
  return pinned;
}

/** Before and after, for every IOAS that pins in either (declaration order: desired, then gone). */
export function pinnedChanges(desired: Layout, recorded: Layout): PinnedIoas[] {
  const before = pinnedByIoas(recorded);
  const after = pinnedByIoas(desired);
  const names = [...new Set([...after.keys(), ...before.keys()])];
  return names.map((ioas) => ({ ioas, before: before.get(ioas) ?? 0n, after: after.get(ioas) ?? 0n }));
}
