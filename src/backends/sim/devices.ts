// The simulator's device model: VFIO cdev bind/attach/detach/unbind on a context, and the
// pinning an attached domain brings (drivers/iommu/iommufd/device.c, hw_pagetable.c,
// io_pagetable.c, pages.c of Linux 6.12, and the facts measured in shared/kernel/README.md).
//
// - Attach to an IOAS reuses an automatic HWPT of the same profile on that IOAS, else allocates
//   a new one (a new object id, taken before any check, as iommufd_hwpt_paging_alloc does). The
//   device's reserved regions are reserved first, then iopt_table_add_domain runs: alignment,
//   aperture complement, then the fill that pins every existing area. Each failure is the
//   kernel's errno and leaves nothing behind.
// - While an IOAS has a domain, MAP and COPY pin: EFAULT for user memory that is not backed,
//   ENOMEM when the charge passes RLIMIT_MEMLOCK in the pages' accounting mode.
// - A HWPT holds a user of its IOAS (DESTROY -> EBUSY); a bound device and a HWPT with devices
//   hold their own (EBUSY too).
//
// Pinning is derived, not stored: a pages object is pinned while any of its areas lies in an IOAS
// with a domain, and it is charged once for its whole page count. The kernel charges the pages
// actually pinned, which is the same for MAP (one area per pages) and differs only for a COPY of
// part of a pages object that is pinned nowhere else (the sim then charges the whole object).
import { profileReservedRanges } from '../../model/device-profile.js';
import type { DeviceAttachArgs, DeviceAttachOut, DeviceBindArgs, DeviceBindOut, DeviceIdArgs, IovaRange, UapiResult } from '../../model/uapi.js';
import { ERRNO } from '../../model/uapi.js';
import type { PagesPiece } from './io-pagetable.js';
import type { SimPages } from './pages.js';
import type { ContextState, DeviceObject, HwptObject } from './state.js';
import { fail, ok } from './results.js';

/** The pages objects pinned now: those with an area in an IOAS that has a domain. */
export function pinnedPages(state: ContextState): Map<number, SimPages> {
  const pinned = new Map<number, SimPages>();
  if (state.hwpts.size === 0) return pinned;
  for (const ioas of state.objects.values()) {
    if (ioas.iopt.domains.size === 0) continue;
    for (const area of ioas.iopt.areas) pinned.set(area.value.pages.id, area.value.pages);
  }
  return pinned;
}

/** Charged bytes per accounting mode ('none' context mode charges like 'user'). */
export function chargedBytes(state: ContextState, pinned: ReadonlyMap<number, SimPages> = pinnedPages(state)): { user: bigint; mm: bigint } {
  const charged = { user: 0n, mm: 0n };
  for (const pages of pinned.values()) charged[pages.accountMode] += pages.npages * state.options.pageSize;
  return charged;
}

function backed(state: ContextState, start: bigint, last: bigint): boolean {
  if (state.userMemory === null) return true;
  return state.userMemory.some((r) => r.start <= start && last <= r.last);
}

/**
 * pfn_reader_user_pin + incr_user_locked_vm for pieces about to be filled into a domain: EFAULT
 * if a piece's user memory is not backed, ENOMEM if charging the not-yet-pinned pages objects
 * passes the limit. `pinned` is the pinned set before the pieces were added.
 */
export function pinPieces(state: ContextState, pieces: Iterable<PagesPiece>, pinned: ReadonlyMap<number, SimPages>): number {
  const added = new Map<number, SimPages>();
  for (const piece of pieces) {
    if (pinned.has(piece.pages.id)) continue;
    const start = piece.pages.uptr + piece.startByte;
    if (!backed(state, start, start + piece.length - 1n)) return ERRNO.EFAULT;
    added.set(piece.pages.id, piece.pages);
  }
  const limit = state.options.memlockLimit;
  if (limit === null || added.size === 0) return 0;
  const charged = chargedBytes(state, pinned);
  for (const pages of added.values()) charged[pages.accountMode] += pages.npages * state.options.pageSize;
  // The kernel compares page counts with RLIMIT_MEMLOCK >> PAGE_SHIFT.
  const limitBytes = (limit / state.options.pageSize) * state.options.pageSize;
  return charged.user > limitBytes || charged.mm > limitBytes ? ERRNO.ENOMEM : 0;
}

/** VFIO_DEVICE_BIND_IOMMUFD: a device object in the shared id space. */
export function bindDevice(state: ContextState, args: DeviceBindArgs): UapiResult<DeviceBindOut> {
  if (args.profile === undefined) return fail(ERRNO.ENODEV);
  // One bind per device fd; the sim has one fd per path, so a second bind is the fd's EINVAL.
  for (const device of state.devices.values()) if (device.path === args.path) return fail(ERRNO.EINVAL);
  const id = state.ids.allocate();
  if (id === null) return fail(ERRNO.EBUSY);
  state.devices.set(id, { id, path: args.path, profile: args.profile, hwptId: null });
  return ok({ devId: id });
}

function deviceOf(state: ContextState, devId: number): DeviceObject | null {
  return state.devices.get(devId) ?? null;
}

/**
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT with pt_id = an IOAS (auto domain) or an existing HWPT. An
 * attached device is moved instead (the kernel's replace), and stays where it was on failure.
 */
export function attachDevice(state: ContextState, args: DeviceAttachArgs): UapiResult<DeviceAttachOut> {
  const device = deviceOf(state, args.devId);
  if (device === null) return fail(ERRNO.EBADF);
  const ptId = args.ptId >>> 0;
  let previousIoas: number | null = null;
  if (device.hwptId !== null) {
    const current = state.hwpts.get(device.hwptId) as HwptObject;
    if (ptId === current.id || ptId === current.ioasId) return ok({ ptId: current.id });
    previousIoas = current.ioasId;
    detachDevice(state, { devId: device.id });
  }
  const result = attachTo(state, device, ptId);
  // Back where it was: it fitted there a moment ago, so this succeeds. (The kernel's replace
  // never lets go of the old domain; here the re-made domain may get a new HWPT id.)
  if (result.errno !== 0 && previousIoas !== null) attachTo(state, device, previousIoas);
  return result;
}

function attachTo(state: ContextState, device: DeviceObject, ptId: number): UapiResult<DeviceAttachOut> {
  const hwpt = state.hwpts.get(ptId);
  if (hwpt !== undefined) return attachToHwpt(state, device, hwpt);
  const ioas = state.objects.get(ptId);
  if (ioas === undefined) return fail(state.devices.has(ptId) ? ERRNO.EINVAL : ERRNO.ENOENT);
  for (const candidate of state.hwpts.values()) {
    if (candidate.ioasId === ptId && candidate.profileName === device.profile.name) return attachToHwpt(state, device, candidate);
  }
  const id = state.ids.allocate();
  if (id === null) return fail(ERRNO.EBUSY);
  const { iopt } = ioas;
  const ranges = profileReservedRanges(device.profile);
  const devOwner = `dev:${device.id}`;
  let rc = iopt.reserveAll(ranges.device, devOwner);
  if (rc === 0) {
    const pinned = pinnedPages(state);
    const areas = function* (): Generator<PagesPiece> {
      for (const area of iopt.areas) yield { pages: area.value.pages, startByte: area.value.startByte, length: area.last - area.start + 1n };
    };
    rc = iopt.addDomain(id, device.profile.pageSize, ranges.aperture, () => pinPieces(state, areas(), pinned));
    if (rc !== 0) iopt.removeReservedOwnedBy(devOwner);
  }
  if (rc !== 0) {
    state.ids.release(id);
    return fail(rc);
  }
  state.hwpts.set(id, { id, ioasId: ptId, profileName: device.profile.name, pageSize: device.profile.pageSize, devices: new Set([device.id]) });
  device.hwptId = id;
  return ok({ ptId: id });
}

/** A further device on an existing domain: only its reserved regions are added. */
function attachToHwpt(state: ContextState, device: DeviceObject, hwpt: HwptObject): UapiResult<DeviceAttachOut> {
  if (hwpt.profileName !== device.profile.name) return fail(ERRNO.EINVAL);
  const ioas = state.objects.get(hwpt.ioasId);
  if (ioas === undefined) return fail(ERRNO.ENOENT);
  const rc = ioas.iopt.reserveAll(profileReservedRanges(device.profile).device, `dev:${device.id}`);
  if (rc !== 0) return fail(rc);
  hwpt.devices.add(device.id);
  device.hwptId = hwpt.id;
  return ok({ ptId: hwpt.id });
}

/** VFIO_DEVICE_DETACH_IOMMUFD_PT: a no-op when not attached; the last device frees the auto HWPT. */
export function detachDevice(state: ContextState, args: DeviceIdArgs): UapiResult {
  const device = deviceOf(state, args.devId);
  if (device === null) return fail(ERRNO.EBADF);
  if (device.hwptId === null) return ok({});
  const hwpt = state.hwpts.get(device.hwptId) as HwptObject;
  const ioas = state.objects.get(hwpt.ioasId);
  ioas?.iopt.removeReservedOwnedBy(`dev:${device.id}`);
  hwpt.devices.delete(device.id);
  device.hwptId = null;
  if (hwpt.devices.size === 0) {
    ioas?.iopt.removeDomain(hwpt.id);
    state.hwpts.delete(hwpt.id);
    state.ids.release(hwpt.id);
  }
  return ok({});
}

/** Closing the device fd: detach, then the device object goes. */
export function unbindDevice(state: ContextState, args: DeviceIdArgs): UapiResult {
  const device = deviceOf(state, args.devId);
  if (device === null) return fail(ERRNO.EBADF);
  detachDevice(state, args);
  state.devices.delete(device.id);
  state.ids.release(device.id);
  return ok({});
}

/** IOMMU_GET_HW_INFO without data: iommufd_get_device answers ENOENT for any id that is not a device. */
export function deviceInfo(state: ContextState, args: DeviceIdArgs): UapiResult {
  return state.devices.has(args.devId) ? ok({}) : fail(ERRNO.ENOENT);
}

/** Whether DESTROY of `id` must answer EBUSY: a device, a HWPT with devices, an IOAS with a HWPT. */
export function destroyBusy(state: ContextState, id: number): boolean {
  if (state.devices.has(id)) return true;
  const hwpt = state.hwpts.get(id);
  if (hwpt !== undefined) return hwpt.devices.size !== 0;
  for (const h of state.hwpts.values()) if (h.ioasId === id) return true;
  return false;
}

/** The user memory ranges, normalized (sorted copies), for setUserMemory. */
export function normalizeUserMemory(ranges: readonly IovaRange[] | null): IovaRange[] | null {
  if (ranges === null) return null;
  return [...ranges].map(({ start, last }) => ({ start, last })).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}
