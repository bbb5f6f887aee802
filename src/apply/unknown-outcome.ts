// MAP, COPY and UNMAP change the IOAS first and copy their result out last; when the copy-out
// faults the kernel keeps the change and answers EFAULT (spec §16). An EFAULT from those calls
// therefore means "outcome unknown": the call may or may not have happened. Before the rollback
// may say "the backend is as before", the applier finds out - by undoing the call anyway and
// reading the answer - or, when it cannot, reports exactly what may be left (reliability
// finding F1).
//
// - MAP/COPY at a fixed IOVA: UNMAP exactly [iova, iova+length). A removed length equal to the
//   call's length means it had happened (and is now undone); ENOENT means it had not (the planner
//   only maps fixed IOVAs over ranges the table knows to be empty, checked again here).
// - UNMAP: MAP every area back at its recorded IOVA. EEXIST means the area was still there (the
//   UNMAP had not happened); success means it had (and the area is back).
// - MAP/COPY at an automatic IOVA: the IOVA the kernel chose was never copied out and the uapi
//   cannot list mappings, but the new area can only lie in a gap between the recorded areas:
//   UNMAP every gap (sweepRanges). Nothing removed: it had not happened; exactly its length
//   removed: it had, and is undone; anything else: the backend holds mappings nobody recorded.
// Any other answer to a probe is inconclusive, and so is the outcome.

import type { Area, Step } from '../model/step.js';
import { callName } from '../model/step.js';
import { ERRNO, IOMMU_IOAS_MAP_FIXED_IOVA, U64_MAX, isOk } from '../model/uapi.js';
import type { UndoReport } from './apply.js';
import type { RunnerEnv, StepFailure } from './runner.js';
import { accessFlags } from './runner.js';
import type { WorkingTable } from './working-table.js';

export type ProbeResult =
  /** The call had not changed the backend. */
  | { readonly kind: 'not-happened'; readonly probes: readonly UndoReport[] }
  /** The call had changed the backend; the probe undid it. */
  | { readonly kind: 'undone'; readonly probes: readonly UndoReport[] }
  /** Nobody can tell; `leftover` says exactly what may be on the backend. */
  | { readonly kind: 'unknown'; readonly probes: readonly UndoReport[]; readonly leftover: string };

/** The one probe range of a fixed-IOVA call, or null when recorded areas overlap it. */
function fixedRange(recorded: readonly Area[], iova: bigint, length: bigint): { iova: bigint; length: bigint }[] | null {
  const last = iova + length - 1n;
  return recorded.some((a) => a.iova <= last && iova <= a.iova + a.length - 1n) ? null : [{ iova, length }];
}

/**
 * UNMAP ranges covering every IOVA no recorded area uses (areas sorted by IOVA). A call at an
 * automatic IOVA can only have placed its area wholly inside one of these gaps (areas never
 * overlap), and UNMAP removes exactly the areas lying wholly inside its range, so the ranges
 * together remove the unknown area and nothing recorded. An IOAS without recorded areas is swept
 * by the unmap-all form (iova 0, length U64_MAX), the only form that covers all 2^64 IOVAs.
 */
function sweepRanges(recorded: readonly Area[]): { iova: bigint; length: bigint }[] {
  if (recorded.length === 0) return [{ iova: 0n, length: U64_MAX }];
  const ranges: { iova: bigint; length: bigint }[] = [];
  let next = 0n;
  for (const a of recorded) {
    if (a.iova > next) ranges.push({ iova: next, length: a.iova - next });
    next = a.iova + a.length;
  }
  if (next <= U64_MAX) ranges.push({ iova: next, length: U64_MAX - next + 1n });
  return ranges;
}

/** True when a failed call may nevertheless have changed the backend. */
export function outcomeUnknown(step: Step, failure: StepFailure): boolean {
  return failure.errno === ERRNO.EFAULT && (step.op === 'map' || step.op === 'copy' || step.op === 'unmap');
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function probeStep(step: Step, op: 'map' | 'unmap', area: Area): Step {
  if (op === 'unmap') {
    const entry = step.op === 'map' || step.op === 'copy' || step.op === 'unmap' ? step : null;
    return { op: 'unmap', address: step.address, ioas: entry!.ioas, entry: entry!.entry, spec: entry!.spec, areas: [area] };
  }
  const s = step as Extract<Step, { op: 'unmap' }>;
  return { op: 'map', address: s.address, ioas: s.ioas, entry: s.entry, spec: s.spec, memory: area.memory, offset: area.offset, length: area.length, iova: area.iova, access: area.access };
}

function what(step: Step): string {
  switch (step.op) {
    case 'map':
      return `${hex(step.length)} bytes of memory.${step.memory}+${hex(step.offset)}`;
    case 'copy':
      return `a ${hex(step.length)}-byte copy from ioas.${step.from.ioas}`;
    default:
      return step.op;
  }
}

/**
 * Finds out whether `step` (which answered EFAULT) took effect, undoing it if it did. Probes go
 * straight to the uapi: the table never learnt the call's effect, and keeps its pre-call state.
 */
export async function probeUnknownOutcome(env: RunnerEnv, table: WorkingTable, step: Step): Promise<ProbeResult> {
  const { ctx } = env;
  const unknown = (probes: readonly UndoReport[], why: string): ProbeResult => ({
    kind: 'unknown',
    probes,
    leftover: `${step.address}: ${callName(step)} (${step.op}) answered EFAULT and may have taken effect: ${why}`,
  });
  if (step.op === 'map' || step.op === 'copy') {
    const ioas = table.ioas(step.ioas);
    if (!ioas) return unknown([], `ioas.${step.ioas} is not in the state`);
    const recorded: Area[] = [];
    for (const e of ioas.entries.values()) recorded.push(...e.areas);
    recorded.sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0));
    const where = step.iova === null ? 'at an IOVA the kernel chose and never reported' : `at ${hex(step.iova)}-${hex(step.iova + step.length - 1n)}`;
    const ranges = step.iova === null ? sweepRanges(recorded) : fixedRange(recorded, step.iova, step.length);
    if (ranges === null) {
      return unknown([], `it may have mapped ${what(step)} ${where} in ioas.${step.ioas} (id ${ioas.id}), and that range overlaps recorded areas, so an UNMAP probe could remove them`);
    }
    const probes: UndoReport[] = [];
    let removed = 0n;
    for (const range of ranges) {
      const probe = probeStep(step, 'unmap', { iova: range.iova, length: range.length, userVa: 0n, memory: '', offset: 0n, access: step.access });
      const r = await ctx.ioasUnmap({ ioasId: ioas.id, iova: range.iova, length: range.length });
      if (isOk(r)) {
        removed += r.length;
        probes.push({ step: probe, call: callName(probe), ok: true, code: 'OK', meaning: `removed ${hex(r.length)} bytes` });
      } else if (r.code === 'ENOENT') {
        probes.push({ step: probe, call: callName(probe), ok: true, code: 'ENOENT', meaning: 'nothing unrecorded was mapped there' });
      } else {
        probes.push({ step: probe, call: callName(probe), ok: false, code: r.code, meaning: `the probe answered ${r.code}` });
        return unknown(probes, `it may have mapped ${what(step)} ${where} in ioas.${step.ioas} (id ${ioas.id}); an UNMAP probe answered ${r.code}`);
      }
    }
    if (removed === 0n) return { kind: 'not-happened', probes };
    if (removed === step.length) return { kind: 'undone', probes };
    return unknown(probes, `the UNMAP probes of ioas.${step.ioas} (id ${ioas.id}) removed ${hex(removed)} unrecorded bytes where the call maps ${hex(step.length)}: the backend holds mappings the state does not know`);
  }
  if (step.op === 'unmap') {
    const ioas = table.ioas(step.ioas);
    if (!ioas) return unknown([], `ioas.${step.ioas} is not in the state`);
    const probes: UndoReport[] = [];
    let remapped = 0;
    for (const area of step.areas) {
      const probe = probeStep(step, 'map', area);
      const r = await ctx.ioasMap({ flags: accessFlags(area.access) | IOMMU_IOAS_MAP_FIXED_IOVA, ioasId: ioas.id, userVa: area.userVa, length: area.length, iova: area.iova });
      if (isOk(r)) {
        remapped += 1;
        probes.push({ step: probe, call: callName(probe), ok: true, code: 'OK' });
      } else if (r.code === 'EEXIST') {
        probes.push({ step: probe, call: callName(probe), ok: true, code: 'EEXIST', meaning: 'the area is still mapped: the UNMAP had not removed it' });
      } else {
        probes.push({ step: probe, call: callName(probe), ok: false, code: r.code, meaning: `the probe answered ${r.code}` });
        return unknown(probes, `it may have unmapped ${hex(area.length)} bytes at ${hex(area.iova)} in ioas.${step.ioas} (id ${ioas.id}), and mapping it back answered ${r.code}`);
      }
    }
    return { kind: remapped > 0 ? 'undone' : 'not-happened', probes };
  }
  return unknown([], 'the call is not one whose outcome can be probed');
}
