// The step runner as it was before the working table (commit 8165e92): an immutable body rebuilt
// and re-sorted on every step. Kept verbatim as the oracle that runner.test.ts compares the
// table-based runner's bodies with, byte for byte.

import type { Access, RlimitMode } from '../../src/model/layout.js';
import type { RecordedEntry, RecordedIoas, RecordedMemory, StateBody } from '../../src/model/recorded.js';
import type { Area, Step, StepOutput } from '../../src/model/step.js';
import { callName } from '../../src/model/step.js';
import type { UapiContext, UapiResult } from '../../src/model/uapi.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  isOk,
} from '../../src/model/uapi.js';
import type { MemoryHolder } from '../../src/apply/holder.js';

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

export interface RunnerEnv {
  readonly ctx: UapiContext;
  readonly holder: MemoryHolder;
}

const RLIMIT_VALUE: Record<RlimitMode, bigint> = { user: 0n, process: 1n };

function accessFlags(access: Access): number {
  return (access.includes('r') ? IOMMU_IOAS_MAP_READABLE : 0) | (access.includes('w') ? IOMMU_IOAS_MAP_WRITEABLE : 0);
}

function mismatch(step: Step, message: string): StepFailure {
  return { ok: false, call: callName(step), errno: 0, code: 'STATE_MISMATCH', message };
}

function failed(step: Step, r: UapiResult): StepFailure {
  return { ok: false, call: callName(step), errno: r.errno, code: r.code };
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function withIoas(body: StateBody, name: string, update: (i: RecordedIoas) => RecordedIoas | null): StateBody {
  const ioas = body.ioas.flatMap((i) => {
    if (i.name !== name) return [i];
    const next = update(i);
    return next ? [next] : [];
  });
  return { ...body, ioas };
}

function withEntryAreas(ioas: RecordedIoas, entry: string, spec: RecordedEntry['spec'], add: readonly Area[]): RecordedIoas {
  const old = ioas.entries.find((e) => e.name === entry);
  const areas = [...(old?.areas ?? []), ...add].sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0));
  const entries = [...ioas.entries.filter((e) => e.name !== entry), { name: entry, spec, areas }].sort(byName);
  return { ...ioas, entries };
}

/** The pieces of the source IOAS's areas that cover [srcIova, srcIova+length-1], in order. */
function sourcePieces(source: RecordedIoas, srcIova: bigint, length: bigint): { length: bigint; userVa: bigint; memory: string; offset: bigint }[] {
  const last = srcIova + length - 1n;
  const areas = source.entries.flatMap((e) => e.areas).filter((a) => a.iova <= last && srcIova <= a.iova + a.length - 1n);
  areas.sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0));
  return areas.map((a) => {
    const start = a.iova > srcIova ? a.iova : srcIova;
    const areaLast = a.iova + a.length - 1n;
    const end = areaLast < last ? areaLast : last;
    const skip = start - a.iova;
    return { length: end - start + 1n, userVa: a.userVa + skip, memory: a.memory, offset: a.offset + skip };
  });
}

/** Executes one step. Never throws for backend errors: they come back as a StepFailure. */
export async function referenceRunStep(env: RunnerEnv, body: StateBody, step: Step): Promise<StepRun> {
  const { ctx } = env;
  const findIoas = (name: string): RecordedIoas | undefined => body.ioas.find((i) => i.name === name);
  switch (step.op) {
    // Devices came after this runner was frozen; the table runner is the only one with them.
    case 'attach':
    case 'detach':
      return mismatch(step, 'the reference runner has no devices');
    case 'create-memory': {
      if (body.memory.some((m) => m.name === step.memory.name)) return mismatch(step, `memory.${step.memory.name} already exists`);
      const created = await env.holder.create(step.memory, body.memory);
      if (!created.ok) return { ok: false, call: callName(step), errno: created.errno, code: created.code };
      const region: RecordedMemory = { ...step.memory, userVa: created.userVa };
      return { ok: true, output: { op: 'create-memory', userVa: created.userVa }, body: { ...body, memory: [...body.memory, region].sort(byName) } };
    }
    case 'release-memory': {
      if (!body.memory.some((m) => m.name === step.memory.name)) return mismatch(step, `memory.${step.memory.name} does not exist`);
      const released = await env.holder.release(step.memory, step.userVa);
      if (!released.ok) return { ok: false, call: callName(step), errno: released.errno, code: released.code };
      return { ok: true, output: { op: 'release-memory' }, body: { ...body, memory: body.memory.filter((m) => m.name !== step.memory.name) } };
    }
    case 'set-rlimit-mode': {
      const r = await ctx.option({ optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, objectId: 0, val64: RLIMIT_VALUE[step.mode] });
      if (!isOk(r)) return failed(step, r);
      return { ok: true, output: { op: 'set-rlimit-mode' }, body: { ...body, options: { ...body.options, rlimitMode: step.mode } } };
    }
    case 'alloc-ioas': {
      if (findIoas(step.ioas)) return mismatch(step, `ioas.${step.ioas} already exists`);
      const r = await ctx.ioasAlloc({ flags: 0 });
      if (!isOk(r)) return failed(step, r);
      const created: RecordedIoas = { name: step.ioas, id: r.outIoasId, allowedIovas: [], hugePages: true, entries: [] };
      return { ok: true, output: { op: 'alloc-ioas', id: r.outIoasId }, body: { ...body, ioas: [...body.ioas, created].sort(byName) } };
    }
    case 'destroy-ioas': {
      const ioas = findIoas(step.ioas);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      const r = await ctx.destroy({ id: ioas.id });
      if (!isOk(r)) return failed(step, r);
      return { ok: true, output: { op: 'destroy-ioas' }, body: withIoas(body, step.ioas, () => null) };
    }
    case 'allow-iovas': {
      const ioas = findIoas(step.ioas);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      const r = await ctx.ioasAllowIovas({ ioasId: ioas.id, ranges: step.ranges });
      if (!isOk(r)) return failed(step, r);
      return { ok: true, output: { op: 'allow-iovas' }, body: withIoas(body, step.ioas, (i) => ({ ...i, allowedIovas: step.ranges })) };
    }
    case 'set-huge-pages': {
      const ioas = findIoas(step.ioas);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      const r = await ctx.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: ioas.id, val64: step.enabled ? 1n : 0n });
      if (!isOk(r)) return failed(step, r);
      return { ok: true, output: { op: 'set-huge-pages' }, body: withIoas(body, step.ioas, (i) => ({ ...i, hugePages: step.enabled })) };
    }
    case 'map': {
      const ioas = findIoas(step.ioas);
      const region = body.memory.find((m) => m.name === step.memory);
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      if (!region) return mismatch(step, `memory.${step.memory} is not in the state`);
      const userVa = region.userVa + step.offset;
      const flags = accessFlags(step.access) | (step.iova === null ? 0 : IOMMU_IOAS_MAP_FIXED_IOVA);
      const r = await ctx.ioasMap({ flags, ioasId: ioas.id, userVa, length: step.length, iova: step.iova ?? 0n });
      if (!isOk(r)) return failed(step, r);
      const area: Area = { iova: r.iova, length: step.length, userVa, memory: step.memory, offset: step.offset, access: step.access };
      return { ok: true, output: { op: 'map', areas: [area] }, body: withIoas(body, step.ioas, (i) => withEntryAreas(i, step.entry, step.spec, [area])) };
    }
    case 'copy': {
      const dst = findIoas(step.ioas);
      const src = findIoas(step.from.ioas);
      if (!dst) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      if (!src) return mismatch(step, `ioas.${step.from.ioas} is not in the state`);
      let srcIova: bigint;
      if (step.from.kind === 'entry') {
        const entryName = step.from.entry;
        const source = src.entries.find((e) => e.name === entryName);
        const first = source?.areas[0];
        if (!first) return mismatch(step, `ioas.${step.from.ioas}/${step.from.entry} is not in the state`);
        srcIova = first.iova + step.from.offset;
      } else {
        srcIova = step.from.iova;
      }
      const flags = accessFlags(step.access) | (step.iova === null ? 0 : IOMMU_IOAS_MAP_FIXED_IOVA);
      const r = await ctx.ioasCopy({ flags, dstIoasId: dst.id, srcIoasId: src.id, length: step.length, dstIova: step.iova ?? 0n, srcIova });
      if (!isOk(r)) return failed(step, r);
      const pieces = sourcePieces(src, srcIova, step.length);
      const covered = pieces.reduce((sum, p) => sum + p.length, 0n);
      if (covered !== step.length) return mismatch(step, `the kernel copied ${step.length} bytes the state does not know as mapped at ${srcIova}`);
      let at = r.dstIova;
      const areas: Area[] = pieces.map((p) => {
        const area: Area = { iova: at, length: p.length, userVa: p.userVa, memory: p.memory, offset: p.offset, access: step.access };
        at += p.length;
        return area;
      });
      return { ok: true, output: { op: 'copy', areas }, body: withIoas(body, step.ioas, (i) => withEntryAreas(i, step.entry, step.spec, areas)) };
    }
    case 'unmap': {
      const ioas = findIoas(step.ioas);
      const first = step.areas[0];
      if (!ioas) return mismatch(step, `ioas.${step.ioas} is not in the state`);
      if (!first) return mismatch(step, `ioas.${step.ioas}/${step.entry} has no areas to unmap`);
      const length = step.areas.reduce((sum, a) => sum + a.length, 0n);
      const r = await ctx.ioasUnmap({ ioasId: ioas.id, iova: first.iova, length });
      if (!isOk(r)) return failed(step, r);
      const removed = new Set(step.areas.map((a) => a.iova));
      const next = withIoas(body, step.ioas, (i) => ({
        ...i,
        entries: i.entries.flatMap((e) => {
          if (e.name !== step.entry) return [e];
          const left = e.areas.filter((a) => !removed.has(a.iova));
          return left.length > 0 ? [{ ...e, areas: left }] : [];
        }),
      }));
      if (r.length !== length) {
        return { ...mismatch(step, `the kernel unmapped ${r.length} bytes, the state expected ${length}: other areas lay inside the range`) };
      }
      return { ok: true, output: { op: 'unmap', length: r.length }, body: next };
    }
  }
}
