// The uapi contract suite on the simulator, in every configuration that changes expectations:
// a normal kernel and a CONFIG_IOMMUFD_TEST kernel, with and without CAP_SYS_RESOURCE.
import { describe, expect, it } from 'vitest';
import { openSimulator, type SimContext } from '../../src/index.js';
import type { UapiContext } from '../../src/model/uapi.js';
import { allContractCases, describeUapiContract } from './uapi-contract.js';

const addReserved = (ctx: UapiContext, ioasId: number, start: bigint, last: bigint) =>
  (ctx as SimContext).testAddReserved({ ioasId, start, last });

describeUapiContract('simulator (normal kernel, root)', () => openSimulator(), {
  capSysResource: true,
  testKernel: false,
});
describeUapiContract('simulator (TEST kernel, root)', () => openSimulator({ testKernel: true }), {
  capSysResource: true,
  testKernel: true,
  addReserved,
});
describeUapiContract('simulator (TEST kernel, no CAP_SYS_RESOURCE)', () => openSimulator({ testKernel: true, capSysResource: false }), {
  capSysResource: false,
  testKernel: true,
  addReserved,
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
