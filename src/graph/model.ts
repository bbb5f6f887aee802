// The view model of an IOVA map: what the renderers (SVG, HTML, terminal text) draw. Plain,
// readonly data with bigint for every 64-bit quantity, so that the layout code, the planner and
// the state store can all fill it without the renderers knowing about any of them.

import type { Access } from '../model/layout.js';

/** How an entry changes in a plan; `same` outside of plans. */
export type BoxStatus = 'same' | 'add' | 'remove' | 'replace';

/** An inclusive IOVA range (the same shape as `IovaRange` in the layout model). */
export interface IovaInterval {
  readonly start: bigint;
  readonly last: bigint;
}

/** Where a copy takes its pages from: an IOVA range of another (or the same) lane. */
export interface BoxSource {
  /** The IOAS name of the source lane. */
  readonly lane: string;
  /** The id of the source box when the copy names one entry; absent for a raw IOVA range. */
  readonly boxId?: string;
  /** The source IOVA range (inclusive); absent when the source entry's IOVA is not known. */
  readonly range?: IovaInterval;
}

/** One DMA mapping or copy drawn as a box on its lane. */
export interface Box {
  /** Stable identity across plans, `<ioas>/mapping.<name>` or `<ioas>/copy.<name>`. */
  readonly id: string;
  readonly name: string;
  readonly kind: 'mapping' | 'copy';
  /** The memory region the pages come from (for a copy: of its source; `a+b` when several). */
  readonly memory: string;
  readonly iova: bigint;
  readonly length: bigint;
  readonly access: Access;
  readonly status: BoxStatus;
  readonly source?: BoxSource;
  /** True when the IOVA is chosen by the kernel and only predicted here. */
  readonly predicted?: boolean;
  /** For `replace`: where the entry was before, when that differs. */
  readonly previous?: { readonly iova: bigint; readonly length: bigint };
}

/**
 * An IOVA window an attached device's profile reserves on its IOAS (while attached nothing can
 * be mapped or allowed there): a reserved region such as the x86 MSI window, or the space
 * outside the IOMMU's aperture.
 */
export interface ReservedWindow extends IovaInterval {
  /** What it is: `MSI`, a region type (`reserved`, `direct`), or `beyond aperture`. */
  readonly kind: string;
  /** Who reserves it: `device.<name>`. */
  readonly owner: string;
}

/** One IOAS: a horizontal lane along the shared IOVA axis. */
export interface Lane {
  readonly ioas: string;
  /** The IOVA alignment the IOAS enforces, when above 1 (e.g. 4 KiB with huge pages off). */
  readonly alignment?: bigint;
  /** Allowed IOVA ranges; empty means no restriction. */
  readonly allowed: readonly IovaInterval[];
  readonly boxes: readonly Box[];
  /** Entries whose IOVA the kernel chooses and that nobody predicted: listed, not drawn. */
  readonly unplaced?: readonly string[];
  /** For plans: whether the whole IOAS is created or destroyed. */
  readonly status?: BoxStatus;
  /** Windows reserved by the devices attached to this IOAS (absent: none). */
  readonly reserved?: readonly ReservedWindow[];
}

export interface IovaMap {
  readonly lanes: readonly Lane[];
  /** Memory region names in a stable order; it fixes their palette colors. */
  readonly memories?: readonly string[];
}

/** The exclusive end of a box's IOVA range (up to 2^64). */
export function boxEnd(box: { readonly iova: bigint; readonly length: bigint }): bigint {
  return box.iova + box.length;
}
