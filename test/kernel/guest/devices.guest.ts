// Runs inside the QEMU VM only, as root: the device cases of the contract suite against a real
// VFIO device behind a real (emulated) IOMMU, when the VM has one. That needs the device VM
// configuration (IOASFORM_KERNEL_DEVICE=1: q35 + intel-iommu + an e1000e at 0000:00:10.0, see
// ../README.md); without it every case is skipped with the reason. The e1000e is handed to
// vfio-pci here, as in ../../../../shared/kernel/README.md; nothing but an e1000e (8086:10d3) is
// ever unbound (the 9p root is a PCI device too).
import { openKernel } from '../../../src/backends/kernel/kernel.js';
import { loadNative } from '../../../src/backends/kernel/native.js';
import { DEVICE_PROFILES, type DeviceProfile } from '../../../src/model/device-profile.js';
import { allContractCases, describeUapiContract, type ContractCaps } from '../../contract/uapi-contract.js';
import { DEVICE_VM_NIC as PCI, handNicToVfio as handToVfio } from './device-vm.js';

function deviceCaps(): ContractCaps['device'] | undefined {
  const problem = handToVfio();
  if (problem !== null) {
    console.log(`devices.guest: ${problem}`);
    return undefined;
  }
  const native = loadNative();
  if (!native.ok) return undefined;
  // Real memory to pin: 4 MiB of anonymous memory, 2 MiB aligned, kept for the whole run.
  const buffer = native.addon.mapMemory({ kind: 'anonymous', size: 4n << 20n, align: 2n << 20n });
  if (buffer.errno !== 0 || !('addr' in buffer)) return undefined;
  return {
    path: `pci:${PCI}`,
    profile: DEVICE_PROFILES['intel-vtd-39bit'] as DeviceProfile,
    bufferVa: buffer.addr,
    // Below vm.mmap_min_addr: never mapped in any process.
    unbackedVa: 0x1000n,
  };
}

const caps = deviceCaps();
describeUapiContract(
  'the real kernel with a VFIO device (openKernel, root)',
  () => openKernel(),
  { capSysResource: true, testKernel: true, ...(caps ? { device: caps } : {}) },
  allContractCases.filter((c) => c.name.startsWith('device.')),
);
