// The step runner: executes ONE Step on a UapiContext, resolving layout names through the live
// table (the recorded state body), and returns what happened as data together with the updated
// body. Forward steps, undo steps and IOVA prediction all go through here.

import { builtinProfile, HOST_PROFILE, type DeviceProfile } from '../model/device-profile.js';
import { readHostProfile } from './host-profile.js';
import type { Access, Device, DeviceSource, RlimitMode } from '../model/layout.js';
import type { RecordedEntry, RecordedMemory, StateBody } from '../model/recorded.js';
import type { Area, Step, StepOutput } from '../model/step.js';
import { callName } from '../model/step.js';
import type { UapiContext, UapiResult } from '../model/uapi.js';
import {
  ERRNO,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  isOk,
} from '../model/uapi.js';
import type { MemoryHolder } from './holder.js';
import type { IoasRow } from './working-table.js';
import { byIova, WorkingTable } from './working-table.js';

/** The call failed: the errno the backend answered, or a mismatch between table and backend. */
export interface StepFailure {
  readonly ok: false;
  readonly call: string;
  /** Positive errno; 0 for `code: 'STATE_MISMATCH'` (the live table does not fit the step). */
  readonly errno: number;
  readonly code: string;
  readonly message?: string;
}

export type StepRun = { readonly ok: true; readonly output: StepOutput; readonly body: StateBody } | StepFailure;

/** What `runTableStep` returns: the table itself holds the new state. */
export type TableStepRun = { readonly ok: true; readonly output: StepOutput } | StepFailure;

export interface RunnerEnv {
  readonly ctx: UapiContext;
  readonly holder: MemoryHolder;
  /**
   * The device model of a layout device (the simulator needs it to bind). Absent: the built-in
   * profiles only; `host` needs a resolver that read sysfs (src/apply/host-profile.ts).
   */
  readonly resolveProfile?: (device: Device) => DeviceProfile | null;
}

/** A built-in profile, or the host's (sysfs) for `host`; a string says why there is none. */
function defaultProfile(device: Device): DeviceProfile | string {
  if (device.profile !== HOST_PROFILE) return builtinProfile(device.profile) ?? `no device model for profile '${device.profile}'`;
  const host = readHostProfile(device.source);
  return host.ok ? host.profile : `profile host: ${host.message}`;
}

/** What DeviceBindArgs.path carries for a layout device. */
export function deviceBindPath(source: DeviceSource): string {
  return source.kind === 'path' ? source.path : `pci:${source.address}`;
}

function unsupported(step: Step): StepFailure {
  return { ok: false, call: callName(step), errno: ERRNO.EOPNOTSUPP, code: 'EOPNOTSUPP', message: 'this backend cannot bind, attach or detach devices yet' };
}

const RLIMIT_VALUE: Record<RlimitMode, bigint> = { user: 0n, process: 1n };

export function accessFlags(access: Access): number {
  return (access.includes('r') ? IOMMU_IOAS_MAP_READABLE : 0) | (access.includes('w') ? IOMMU_IOAS_MAP_WRITEABLE : 0);
}

function mismatch(step: Step, message: string): StepFailure {
  return { ok: false, call: callName(step), errno: 0, code: 'STATE_MISMATCH', message };
}

function failed(step: Step, r: UapiResult): StepFailure {
  return { ok: false, call: callName(step), errno: r.errno, code: r.code };
}

/**
 * The pieces of the source IOAS's areas that cover [srcIova, srcIova+length-1], in order. When
 * the copied entry's own areas cover the range back to back, no other area can overlap it (an
 * IOVA is mapped at most once in an IOAS, and the table only learns areas the kernel accepted),
 * so they are the answer without scanning the whole IOAS; otherwise every area is looked at.
 */
function sourcePieces(source: IoasRow, hint: RecordedEntry | undefined, srcIova: bigint, length: bigint): { length: bigint; userVa: bigint; memory: string; offset: bigint }[] {
  const last = srcIova + length - 1n;
  const overlaps = (a: Area): boolean => a.iova <= last && srcIova <= a.iova + a.length - 1n;
  let areas = hint ? hint.areas.filter(overlaps) : [];
  if (!coversBackToBack(areas, srcIova, last)) {
    areas = [];
    for (const e of source.entries.values()) for (const a of e.areas) if (overlaps(a)) areas.push(a);
    areas.sort(byIova);
  }
  return areas.map((a) => {
    const start = a.iova > srcIova ? a.iova : srcIova;
    const areaLast = a.iova + a.length - 1n;
    const end = areaLast < last ? areaLast : last;
    const skip = start - a.iova;
    return { length: end - start + 1n, userVa: a.userVa + skip, memory: a.memory, offset: a.offset + skip };
  });
}

/** True when `areas` (ascending IOVA) tile [first, last] with no gap. */
function coversBackToBack(areas: readonly Area[], first: bigint, last: bigint): boolean {
  let next = first;
  for (const a of areas) {
    if (a.iova > next) return false;
    next = a.iova + a.length;
  }
  return areas.length > 0 && next > last;
}

/**
 * Executes one step on a fresh table built from `body` and returns the new body. O(state) per
 * call: a convenience for single steps; runs of many steps use `runTableStep` on one table.
 */
export async function runStep(env: RunnerEnv, body: StateBody, step: Step): Promise<StepRun> {
  const table = WorkingTable.from(body);
  const run = await runTableStep(env, table, step);
  return run.ok ? { ok: true, output: run.output, body: table.body() } : run;
}

/**
 * Executes one step against the working table, updating it in place on success only (a failure
 * leaves the table as it was). Never throws for backend errors: they come back as a StepFailure.
 */
export async function runTableStep(env: RunnerEnv, table: WorkingTable, step: Step): Promise<TableStepRun> {
  const { ctx } = env;
  switch (step.op) {
    case 'attach': {
      const ioas = table.ioas(step.ioas);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      if (table.device(step.device.name)) return mismatch(step, `device.${step.device.name} is already attached`);
      if (!ctx.deviceBind || !ctx.deviceAttach || !ctx.deviceUnbind) return unsupported(step);
      const resolved = env.resolveProfile ? env.resolveProfile(step.device) : defaultProfile(step.device);
      if (typeof resolved === 'string' || resolved === null) {
        return { ok: false, call: callName(step), errno: ERRNO.ENODEV, code: 'ENODEV', message: resolved ?? `no device model for profile '${step.device.profile}'` };
      }
      const profile = resolved;
      const bound = await ctx.deviceBind({ path: deviceBindPath(step.device.source), profile });
      if (!isOk(bound)) return failed(step, bound);
      const attached = await ctx.deviceAttach({ devId: bound.devId, ptId: ioas.id });
      if (!isOk(attached)) {
        // One step binds and attaches, so a failed attach must not leave the device bound.
        await ctx.deviceUnbind({ devId: bound.devId });
        return failed(step, attached);
      }
      table.setDevice({ ...step.device, devId: bound.devId, ptId: attached.ptId, resolvedProfile: profile });
      return { ok: true, output: { op: 'attach', devId: bound.devId, ptId: attached.ptId } };
    }
    case 'detach': {
      const device = table.device(step.device.name);
      if (!device) return mismatch(step, `device.${step.device.name} is not in the state`);
      if (!ctx.deviceDetach || !ctx.deviceUnbind) return unsupported(step);
      const detached = await ctx.deviceDetach({ devId: device.devId });
      if (!isOk(detached)) return failed(step, detached);
      const unbound = await ctx.deviceUnbind({ devId: device.devId });
      if (!isOk(unbound)) return failed(step, unbound);
      table.deleteDevice(device.name);
      return { ok: true, output: { op: 'detach' } };
    }
    case 'create-memory': {
      if (table.memory.has(step.memory.name)) return mismatch(step, `memory.${step.memory.name} already exists`);
      const created = await env.holder.create(step.memory, table.memory.list());
      if (!created.ok) return { ok: false, call: callName(step), errno: created.errno, code: created.code };
      const region: RecordedMemory = { ...step.memory, userVa: created.userVa };
      table.memory.insert(region);
      return { ok: true, output: { op: 'create-memory', userVa: created.userVa } };
    }
    case 'release-memory': {
      if (!table.memory.has(step.memory.name)) return mismatch(step, `memory.${step.memory.name} does not exist`);
      const released = await env.holder.release(step.memory, step.userVa);
      if (!released.ok) return { ok: false, call: callName(step), errno: released.errno, code: released.code };
      table.memory.delete(step.memory.name);
      return { ok: true, output: { op: 'release-memory' } };
    }
    case 'set-rlimit-mode': {
      const r = await ctx.option({ optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, objectId: 0, val64: RLIMIT_VALUE[step.mode] });
      if (!isOk(r)) return failed(step, r);
      table.setOptions({ ...table.options, rlimitMode: step.mode });
      return { ok: true, output: { op: 'set-rlimit-mode' } };
    }
    case 'alloc-ioas': {
      if (table.ioas(step.ioas)) return mismatch(step, `ioas.${step.ioas} already exists`);
      const r = await ctx.ioasAlloc({ flags: 0 });
      if (!isOk(r)) return failed(step, r);
      table.addIoas({ name: step.ioas, id: r.outIoasId, allowedIovas: [], hugePages: true, entries: [] });
      return { ok: true, output: { op: 'alloc-ioas', id: r.outIoasId } };
    }
    case 'destroy-ioas': {
      const ioas = table.ioas(step.ioas);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      const r = await ctx.destroy({ id: ioas.id });
      if (!isOk(r)) return failed(step, r);
      table.deleteIoas(step.ioas);
      return { ok: true, output: { op: 'destroy-ioas' } };
    }
    case 'allow-iovas': {
      const ioas = table.ioas(step.ioas);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      const r = await ctx.ioasAllowIovas({ ioasId: ioas.id, ranges: step.ranges });
      if (!isOk(r)) return failed(step, r);
      ioas.update({ allowedIovas: step.ranges });
      return { ok: true, output: { op: 'allow-iovas' } };
    }
    case 'set-huge-pages': {
      const ioas = table.ioas(step.ioas);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      const r = await ctx.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: ioas.id, val64: step.enabled ? 1n : 0n });
      if (!isOk(r)) return failed(step, r);
      ioas.update({ hugePages: step.enabled });
      return { ok: true, output: { op: 'set-huge-pages' } };
    }
    case 'map': {
      const ioas = table.ioas(step.ioas);
      const region = table.memory.get(step.memory);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      if (!region) return mismatch(step, `memory.${step.memory} is not in the state`);
      const userVa = region.userVa + step.offset;
      const flags = accessFlags(step.access) | (step.iova === null ? 0 : IOMMU_IOAS_MAP_FIXED_IOVA);
      const r = await ctx.ioasMap({ flags, ioasId: ioas.id, userVa, length: step.length, iova: step.iova ?? 0n });
      if (!isOk(r)) return failed(step, r);
      const area: Area = { iova: r.iova, length: step.length, userVa, memory: step.memory, offset: step.offset, access: step.access };
      ioas.addAreas(step.entry, step.spec, [area]);
      return { ok: true, output: { op: 'map', areas: [area] } };
    }
    case 'copy': {
      const dst = table.ioas(step.ioas);
      const src = table.ioas(step.from.ioas);
      if (!dst) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      if (!src) return mismatch(step, `ioas.${step.from.ioas} is not in the state`);
      let srcIova: bigint;
      let sourceEntry: RecordedEntry | undefined;
      if (step.from.kind === 'entry') {
        sourceEntry = src.entries.get(step.from.entry);
        const first = sourceEntry?.areas[0];
        if (!first) return mismatch(step, `ioas.${step.from.ioas}/${step.from.entry} is not in the state`);
        srcIova = first.iova + step.from.offset;
      } else {
        srcIova = step.from.iova;
      }
      const flags = accessFlags(step.access) | (step.iova === null ? 0 : IOMMU_IOAS_MAP_FIXED_IOVA);
      const r = await ctx.ioasCopy({ flags, dstIoasId: dst.id, srcIoasId: src.id, length: step.length, dstIova: step.iova ?? 0n, srcIova });
      if (!isOk(r)) return failed(step, r);
      const pieces = sourcePieces(src, sourceEntry, srcIova, step.length);
      const covered = pieces.reduce((sum, p) => sum + p.length, 0n);
      if (covered !== step.length) return mismatch(step, `the kernel copied ${step.length} bytes the state does not know as mapped at ${srcIova}`);
      let at = r.dstIova;
      const areas: Area[] = pieces.map((p) => {
        const area: Area = { iova: at, length: p.length, userVa: p.userVa, memory: p.memory, offset: p.offset, access: step.access };
        at += p.length;
        return area;
      });
      dst.addAreas(step.entry, step.spec, areas);
      return { ok: true, output: { op: 'copy', areas } };
    }
    case 'unmap': {
      const ioas = table.ioas(step.ioas);
      const first = step.areas[0];
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      if (!first) return mismatch(step, `ioas.${step.ioas}/${step.entry} has no areas to unmap`);
      const length = step.areas.reduce((sum, a) => sum + a.length, 0n);
      const r = await ctx.ioasUnmap({ ioasId: ioas.id, iova: first.iova, length });
      if (!isOk(r)) return failed(step, r);
      if (r.length !== length) {
        return { ...mismatch(step, `the kernel unmapped ${r.length} bytes, the state expected ${length}: other areas lay inside the range`) };
      }
      ioas.removeAreas(step.entry, new Set(step.areas.map((a) => a.iova)));
      return { ok: true, output: { op: 'unmap', length: r.length } };
    }
  }
}
