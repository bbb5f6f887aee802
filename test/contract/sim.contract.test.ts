// The uapi contract suite on the simulator, in every configuration that changes expectations:
// a normal kernel and a CONFIG_IOMMUFD_TEST kernel, with and without CAP_SYS_RESOURCE.
import { openSimulator, type SimContext } from '../../src/index.js';
import type { UapiContext } from '../../src/model/uapi.js';
import { describeUapiContract } from './uapi-contract.js';

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
