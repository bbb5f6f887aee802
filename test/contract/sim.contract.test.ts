// The uapi contract suite on the simulator, in every configuration that changes expectations:
// a normal kernel and a CONFIG_IOMMUFD_TEST kernel, with and without CAP_SYS_RESOURCE.
import { describe, expect, it } from 'vitest';
import { openSimulator, type SimContext } from '../../src/index.js';
import { DEVICE_PROFILES, type DeviceProfile } from '../../src/model/device-profile.js';
import type { UapiContext } from '../../src/model/uapi.js';
import { allContractCases, describeUapiContract } from './uapi-contract.js';

const addReserved = (ctx: UapiContext, ioasId: number, start: bigint, last: bigint) =>
  (ctx as SimContext).testAddReserved({ ioasId, start, last });

/** The simulated device: the measured QEMU intel-iommu device, and 64 MiB of backed memory. */
const device = { path: '/dev/vfio/devices/vfio0', profile: DEVICE_PROFILES['intel-vtd-39bit'] as DeviceProfile, bufferVa: 0x7f0000000000n, unbackedVa: 0x100000000n };
const withMemory = (sim: SimContext): SimContext => {
  sim.setUserMemory([{ start: device.bufferVa, last: device.bufferVa + (64n << 20n) - 1n }]);
  return sim;
};

describeUapiContract('simulator (normal kernel, root)', () => withMemory(openSimulator()), {
  capSysResource: true,
  testKernel: false,
  device,
});
describeUapiContract('simulator (TEST kernel, root)', () => openSimulator({ testKernel: true }), {
  capSysResource: true,
  testKernel: true,
  addReserved,
});
describeUapiContract('simulator (TEST kernel, no CAP_SYS_RESOURCE)', () => withMemory(openSimulator({ testKernel: true, capSysResource: false })), {
  capSysResource: false,
  testKernel: true,
  addReserved,
  device,
});

describe('contract coverage', () => {
  const outcomes = new Set(allContractCases.flatMap((c) => c.steps.map((s) => `${s.op}:${s.expect}`)));
  it('exercises every ioctl successfully', () => {
    for (const op of ['destroy', 'ioasAlloc', 'ioasAllowIovas', 'ioasIovaRanges', 'ioasMap', 'ioasCopy', 'ioasUnmap', 'option']) {
      expect(outcomes.has(`${op}:OK`), op).toBe(true);
    }
  });
  it('expects every errno of the issue at least once', () => {
    const codes = new Set([...outcomes].map((o) => o.split(':')[1]));
    for (const code of ['EOPNOTSUPP', 'EOVERFLOW', 'EINVAL', 'ENOENT', 'EEXIST', 'ENOSPC', 'EADDRINUSE', 'EMSGSIZE', 'EPERM', 'EBUSY']) {
      expect(codes.has(code), code).toBe(true);
    }
  });
});
