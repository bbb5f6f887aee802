// A Step is one backend call as plain data: the unit shared by the planner, the step runner, the
// apply journal and rollback. Steps name IOASes, entries and memory regions by their layout
// names, never by kernel id: the runner keeps a live name -> id table, because undoing a destroy
// yields a NEW id.
//
// Every step carries enough data to be undone, and `inverse(step, result)` turns an executed step
// and what the backend answered into the steps that undo it. Rollback is running those inverses
// in reverse through the same runner: there is no second code path.

import type { Access, Copy, Device, IovaRange, Mapping, MemoryRegion, RlimitMode } from './layout.js';

/** What an entry (a mapping or a copy) was asked to be; recorded so an undo can rebuild it. */
export type EntrySpec =
  | { readonly kind: 'mapping'; readonly mapping: Mapping }
  | { readonly kind: 'copy'; readonly copy: Copy };

/**
 * One kernel area as it exists: areas never merge, and a copy spanning several source areas is
 * several areas, so entries record areas rather than one range.
 */
export interface Area {
  readonly iova: bigint;
  readonly length: bigint;
  /** The user VA of the area's first byte. */
  readonly userVa: bigint;
  /** The memory region the bytes belong to and the offset into it (userVa = regionVa + offset). */
  readonly memory: string;
  readonly offset: bigint;
  readonly access: Access;
}

interface StepBase {
  /** The resource this step serves, e.g. `ioas.dp/mapping.rx`, `memory.pool`, `options`. */
  readonly address: string;
}

/** Holder level: the holder (agent or simulator) reserves backing memory and gives it a user VA. */
export interface CreateMemoryStep extends StepBase { readonly op: 'create-memory'; readonly memory: MemoryRegion }
export interface ReleaseMemoryStep extends StepBase { readonly op: 'release-memory'; readonly memory: MemoryRegion; readonly userVa: bigint }

/** IOMMU_OPTION RLIMIT_MODE SET; the kernel accepts it only on an empty context. */
export interface SetRlimitModeStep extends StepBase { readonly op: 'set-rlimit-mode'; readonly mode: RlimitMode; readonly previous: RlimitMode }
/** IOMMU_IOAS_ALLOC. */
export interface AllocIoasStep extends StepBase { readonly op: 'alloc-ioas'; readonly ioas: string }
/**
 * IOMMU_DESTROY of an IOAS. The planner unmaps every entry first, so the IOAS is empty of areas;
 * the allowed list and huge-pages setting it had are carried so the undo can restore them.
 */
export interface DestroyIoasStep extends StepBase {
  readonly op: 'destroy-ioas';
  readonly ioas: string;
  readonly allowedIovas: readonly IovaRange[];
  readonly hugePages: boolean;
}
/** IOMMU_IOAS_ALLOW_IOVAS: replaces the whole list; `previous` is the list it replaces. */
export interface AllowIovasStep extends StepBase {
  readonly op: 'allow-iovas';
  readonly ioas: string;
  readonly ranges: readonly IovaRange[];
  readonly previous: readonly IovaRange[];
}
/** IOMMU_OPTION HUGE_PAGES SET on one IOAS. */
export interface SetHugePagesStep extends StepBase {
  readonly op: 'set-huge-pages';
  readonly ioas: string;
  readonly enabled: boolean;
  readonly previous: boolean;
}
/**
 * IOMMU_IOAS_MAP of `length` bytes at `offset` into a memory region. Also used to put back an
 * area an undo removed (then `iova` is fixed and `spec` names the entry the area belongs to).
 */
export interface MapStep extends StepBase {
  readonly op: 'map';
  readonly ioas: string;
  readonly entry: string;
  readonly spec: EntrySpec;
  readonly memory: string;
  readonly offset: bigint;
  readonly length: bigint;
  /** Fixed IOVA, or null for automatic placement. */
  readonly iova: bigint | null;
  readonly access: Access;
  /** Filled by IOVA prediction (a dry run on a simulator): the IOVA the kernel will pick. */
  readonly predictedIova?: bigint;
}
/** Where a copy reads from, resolved by the runner against the live table. */
export type CopyFrom =
  | { readonly kind: 'entry'; readonly ioas: string; readonly entry: string; readonly offset: bigint }
  | { readonly kind: 'iova'; readonly ioas: string; readonly iova: bigint };
/** IOMMU_IOAS_COPY. */
export interface CopyStep extends StepBase {
  readonly op: 'copy';
  readonly ioas: string;
  readonly entry: string;
  readonly spec: EntrySpec;
  readonly from: CopyFrom;
  readonly length: bigint;
  readonly iova: bigint | null;
  readonly access: Access;
  readonly predictedIova?: bigint;
}
/**
 * IOMMU_IOAS_UNMAP of exactly the areas of one entry (they are back to back, so one call). The
 * areas are carried so the undo can map the same memory at the same IOVAs.
 */
export interface UnmapStep extends StepBase {
  readonly op: 'unmap';
  readonly ioas: string;
  readonly entry: string;
  readonly spec: EntrySpec;
  readonly areas: readonly Area[];
}

/**
 * VFIO_DEVICE_BIND_IOMMUFD + VFIO_DEVICE_ATTACH_IOMMUFD_PT: the device (its cdev and profile)
 * bound to the context and attached to `ioas`. One step, so that a failed attach leaves nothing
 * bound; `device` is everything the undo (a detach) and a redo need.
 */
export interface AttachStep extends StepBase { readonly op: 'attach'; readonly device: Device; readonly ioas: string }
/** VFIO_DEVICE_DETACH_IOMMUFD_PT + closing the device fd (unbind). The undo attaches it again. */
export interface DetachStep extends StepBase { readonly op: 'detach'; readonly device: Device; readonly ioas: string }

export type Step =
  | AttachStep
  | DetachStep
  | CreateMemoryStep
  | ReleaseMemoryStep
  | SetRlimitModeStep
  | AllocIoasStep
  | DestroyIoasStep
  | AllowIovasStep
  | SetHugePagesStep
  | MapStep
  | CopyStep
  | UnmapStep;

export type StepOp = Step['op'];

/** What a successful step produced, as data (journaled, and the input of `inverse`). */
export type StepOutput =
  | { readonly op: 'create-memory'; readonly userVa: bigint }
  | { readonly op: 'alloc-ioas'; readonly id: number }
  | { readonly op: 'map' | 'copy'; readonly areas: readonly Area[] }
  | { readonly op: 'unmap'; readonly length: bigint }
  | { readonly op: 'attach'; readonly devId: number; readonly ptId: number }
  | { readonly op: 'release-memory' | 'set-rlimit-mode' | 'destroy-ioas' | 'allow-iovas' | 'set-huge-pages' | 'detach' };

export class InverseError extends Error {
  readonly code = 'inverse-mismatch';
}

function expectOutput<O extends StepOutput['op']>(step: Step, output: StepOutput, op: O): Extract<StepOutput, { op: O }> {
  if (output.op !== op) throw new InverseError(`output of ${step.op} is ${output.op}, expected ${op}`);
  return output as Extract<StepOutput, { op: O }>;
}

/**
 * The steps that undo `step`, given what it produced, in execution order. Pure.
 * attach <-> detach of the same device and IOAS, alloc <-> destroy, map/copy <-> unmap of the exact resulting areas, unmap <-> map of the same
 * memory at the same IOVA (one map per area), allow <-> allow of the previous list, option set
 * <-> set of the previous value, create-memory <-> release-memory.
 */
export function inverse(step: Step, output: StepOutput): Step[] {
  const address = step.address;
  switch (step.op) {
    case 'attach':
      expectOutput(step, output, 'attach');
      return [{ op: 'detach', address, device: step.device, ioas: step.ioas }];
    case 'detach':
      return [{ op: 'attach', address, device: step.device, ioas: step.ioas }];
    case 'create-memory': {
      const out = expectOutput(step, output, 'create-memory');
      return [{ op: 'release-memory', address, memory: step.memory, userVa: out.userVa }];
    }
    case 'release-memory':
      return [{ op: 'create-memory', address, memory: step.memory }];
    case 'set-rlimit-mode':
      return [{ op: 'set-rlimit-mode', address, mode: step.previous, previous: step.mode }];
    case 'alloc-ioas':
      // A fresh IOAS has no allowed list and huge pages on; by the time this undo runs, the
      // undos of later steps have put it back in that state.
      return [{ op: 'destroy-ioas', address, ioas: step.ioas, allowedIovas: [], hugePages: true }];
    case 'destroy-ioas': {
      const steps: Step[] = [{ op: 'alloc-ioas', address, ioas: step.ioas }];
      if (!step.hugePages) steps.push({ op: 'set-huge-pages', address, ioas: step.ioas, enabled: false, previous: true });
      if (step.allowedIovas.length > 0) {
        steps.push({ op: 'allow-iovas', address, ioas: step.ioas, ranges: step.allowedIovas, previous: [] });
      }
      return steps;
    }
    case 'allow-iovas':
      return [{ op: 'allow-iovas', address, ioas: step.ioas, ranges: step.previous, previous: step.ranges }];
    case 'set-huge-pages':
      return [{ op: 'set-huge-pages', address, ioas: step.ioas, enabled: step.previous, previous: step.enabled }];
    case 'map':
    case 'copy': {
      const out = expectOutput(step, output, step.op);
      return [{ op: 'unmap', address, ioas: step.ioas, entry: step.entry, spec: step.spec, areas: out.areas }];
    }
    case 'unmap':
      return step.areas.map((area) => ({
        op: 'map',
        address,
        ioas: step.ioas,
        entry: step.entry,
        spec: step.spec,
        memory: area.memory,
        offset: area.offset,
        length: area.length,
        iova: area.iova,
        access: area.access,
      }));
  }
}

/** The iommufd call (or holder action) a step makes, for `--calls` and error reports. */
export function callName(step: Step): string {
  switch (step.op) {
    case 'attach': return 'VFIO_DEVICE_BIND_IOMMUFD + VFIO_DEVICE_ATTACH_IOMMUFD_PT';
    case 'detach': return 'VFIO_DEVICE_DETACH_IOMMUFD_PT + close';
    case 'create-memory': return 'holder: create memory';
    case 'release-memory': return 'holder: release memory';
    case 'set-rlimit-mode': return 'IOMMU_OPTION(RLIMIT_MODE, SET)';
    case 'alloc-ioas': return 'IOMMU_IOAS_ALLOC';
    case 'destroy-ioas': return 'IOMMU_DESTROY';
    case 'allow-iovas': return 'IOMMU_IOAS_ALLOW_IOVAS';
    case 'set-huge-pages': return 'IOMMU_OPTION(HUGE_PAGES, SET)';
    case 'map': return 'IOMMU_IOAS_MAP';
    case 'copy': return 'IOMMU_IOAS_COPY';
    case 'unmap': return 'IOMMU_IOAS_UNMAP';
  }
}
