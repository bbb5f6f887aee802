#!/usr/bin/env node
// Example: take the iommufd fd, the memory fds and the bound VFIO device fds over from a running
// `ioasform agent` (kernel backend), then ask the kernel, through the received fds, for the usable
// IOVA ranges of every IOAS by the id the agent said, and for each device's VFIO_DEVICE_GET_INFO.
// A VMM would pass the same fds on (QEMU: -object iommufd,fd=N and vfio-pci's fd=M); a dataplane
// drives the device through its fd, already bound to that iommufd and attached to its IOAS.
//
//   node examples/agent-client.mjs /run/ioasform.sock
//
// Only the agent's own user or root may do this: the fd is full control of every IOAS it holds.
import { openKernel, requestHandover, vfioDeviceInfo } from 'ioasform';

const socket = process.argv[2];
if (!socket) {
  console.error('usage: agent-client.mjs SOCKET');
  process.exit(1);
}
const got = await requestHandover(socket);
if (!got.ok) {
  console.error(`handover refused: ${got.code}: ${got.message}`);
  process.exit(1);
}
const { result, fds } = got;
for (const f of result.fds) {
  if (f.kind === 'iommufd') console.log(`fd ${fds[f.index]}: iommufd`);
  else if (f.kind === 'device') console.log(f.index === undefined ? `device ${f.name}: no fd held` : `fd ${fds[f.index]}: device ${f.name} (dev id ${f.devId}, attached to ioas ${f.ioas} as HWPT ${f.ptId})`);
  else if (f.index === undefined) console.log(`memory ${f.name} (${f.size} bytes): anonymous, not transferable`);
  else console.log(`fd ${fds[f.index]}: memory ${f.name} (${f.size} bytes)`);
}
const iommufd = fds[result.fds.find((f) => f.kind === 'iommufd').index];
// The fd is the agent's own open file: the kernel objects are shared, not copied.
const ctx = openKernel({ fd: iommufd });
for (const ioas of result.ioas) {
  const ranges = ctx.ioasIovaRanges({ ioasId: ioas.id, numIovas: 64 });
  if (ranges.errno !== 0) {
    console.log(`ioas ${ioas.name} (id ${ioas.id}): IOMMU_IOAS_IOVA_RANGES failed: ${ranges.code}`);
    process.exitCode = 1;
    continue;
  }
  const list = ranges.ranges.map((r) => `0x${r.start.toString(16)}-0x${r.last.toString(16)}`).join(', ');
  console.log(`ioas ${ioas.name} (id ${ioas.id}): ${ioas.entries.length} area(s); IOVA ranges: ${list}`);
  for (const e of ioas.entries) console.log(`  ${e.name} at ${e.iova} length ${e.length}`);
}
for (const f of result.fds) {
  if (f.kind !== 'device' || f.index === undefined) continue;
  const got = vfioDeviceInfo(fds[f.index]);
  if (got.errno !== 0) {
    console.log(`device ${f.name}: VFIO_DEVICE_GET_INFO failed: ${got.code}`);
    process.exitCode = 1;
    continue;
  }
  console.log(`device ${f.name}: VFIO_DEVICE_GET_INFO flags 0x${got.info.flags.toString(16)}, ${got.info.numRegions} regions, ${got.info.numIrqs} irqs`);
}
ctx.close();
