// The recorded state: what ioasform last put on a backend, as plain data. It is the BODY of the
// state file (branch `state` provides the envelope: formatVersion, lineage, serial, checksum) and
// the live table the step runner updates call by call. The planner diffs a desired Layout against
// it; `show` prints it; drift checks compare it with what the backend reports.

import type { DeviceProfile } from './device-profile.js';
import type { Access, Backing, Device, IovaRange, Layout, RlimitMode } from './layout.js';
import type { Area, EntrySpec } from './step.js';

export type BackendKind = 'sim' | 'kernel';

export interface RecordedMemory {
  readonly name: string;
  readonly size: bigint;
  readonly backing: Backing;
  /** The user VA the holder gave the region; maps use userVa = this + offset. */
  readonly userVa: bigint;
}

export interface RecordedEntry {
  readonly name: string;
  /** The attributes it was created from (compared with the desired layout by the planner). */
  readonly spec: EntrySpec;
  /** The kernel areas it actually is, in ascending IOVA order, back to back. */
  readonly areas: readonly Area[];
}

export interface RecordedIoas {
  readonly name: string;
  /** The kernel object id (changes when the IOAS is recreated). */
  readonly id: number;
  readonly allowedIovas: readonly IovaRange[];
  readonly hugePages: boolean;
  readonly entries: readonly RecordedEntry[];
}

/** A device bound and attached by ioasform: the layout's device plus the kernel's ids. */
export interface RecordedDevice extends Device {
  /** The device object id (VFIO_DEVICE_BIND_IOMMUFD out_devid). */
  readonly devId: number;
  /** The HWPT the attach answered (pt_id out: the automatic domain on the IOAS). */
  readonly ptId: number;
  /**
   * The device model the bind used, as resolved at apply time: the built-in profile, or for
   * `host` the reserved regions read from sysfs then. A simulator rebuilt from the record
   * (src/apply/replay.ts) attaches with exactly this, so plans and the drift check predict the
   * kernel's reserved windows without reading sysfs again. Absent in states written before it
   * existed (replay then falls back to the built-in profile of that name).
   */
  readonly resolvedProfile?: DeviceProfile;
}

/** Set when an apply failed and its rollback could not undo everything (exit code 3). */
export interface Attention {
  readonly reason: string;
  /** Human lines saying exactly what is left on the backend. */
  readonly leftovers: readonly string[];
}

export interface StateBody {
  readonly backend: BackendKind;
  readonly options: { readonly rlimitMode: RlimitMode };
  /** In declaration order. */
  readonly memory: readonly RecordedMemory[];
  /** In declaration order. */
  readonly ioas: readonly RecordedIoas[];
  /** For the simulator backend: the simulated kernel itself (a snapshot, restorable exactly). */
  readonly sim: unknown;
  /** The journal sequence number of the last call whose effect this body includes (recovery). */
  readonly journalSeq: number;
  readonly attention: Attention | null;
  /** In name order. Optional and absent when there are none, so device-free bodies are unchanged. */
  readonly devices?: readonly RecordedDevice[];
}

export function emptyStateBody(backend: BackendKind): StateBody {
  return { backend, options: { rlimitMode: 'user' }, memory: [], ioas: [], sim: null, journalSeq: 0, attention: null };
}

/** The first byte of an entry and its total length (areas are back to back). */
export function entryExtent(entry: RecordedEntry): { iova: bigint; length: bigint } | null {
  const first = entry.areas[0];
  if (!first) return null;
  return { iova: first.iova, length: entry.areas.reduce((sum, a) => sum + a.length, 0n) };
}

/** The layout the recorded state implements (for `show` and for re-planning after destroy). */
export function recordedLayout(body: StateBody): Layout {
  const devices = (body.devices ?? []).map(({ name, source, ioas, profile }) => ({ name, source, ioas, profile }));
  return {
    version: 1,
    options: body.options,
    memory: body.memory.map(({ name, size, backing }) => ({ name, size, backing })),
    ioas: body.ioas.map((i) => ({
      name: i.name,
      allowedIovas: i.allowedIovas,
      hugePages: i.hugePages,
      mappings: i.entries.flatMap((e) => (e.spec.kind === 'mapping' ? [e.spec.mapping] : [])),
      copies: i.entries.flatMap((e) => (e.spec.kind === 'copy' ? [e.spec.copy] : [])),
    })),
    ...(devices.length > 0 ? { devices } : {}),
  };
}

export function accessOf(spec: EntrySpec): Access {
  return spec.kind === 'mapping' ? spec.mapping.access : spec.copy.access;
}
