// Runs the steps of a plan made against EMPTY state straight on a simulator's uapi and builds
// the recorded state body in one pass, with hash maps for every lookup. It was written when the
// applier's runner (src/apply/runner.ts) rebuilt an immutable body per step (O(n^2)); the runner
// now keeps an indexed working table too, and this stays as the "simulator plus minimal
// bookkeeping" figure. A unit test checks that it produces the same body as the runner at 1k.

import { SIM_MEMORY_SLOT, simRegionVa } from '../src/apply/holder.js';
import { accessFlags } from '../src/apply/runner.js';
import type { SimContext } from '../src/backends/sim/index.js';
import type { RecordedEntry, RecordedIoas, RecordedMemory, StateBody } from '../src/model/recorded.js';
import { emptyStateBody } from '../src/model/recorded.js';
import type { Area, Step } from '../src/model/step.js';
import { IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, IOMMU_OPTION_RLIMIT_MODE, isOk, type UapiResult } from '../src/model/uapi.js';

export class BenchApplyError extends Error {}

interface LiveIoas {
  name: string;
  id: number;
  allowedIovas: RecordedIoas['allowedIovas'];
  hugePages: boolean;
  entries: Map<string, RecordedEntry>;
}

const roundUp = (value: bigint, to: bigint): bigint => ((value + to - 1n) / to) * to;
const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function applyOnSimulator(sim: SimContext, steps: readonly Step[]): StateBody {
  const memory: RecordedMemory[] = [];
  const memoryByName = new Map<string, RecordedMemory>();
  const ioasByName = new Map<string, LiveIoas>();
  let rlimitMode = emptyStateBody('sim').options.rlimitMode;
  // Plans list an IOAS's entries together and mostly walk a region's mappings in a row: one
  // remembered lookup each saves most string-keyed Map lookups of the hot MAP step.
  let lastIoas: LiveIoas | undefined;
  let lastRegion: RecordedMemory | undefined;
  const live = (name: string): LiveIoas => {
    if (lastIoas !== undefined && lastIoas.name === name) return lastIoas;
    const ioas = ioasByName.get(name);
    if (!ioas) throw new BenchApplyError(`ioas.${name} is not allocated`);
    lastIoas = ioas;
    return ioas;
  };
  /** The result of a call that must succeed (the plan was made for an empty simulator). */
  const must = <T extends object>(step: Step, r: UapiResult<T>): T => {
    if (!isOk(r)) throw new BenchApplyError(`${step.op} ${step.address}: ${r.code}`);
    return r;
  };

  for (const step of steps) {
    switch (step.op) {
      case 'create-memory': {
        // simRegionVa is first-fit over all regions (O(r log r) per call). Here regions are only
        // ever added, so they lie back to back from SIM_MEMORY_BASE and first-fit lands right
        // after the last one: the same address in O(1).
        const last = memory[memory.length - 1];
        const userVa = last ? last.userVa + roundUp(last.size > 0n ? last.size : 1n, SIM_MEMORY_SLOT) : simRegionVa(step.memory.size, []);
        const region: RecordedMemory = { ...step.memory, userVa };
        memory.push(region);
        memoryByName.set(region.name, region);
        break;
      }
      case 'set-rlimit-mode':
        must(step, sim.option({ optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, objectId: 0, val64: step.mode === 'process' ? 1n : 0n }));
        rlimitMode = step.mode;
        break;
      case 'alloc-ioas': {
        const r = must(step, sim.ioasAlloc({ flags: 0 }));
        ioasByName.set(step.ioas, { name: step.ioas, id: r.outIoasId, allowedIovas: [], hugePages: true, entries: new Map() });
        break;
      }
      case 'allow-iovas': {
        const ioas = live(step.ioas);
        must(step, sim.ioasAllowIovas({ ioasId: ioas.id, ranges: step.ranges }));
        ioas.allowedIovas = step.ranges;
        break;
      }
      case 'set-huge-pages': {
        const ioas = live(step.ioas);
        must(step, sim.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: ioas.id, val64: step.enabled ? 1n : 0n }));
        ioas.hugePages = step.enabled;
        break;
      }
      case 'map': {
        const ioas = live(step.ioas);
        const region = lastRegion !== undefined && lastRegion.name === step.memory ? lastRegion : memoryByName.get(step.memory);
        if (!region) throw new BenchApplyError(`memory.${step.memory} is not created`);
        lastRegion = region;
        const userVa = region.userVa + step.offset;
        const flags = accessFlags(step.access) | (step.iova === null ? 0 : IOMMU_IOAS_MAP_FIXED_IOVA);
        const r = must(step, sim.ioasMap({ flags, ioasId: ioas.id, userVa, length: step.length, iova: step.iova ?? 0n }));
        const area: Area = { iova: r.iova, length: step.length, userVa, memory: step.memory, offset: step.offset, access: step.access };
        ioas.entries.set(step.entry, { name: step.entry, spec: step.spec, areas: [area] });
        break;
      }
      case 'copy': {
        const dst = live(step.ioas);
        const src = live(step.from.ioas);
        if (step.from.kind !== 'entry') throw new BenchApplyError('the bench applier copies from named entries only');
        const source = src.entries.get(step.from.entry);
        const first = source?.areas[0];
        if (!source || !first) throw new BenchApplyError(`ioas.${step.from.ioas}/${step.from.entry} is not mapped`);
        const srcIova = first.iova + step.from.offset;
        const flags = accessFlags(step.access) | (step.iova === null ? 0 : IOMMU_IOAS_MAP_FIXED_IOVA);
        const r = must(step, sim.ioasCopy({ flags, dstIoasId: dst.id, srcIoasId: src.id, length: step.length, dstIova: step.iova ?? 0n, srcIova }));
        // The pieces of the source entry's (back-to-back) areas under [srcIova, srcIova+length).
        const end = srcIova + step.length;
        let at = r.dstIova;
        const areas: Area[] = [];
        for (const a of source.areas) {
          const start = a.iova > srcIova ? a.iova : srcIova;
          const stop = a.iova + a.length < end ? a.iova + a.length : end;
          if (start >= stop) continue;
          const skip = start - a.iova;
          areas.push({ iova: at, length: stop - start, userVa: a.userVa + skip, memory: a.memory, offset: a.offset + skip, access: step.access });
          at += stop - start;
        }
        dst.entries.set(step.entry, { name: step.entry, spec: step.spec, areas });
        break;
      }
      default:
        throw new BenchApplyError(`the bench applier runs plans against empty state only (got ${step.op})`);
    }
  }

  const ioas: RecordedIoas[] = [...ioasByName.values()]
    .map((i) => ({ name: i.name, id: i.id, allowedIovas: i.allowedIovas, hugePages: i.hugePages, entries: [...i.entries.values()].sort(byName) }))
    .sort(byName);
  return { ...emptyStateBody('sim'), options: { rlimitMode }, memory: [...memory].sort(byName), ioas };
}

/** One uapi call as the bench applier made it: method name and argument. */
export interface RecordedCall {
  readonly method: 'ioasAlloc' | 'ioasAllowIovas' | 'ioasMap' | 'ioasCopy' | 'option';
  readonly args: unknown;
}

/**
 * A simulator that records every call made through it, so the same calls can be replayed on a
 * fresh simulator: that measures the simulator alone, without the applier's bookkeeping.
 */
export function recordingSimulator(sim: SimContext, calls: RecordedCall[]): SimContext {
  const record = <A, R>(method: RecordedCall['method'], call: (args: A) => R) => (args: A): R => {
    calls.push({ method, args });
    return call(args);
  };
  return Object.assign(Object.create(sim) as SimContext, {
    ioasAlloc: record('ioasAlloc', sim.ioasAlloc.bind(sim)),
    ioasAllowIovas: record('ioasAllowIovas', sim.ioasAllowIovas.bind(sim)),
    ioasMap: record('ioasMap', sim.ioasMap.bind(sim)),
    ioasCopy: record('ioasCopy', sim.ioasCopy.bind(sim)),
    option: record('option', sim.option.bind(sim)),
  });
}

/** Replays recorded calls; throws on the first one that fails (it succeeded when recorded). */
export function replayCalls(sim: SimContext, calls: readonly RecordedCall[]): number {
  for (const { method, args } of calls) {
    const r = (sim[method] as (a: unknown) => UapiResult)(args);
    if (!isOk(r)) throw new BenchApplyError(`replay: ${method} failed with ${r.code}`);
  }
  return calls.length;
}
