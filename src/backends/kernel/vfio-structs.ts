// The VFIO cdev structs for iommufd (include/uapi/linux/vfio.h, Linux 6.12) as little-endian
// bytes, and their ioctl numbers: _IO(VFIO_TYPE ';', VFIO_BASE 100 + n) = 0x3b00 | (100 + n).

/** ioctl numbers (vfio.h: VFIO_DEVICE_BIND_IOMMUFD = VFIO_BASE + 18, ATTACH + 19, DETACH + 20). */
export const VFIO_CMD = {
  DEVICE_BIND_IOMMUFD: 0x3b00 | 118,
  DEVICE_ATTACH_IOMMUFD_PT: 0x3b00 | 119,
  DEVICE_DETACH_IOMMUFD_PT: 0x3b00 | 120,
  /** VFIO_DEVICE_GET_INFO = VFIO_BASE + 7 (on the device fd). */
  DEVICE_GET_INFO: 0x3b00 | 107,
} as const;

export const VFIO_STRUCT_SIZE = { bind: 16, attach: 12, detach: 8, deviceInfo: 24, hwInfo: 40 } as const;

function struct(size: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, size, true); // argsz
  return { bytes, view };
}

// vfio_device_bind_iommufd (16): 0 argsz | 4 flags | 8 iommufd s32 | 12 out_devid
export function encodeBind(iommufd: number): Uint8Array {
  const { bytes, view } = struct(VFIO_STRUCT_SIZE.bind);
  view.setInt32(8, iommufd, true);
  return bytes;
}

export function decodeBindOut(bytes: Uint8Array): { devId: number } {
  return { devId: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true) };
}

// vfio_device_attach_iommufd_pt (12): 0 argsz | 4 flags | 8 pt_id (in: IOAS or HWPT id; out: the HWPT id)
export function encodeAttach(ptId: number): Uint8Array {
  const { bytes, view } = struct(VFIO_STRUCT_SIZE.attach);
  view.setUint32(8, ptId >>> 0, true);
  return bytes;
}

export function decodeAttachOut(bytes: Uint8Array): { ptId: number } {
  return { ptId: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true) };
}

// vfio_device_detach_iommufd_pt (8): 0 argsz | 4 flags
export function encodeDetach(): Uint8Array {
  return struct(VFIO_STRUCT_SIZE.detach).bytes;
}

// iommu_hw_info (40, iommufd.h of 6.12): 0 size | 4 flags | 8 dev_id | 12 data_len | 16 data_uptr |
// 24 out_data_type | 28 out_max_pasid_log2, __reserved[3] | 32 out_capabilities (u64).
// data_len 0: the kernel copies no driver data, so this only asks "is dev_id a device here".
export function encodeHwInfo(devId: number): Uint8Array {
  const bytes = new Uint8Array(VFIO_STRUCT_SIZE.hwInfo);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, VFIO_STRUCT_SIZE.hwInfo, true);
  view.setUint32(8, devId, true);
  return bytes;
}

/** VFIO_DEVICE_GET_INFO's answer (vfio_device_info, 24 bytes). */
export interface VfioDeviceInfo {
  readonly flags: number;
  readonly numRegions: number;
  readonly numIrqs: number;
}

// vfio_device_info (24): 0 argsz | 4 flags | 8 num_regions | 12 num_irqs | 16 cap_offset | 20 pad
export function encodeDeviceInfo(): Uint8Array {
  return struct(VFIO_STRUCT_SIZE.deviceInfo).bytes;
}

export function decodeDeviceInfo(bytes: Uint8Array): VfioDeviceInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { flags: view.getUint32(4, true), numRegions: view.getUint32(8, true), numIrqs: view.getUint32(12, true) };
}
