// Runs inside the QEMU VM only, as root: the device cases of the contract suite against a real
// VFIO device behind a real (emulated) IOMMU, when the VM has one (the device VM,
// IOASFORM_KERNEL_DEVICE=1; vfio-device.ts hands its e1000e to vfio-pci). Without it every case
// is skipped with the reason.
import { openKernel } from '../../../src/backends/kernel/kernel.js';
import { allContractCases, describeUapiContract, type ContractCaps } from '../../contract/uapi-contract.js';
import { setUpGuestDevice } from './vfio-device.js';

function deviceCaps(): ContractCaps['device'] | undefined {
  // Real memory to pin: 4 MiB of anonymous memory, 2 MiB aligned, kept for the whole run.
  const setup = setUpGuestDevice({ bufferSize: 4n << 20n });
  if (!setup.ok) {
    console.log(`devices.guest: ${setup.reason}`);
    return undefined;
  }
  const { path, profile, bufferVa } = setup.device;
  // Below vm.mmap_min_addr: never mapped in any process.
  return { path, profile, bufferVa, unbackedVa: 0x1000n };
}

const caps = deviceCaps();
describeUapiContract(
  'the real kernel with a VFIO device (openKernel, root)',
  () => openKernel(),
  { capSysResource: true, testKernel: true, ...(caps ? { device: caps } : {}) },
  allContractCases.filter((c) => c.name.startsWith('device.')),
);
