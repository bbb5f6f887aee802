// Rebuilds a recorded state on a fresh simulator: the same IOAS ids, options, allowed ranges and
// areas (fixed MAPs at the recorded IOVAs and user VAs), and the recorded devices bound with the
// profile resolved at apply time and attached to their IOAS under the same device and HWPT ids
// (so automatic IOVAs steer around the device's reserved windows, IOVA_RANGES shows them, and the
// next object id is the kernel's next id). The kernel backend stores no simulator
// snapshot in its state file, so this is how a kernel plan is dry-run (IOVA prediction) and how the
// drift check computes what the kernel should answer: one place for "what the kernel holds".
import { openSimulator, type SimContext } from '../backends/sim/index.js';
import { builtinProfile, type DeviceProfile } from '../model/device-profile.js';
import type { RecordedDevice, StateBody } from '../model/recorded.js';
import { deviceBindPath } from './runner.js';
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
  // IDs are the lowest free one: hold 1..max with IOASes, free each device's and HWPT's id right
  // before the call that must take it, then destroy the placeholders nobody records.
  const devices = [...(body.devices ?? [])].sort((a, b) => a.devId - b.devId);
  const wanted = new Set(body.ioas.map((i) => i.id));
  const maxId = Math.max(0, ...wanted, ...devices.flatMap((d) => [d.devId, d.ptId]));
  for (let id = 1; id <= maxId; id++) {
    const alloc = sim.ioasAlloc({ flags: 0 });
    if (!isOk(alloc) || alloc.outIoasId !== id) return fail(`IOAS id ${id} could not be allocated`);
  }
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
  const placeholders = new Set([...Array(maxId).keys()].map((i) => i + 1).filter((id) => !wanted.has(id)));
  for (const device of devices) {
    const problem = replayDevice(sim, body, device, placeholders);
    if (problem !== null) return fail(problem);
  }
  for (const id of placeholders) sim.destroy({ id });
  return { ok: true, sim };
}

/** The profile a recorded device was bound with (older states: the built-in profile of its name). */
export function recordedProfile(device: RecordedDevice): DeviceProfile | null {
  return device.resolvedProfile ?? builtinProfile(device.profile);
}

/** Binds and attaches one recorded device under its recorded ids; a message when that fails. */
function replayDevice(sim: SimContext, body: StateBody, device: RecordedDevice, placeholders: Set<number>): string | null {
  const what = `device.${device.name}`;
  const profile = recordedProfile(device);
  if (profile === null) return `${what}: the state does not record the device model of profile '${device.profile}'`;
  const ioas = body.ioas.find((i) => i.name === device.ioas);
  if (!ioas) return `${what}: its IOAS ${device.ioas} is not in the state`;
  const release = (id: number): void => {
    if (placeholders.delete(id)) sim.destroy({ id });
  };
  release(device.devId);
  const bound = sim.deviceBind({ path: deviceBindPath(device.source), profile });
  if (!isOk(bound) || bound.devId !== device.devId) return `${what}: bind ${isOk(bound) ? `gave id ${bound.devId}, not ${device.devId}` : bound.code}`;
  release(device.ptId);
  const attached = sim.deviceAttach({ devId: bound.devId, ptId: ioas.id });
  if (!isOk(attached) || attached.ptId !== device.ptId) return `${what}: attach to ioas.${ioas.name} ${isOk(attached) ? `gave HWPT id ${attached.ptId}, not ${device.ptId}` : attached.code}`;
  return null;
}
