// The normalized layout: what the user asked for, after parsing, schema validation and
// normalization (sizes as bigint, defaults filled, references still by name). Plain readonly
// data: the planner compares two of these (desired vs. recorded) and never sees YAML.
//
// Names are unique per kind: memory regions and IOASes globally, mappings and copies together
// within one IOAS (a copy may name a mapping or another copy as its source).

export type Access = 'r' | 'w' | 'rw';

export type Backing =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'memfd' }
  | { readonly kind: 'hugetlb'; readonly pageSize: bigint }
  | { readonly kind: 'file'; readonly path: string };

/** A named region of backing memory that the holder (agent or simulator) owns and maps. */
export interface MemoryRegion {
  readonly name: string;
  readonly size: bigint;
  readonly backing: Backing;
}

/** An inclusive IOVA range. */
export interface IovaRange {
  readonly start: bigint;
  readonly last: bigint;
}

/** A DMA mapping of `length` bytes of a memory region, starting `offset` bytes into it. */
export interface Mapping {
  readonly name: string;
  readonly memory: string;
  readonly offset: bigint;
  readonly length: bigint;
  /** A fixed IOVA, or null to let the kernel choose (automatic placement). */
  readonly iova: bigint | null;
  readonly access: Access;
}

/** What a copy takes its pages from. */
export type CopySource =
  /** `length` bytes at `offset` into a named mapping or copy of an IOAS (whole entry by default). */
  | { readonly kind: 'entry'; readonly ioas: string; readonly entry: string; readonly offset: bigint; readonly length: bigint }
  /** A raw IOVA sub-range of an IOAS; it must be covered back-to-back by that IOAS's entries. */
  | { readonly kind: 'iova'; readonly ioas: string; readonly iova: bigint; readonly length: bigint };

/** IOMMU_IOAS_COPY of existing pages into this IOAS. */
export interface Copy {
  readonly name: string;
  readonly from: CopySource;
  readonly iova: bigint | null;
  readonly access: Access;
}

export interface Ioas {
  readonly name: string;
  /** Empty means "no restriction" (the kernel's default). */
  readonly allowedIovas: readonly IovaRange[];
  /** IOMMU_OPTION_HUGE_PAGES; false raises the IOVA alignment to PAGE_SIZE. */
  readonly hugePages: boolean;
  readonly mappings: readonly Mapping[];
  readonly copies: readonly Copy[];
}

export type RlimitMode = 'user' | 'process';

export interface LayoutOptions {
  /** IOMMU_OPTION_RLIMIT_MODE: 'user' = 0 (per-user accounting), 'process' = 1 (per-mm). */
  readonly rlimitMode: RlimitMode;
}

/** How a VFIO device is named: its cdev, or a PCI address resolved to the cdev through sysfs. */
export type DeviceSource =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'pci'; readonly address: string };

/** A VFIO device bound to the context and attached to one IOAS. */
export interface Device {
  readonly name: string;
  readonly source: DeviceSource;
  /** The IOAS it attaches to. */
  readonly ioas: string;
  /**
   * The device model: a built-in profile name (model/device-profile.ts) or `host` (the host's
   * sysfs reserved regions, read at plan time).
   */
  readonly profile: string;
}

export interface Layout {
  readonly version: 1;
  readonly options: LayoutOptions;
  readonly memory: readonly MemoryRegion[];
  readonly ioas: readonly Ioas[];
  /**
   * In declaration order. Optional so that every device-free layout (and every value built
   * before devices existed) stays as it was: absent means none.
   */
  readonly devices?: readonly Device[];
}

/** The devices of a layout (none when the key is absent). */
export function devicesOf(layout: Layout): readonly Device[] {
  return layout.devices ?? [];
}

/** The written form of a device source, for messages and plan output. */
export function deviceSourceText(source: DeviceSource): string {
  return source.kind === 'path' ? source.path : `pci ${source.address}`;
}

export const EMPTY_LAYOUT: Layout = {
  version: 1,
  options: { rlimitMode: 'user' },
  memory: [],
  ioas: [],
};
