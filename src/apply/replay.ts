// Rebuilds a recorded state on a fresh simulator: the same IOAS ids, options, allowed ranges and
// areas (fixed MAPs at the recorded IOVAs and user VAs). The kernel backend stores no simulator
// snapshot in its state file, so this is how a kernel plan is dry-run (IOVA prediction) and how the
// drift check computes what the kernel should answer: one place for "what the kernel holds".
import { openSimulator, type SimContext } from '../backends/sim/index.js';
import type { StateBody } from '../model/recorded.js';
import { IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, IOMMU_OPTION_RLIMIT_MODE, isOk } from '../model/uapi.js';

export type ReplayResult = { readonly ok: true; readonly sim: SimContext } | { readonly ok: false; readonly message: string };

const ACCESS_FLAGS = { r: IOMMU_IOAS_MAP_READABLE, w: IOMMU_IOAS_MAP_WRITEABLE, rw: IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE } as const;

export function replayOnSimulator(body: StateBody): ReplayResult {
  const sim = openSimulator();
  const fail = (message: string): ReplayResult => {
    sim.close();
    return { ok: false, message: `the recorded state cannot be rebuilt on a simulator: ${message}` };
  };
  if (body.options.rlimitMode === 'process') {
    // Only an empty context accepts RLIMIT_MODE, so it comes first.
    const r = sim.option({ optionId: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, objectId: 0, val64: 1n });
    if (!isOk(r)) return fail(`RLIMIT_MODE=process: ${r.code}`);
  }
  // IDs are the lowest free one: allocate 1..max, then destroy the ones nobody records.
  const wanted = new Set(body.ioas.map((i) => i.id));
  const maxId = Math.max(0, ...wanted);
  for (let id = 1; id <= maxId; id++) {
    const alloc = sim.ioasAlloc({ flags: 0 });
    if (!isOk(alloc) || alloc.outIoasId !== id) return fail(`IOAS id ${id} could not be allocated`);
  }
  for (let id = 1; id <= maxId; id++) if (!wanted.has(id)) sim.destroy({ id });
  for (const ioas of body.ioas) {
    if (!ioas.hugePages) {
      const r = sim.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: ioas.id, val64: 0n });
      if (!isOk(r)) return fail(`HUGE_PAGES=0 on ioas.${ioas.name}: ${r.code}`);
    }
    if (ioas.allowedIovas.length > 0) {
      const r = sim.ioasAllowIovas({ ioasId: ioas.id, ranges: ioas.allowedIovas });
      if (!isOk(r)) return fail(`ALLOW_IOVAS on ioas.${ioas.name}: ${r.code}`);
    }
    for (const entry of ioas.entries) {
      for (const area of entry.areas) {
        const r = sim.ioasMap({ flags: IOMMU_IOAS_MAP_FIXED_IOVA | ACCESS_FLAGS[area.access], ioasId: ioas.id, userVa: area.userVa, length: area.length, iova: area.iova });
        if (!isOk(r)) return fail(`MAP of ioas.${ioas.name}/${entry.name} at 0x${area.iova.toString(16)}: ${r.code}`);
      }
    }
  }
  return { ok: true, sim };
}
