// The simulator's device model: VFIO cdev bind/attach/detach/unbind on a context, and the
// pinning an attached domain brings (drivers/iommu/iommufd/device.c, hw_pagetable.c,
// io_pagetable.c, pages.c of Linux 6.12, and the facts measured in shared/kernel/README.md).
//
// - Attach to an IOAS reuses an automatic HWPT of the same profile on that IOAS, else allocates
//   a new one (a new object id, taken before any check, as iommufd_hwpt_paging_alloc does). The
//   device's reserved regions are reserved first, then iopt_table_add_domain runs: alignment,
//   aperture complement, then the fill that pins every existing area. Each failure is the
//   kernel's errno and leaves nothing behind.
// - Attach of an attached device is the kernel's replace: the new HWPT is made while the old
//   one stands (a fresh id), its domain before the reserved regions, and the old one goes last.
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
 * attached device is moved instead: the kernel's replace (iommufd_device_replace), which keeps
 * the old domain until the new one is ready, so a failed move changes nothing.
 */
export function attachDevice(state: ContextState, args: DeviceAttachArgs): UapiResult<DeviceAttachOut> {
  const device = deviceOf(state, args.devId);
  if (device === null) return fail(ERRNO.EBADF);
  const ptId = args.ptId >>> 0;
  const current = device.hwptId === null ? null : (state.hwpts.get(device.hwptId) as HwptObject);
  const hwpt = state.hwpts.get(ptId);
  if (hwpt !== undefined) return joinHwpt(state, device, hwpt, current);
  const ioas = state.objects.get(ptId);
  if (ioas === undefined) return fail(state.devices.has(ptId) ? ERRNO.EINVAL : ERRNO.ENOENT);
  // iommufd_device_auto_get_domain: an automatic HWPT of the same profile on that IOAS first
  // (for a replace onto the IOAS it is on, that is its own HWPT: nothing changes).
  for (const candidate of state.hwpts.values()) {
    if (candidate.ioasId === ptId && candidate.profileName === device.profile.name) return joinHwpt(state, device, candidate, current);
  }
  return current === null ? attachNewDomain(state, device, ptId) : replaceWithNewDomain(state, device, ptId, current);
}

const devOwner = (device: DeviceObject): string => `dev:${device.id}`;

/** The fill that adds a domain to `iopt`: every existing area is pinned (EFAULT, ENOMEM). */
function addDomain(state: ContextState, device: DeviceObject, ioasId: number, hwptId: number): number {
  const { iopt } = state.objects.get(ioasId)!;
  const pinned = pinnedPages(state);
  const areas = function* (): Generator<PagesPiece> {
    for (const area of iopt.areas) yield { pages: area.value.pages, startByte: area.value.startByte, length: area.last - area.start + 1n };
  };
  return iopt.addDomain(hwptId, device.profile.pageSize, profileReservedRanges(device.profile).aperture, () => pinPieces(state, areas(), pinned));
}

function recordHwpt(state: ContextState, device: DeviceObject, id: number, ioasId: number): HwptObject {
  const hwpt: HwptObject = { id, ioasId, profileName: device.profile.name, pageSize: device.profile.pageSize, devices: new Set([device.id]) };
  state.hwpts.set(id, hwpt);
  device.hwptId = id;
  return hwpt;
}

/**
 * A first attach to an IOAS without a usable HWPT (iommufd_hwpt_paging_alloc, immediate
 * attach): a new object id, taken before any check; the device's reserved regions, then the
 * domain (alignment, aperture complement, fill). A failure leaves nothing behind.
 */
function attachNewDomain(state: ContextState, device: DeviceObject, ioasId: number): UapiResult<DeviceAttachOut> {
  const id = state.ids.allocate();
  if (id === null) return fail(ERRNO.EBUSY);
  const { iopt } = state.objects.get(ioasId)!;
  let rc = iopt.reserveAll(profileReservedRanges(device.profile).device, devOwner(device));
  if (rc === 0) {
    rc = addDomain(state, device, ioasId, id);
    if (rc !== 0) iopt.removeReservedOwnedBy(devOwner(device));
  }
  if (rc !== 0) {
    state.ids.release(id);
    return fail(rc);
  }
  recordHwpt(state, device, id, ioasId);
  return ok({ ptId: id });
}

/**
 * A move onto an IOAS without a usable HWPT (replace, no immediate attach): the new HWPT and
 * its domain are made while the old one still stands (so the new id is a fresh one), the
 * domain first, then the device's reserved regions on the new IOAS (do_replace); only then is
 * the old attachment let go.
 */
function replaceWithNewDomain(state: ContextState, device: DeviceObject, ioasId: number, current: HwptObject): UapiResult<DeviceAttachOut> {
  const id = state.ids.allocate();
  if (id === null) return fail(ERRNO.EBUSY);
  const { iopt } = state.objects.get(ioasId)!;
  let rc = addDomain(state, device, ioasId, id);
  if (rc === 0) {
    rc = iopt.reserveAll(profileReservedRanges(device.profile).device, devOwner(device));
    if (rc !== 0) iopt.removeDomain(id);
  }
  if (rc !== 0) {
    state.ids.release(id);
    return fail(rc);
  }
  leaveHwpt(state, device, current, true);
  recordHwpt(state, device, id, ioasId);
  return ok({ ptId: id });
}

/**
 * The device onto an existing HWPT: a first attach, or a replace (for its own HWPT, nothing
 * changes). Only its reserved regions are added, and only on an IOAS it is not on already.
 */
function joinHwpt(state: ContextState, device: DeviceObject, hwpt: HwptObject, current: HwptObject | null): UapiResult<DeviceAttachOut> {
  if (current === hwpt) return ok({ ptId: hwpt.id });
  if (hwpt.profileName !== device.profile.name) return fail(ERRNO.EINVAL);
  const ioas = state.objects.get(hwpt.ioasId);
  if (ioas === undefined) return fail(ERRNO.ENOENT);
  const sameIoas = current !== null && current.ioasId === hwpt.ioasId;
  if (!sameIoas) {
    const rc = ioas.iopt.reserveAll(profileReservedRanges(device.profile).device, devOwner(device));
    if (rc !== 0) return fail(rc);
  }
  if (current !== null) leaveHwpt(state, device, current, !sameIoas);
  hwpt.devices.add(device.id);
  device.hwptId = hwpt.id;
  return ok({ ptId: hwpt.id });
}

/** The device leaves `hwpt` (its reserved regions too, when asked); the last device frees an auto HWPT. */
function leaveHwpt(state: ContextState, device: DeviceObject, hwpt: HwptObject, removeReserved: boolean): void {
  const ioas = state.objects.get(hwpt.ioasId);
  if (removeReserved) ioas?.iopt.removeReservedOwnedBy(devOwner(device));
  hwpt.devices.delete(device.id);
  device.hwptId = null;
  if (hwpt.devices.size === 0) {
    ioas?.iopt.removeDomain(hwpt.id);
    state.hwpts.delete(hwpt.id);
    state.ids.release(hwpt.id);
  }
}

/** VFIO_DEVICE_DETACH_IOMMUFD_PT: a no-op when not attached; the last device frees the auto HWPT. */
export function detachDevice(state: ContextState, args: DeviceIdArgs): UapiResult {
  const device = deviceOf(state, args.devId);
  if (device === null) return fail(ERRNO.EBADF);
  if (device.hwptId !== null) leaveHwpt(state, device, state.hwpts.get(device.hwptId) as HwptObject, true);
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
