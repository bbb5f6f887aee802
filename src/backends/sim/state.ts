// The data of one simulated context, shared by the ioctl handlers (context.ts) and the
// snapshot codec (snapshot.ts).
import { IdAllocator } from './id-allocator.js';
import { IoPagetable } from './io-pagetable.js';
import type { DeviceProfile } from '../../model/device-profile.js';
import type { IovaRange } from '../../model/uapi.js';
import type { SimOptions } from './types.js';

/** ctx->account_mode: NONE at open (acts like USER), USER or MM after RLIMIT_MODE SET. */
export type AccountMode = 'none' | 'user' | 'mm';

export interface ResolvedOptions {
  readonly capSysResource: boolean;
  readonly pageSize: bigint;
  readonly testKernel: boolean;
  /** HPAGE_SIZE: the PMD size, PAGE_SIZE * PAGE_SIZE / 8 (2 MiB for 4 KiB pages). */
  readonly maxAlignment: bigint;
  /** RLIMIT_MEMLOCK in bytes, or null for no limit (unlimited, or CAP_IPC_LOCK). */
  readonly memlockLimit: bigint | null;
}

export function resolveOptions(options: SimOptions = {}): ResolvedOptions {
  const pageSize = BigInt(options.pageSize ?? 4096);
  if (pageSize < 8n || (pageSize & (pageSize - 1n)) !== 0n) {
    throw new RangeError(`pageSize must be a power of two >= 8, got ${pageSize}`);
  }
  return {
    capSysResource: options.capSysResource ?? true,
    pageSize,
    testKernel: options.testKernel ?? false,
    maxAlignment: (pageSize * pageSize) / 8n,
    memlockLimit: options.memlockLimit === undefined || options.memlockLimit === null ? null : BigInt(options.memlockLimit),
  };
}

export interface IoasObject {
  readonly kind: 'ioas';
  readonly iopt: IoPagetable;
}

/** A bound VFIO device (IOMMUFD_OBJ_DEVICE): the device model of devices.ts. */
export interface DeviceObject {
  readonly id: number;
  readonly path: string;
  readonly profile: DeviceProfile;
  /** The HWPT it is attached to, or null. */
  hwptId: number | null;
}

/** An automatic HWPT_PAGING (one IOMMU domain) that attach made on an IOAS. */
export interface HwptObject {
  readonly id: number;
  readonly ioasId: number;
  /** Devices of the same profile share a domain (the kernel reuses a compatible auto domain). */
  readonly profileName: string;
  readonly pageSize: bigint;
  readonly devices: Set<number>;
}

/** The mutable state of one context; snapshot.ts reads and rebuilds it. */
export interface ContextState {
  options: ResolvedOptions;
  accountMode: AccountMode;
  objects: Map<number, IoasObject>;
  devices: Map<number, DeviceObject>;
  hwpts: Map<number, HwptObject>;
  /**
   * The user VAs that are backed by memory (the holder's regions), or null when not modelled
   * (then every VA pins). Only consulted when pages are pinned, i.e. with a device attached.
   */
  userMemory: IovaRange[] | null;
  ids: IdAllocator;
  nextPagesId: number;
  closed: boolean;
}

export function emptyState(options: ResolvedOptions): ContextState {
  return {
    options,
    accountMode: 'none',
    objects: new Map(),
    devices: new Map(),
    hwpts: new Map(),
    userMemory: null,
    ids: new IdAllocator(),
    nextPagesId: 1,
    closed: false,
  };
}

export function newIoas(options: ResolvedOptions): IoasObject {
  return { kind: 'ioas', iopt: new IoPagetable({ pageSize: options.pageSize, maxAlignment: options.maxAlignment }) };
}

