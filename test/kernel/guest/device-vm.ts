// The device VM's NIC (IOASFORM_KERNEL_DEVICE=1: q35 + intel-iommu + an e1000e at 0000:00:10.0,
// see ../README.md), handed to vfio-pci for the guest tests that need a real VFIO device. Nothing
// but an e1000e (8086:10d3) at that address is ever unbound (the 9p root is a PCI device too).
// Not a test file: the guest files import it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

export const DEVICE_VM_NIC = '0000:00:10.0';
const device = `/sys/bus/pci/devices/${DEVICE_VM_NIC}`;

/** Binds the NIC to vfio-pci (again, if it is already); null when done, else why it cannot be here. */
export function handNicToVfio(): string | null {
  if (!existsSync(`${device}/iommu_group`)) return `no PCI device behind an IOMMU at ${DEVICE_VM_NIC} (run with IOASFORM_KERNEL_DEVICE=1)`;
  const id = `${readFileSync(`${device}/vendor`, 'utf8').trim()}:${readFileSync(`${device}/device`, 'utf8').trim()}`;
  if (id !== '0x8086:0x10d3') return `${DEVICE_VM_NIC} is ${id}, not the e1000e (0x8086:0x10d3) of the device VM: left alone`;
  try {
    if (existsSync(`${device}/driver`)) writeFileSync(`${device}/driver/unbind`, DEVICE_VM_NIC);
    writeFileSync(`${device}/driver_override`, 'vfio-pci');
    writeFileSync('/sys/bus/pci/drivers_probe', DEVICE_VM_NIC);
  } catch (error) {
    return `cannot hand ${DEVICE_VM_NIC} to vfio-pci: ${String(error)}`;
  }
  const cdevs = existsSync(`${device}/vfio-dev`) ? readdirSync(`${device}/vfio-dev`) : [];
  return cdevs.length === 1 ? null : `${DEVICE_VM_NIC} has no VFIO cdev after binding vfio-pci (CONFIG_VFIO_DEVICE_CDEV?)`;
}
