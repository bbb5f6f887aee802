// Public types of the simulator backend: its options, the context it returns (the uapi
// contract with synchronous results, plus simulator-only inspection and TEST-kernel ops) and
// the persisted snapshot format.
import type { DeviceAttachArgs, DeviceAttachOut, DeviceBindArgs, DeviceBindOut, DeviceIdArgs, SyncUapiContext, UapiResult } from '../../model/uapi.js';
import type { SimSnapshot } from './snapshot.js';

export interface SimOptions {
  /** Whether the caller has CAP_SYS_RESOURCE (needed for RLIMIT_MODE SET). Default true. */
  readonly capSysResource?: boolean;
  /** PAGE_SIZE, a power of two. Default 4096. */
  readonly pageSize?: number | bigint;
  /** Model a CONFIG_IOMMUFD_TEST kernel (COPY flag bit 16, testAddReserved). Default false. */
  readonly testKernel?: boolean;
  /** RLIMIT_MEMLOCK in bytes for pinned pages; absent or null: unlimited (as with CAP_IPC_LOCK). */
  readonly memlockLimit?: number | bigint | null;
  /**
   * Run MAP and COPY through the number fast path when every operand is small (default true).
   * False forces the exact bigint path: the property test compares the two. Not saved in
   * snapshots (it changes no result).
   */
  readonly numberFastPath?: boolean;
  /** Restore this saved state (its options win over the ones above). */
  readonly state?: SimSnapshot;
}

/** One area as the simulator sees it (the kernel cannot list these; the simulator can). */
export interface SimArea {
  readonly iova: bigint;
  /** Inclusive. */
  readonly last: bigint;
  /** User VA of the area's first byte. */
  readonly userVa: bigint;
  /** IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE bits of the MAP or COPY. */
  readonly flags: number;
  /** Identifies the backing pages object: areas made by COPY share their source's id. */
  readonly pagesId: number;
}

export interface TestAddReservedArgs {
  readonly ioasId: number;
  readonly start: bigint;
  /** Inclusive. */
  readonly last: bigint;
}

/** The uapi contract with synchronous results, plus simulator-only extras. */
export interface SimContext extends SyncUapiContext {
  /** The areas of an IOAS in ascending IOVA order, or null if there is no such IOAS. */
  areas(ioasId: number): readonly SimArea[] | null;
  deviceBind(args: DeviceBindArgs): UapiResult<DeviceBindOut>;
  deviceAttach(args: DeviceAttachArgs): UapiResult<DeviceAttachOut>;
  deviceDetach(args: DeviceIdArgs): UapiResult;
  deviceUnbind(args: DeviceIdArgs): UapiResult;
  deviceInfo(args: DeviceIdArgs): UapiResult;
  /** IOMMU_TEST_OP_ADD_RESERVED; ENOTTY unless `testKernel`. */
  testAddReserved(args: TestAddReservedArgs): UapiResult;
  /**
   * Tells the device model which user VAs are backed by memory (the holder's regions); null: all
   * are. Pinning (with a device attached) fails EFAULT outside these ranges.
   */
  setUserMemory(ranges: readonly { start: bigint; last: bigint }[] | null): void;
  /** Pinned (and charged) bytes per accounting mode: what RLIMIT_MEMLOCK is compared with. */
  pinnedBytes(): { user: bigint; mm: bigint };
  /** The whole state as plain JSON-able data; `openSimulator({ state })` restores it exactly. */
  snapshot(): SimSnapshot;
}
