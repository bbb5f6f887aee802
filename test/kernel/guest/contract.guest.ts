// Runs inside the QEMU VM only, as root, on the CONFIG_IOMMUFD_TEST 6.12 kernel: the backend
// contract suite (test/contract/) against openKernel, with the same cases and capabilities as
// the simulator's "TEST kernel, root" configuration. ADD_RESERVED goes through IOMMU_TEST_CMD.
import { openKernel, type KernelContext } from '../../../src/backends/kernel/kernel.js';
import type { UapiContext } from '../../../src/model/uapi.js';
import { describeUapiContract } from '../../contract/uapi-contract.js';

describeUapiContract('the real kernel (openKernel, TEST kernel, root)', () => openKernel(), {
  capSysResource: true,
  testKernel: true,
  addReserved: (ctx: UapiContext, ioasId, start, last) => (ctx as KernelContext).testAddReserved({ ioasId, start, last }),
});
