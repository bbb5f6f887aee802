// One simulated iommufd context (one open /dev/iommu fd): the ioctl handlers of ioas.c and
// main.c for a plain IOAS, each check in the kernel's order with the kernel's errno
// (spec §4–§11). Inputs are reduced to their struct field widths first (u64, u32, u16), as the
// kernel backend's struct codec does, so both backends see the same numbers.
import {
  ERRNO,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  type DestroyArgs,
  type DeviceAttachArgs,
  type DeviceAttachOut,
  type DeviceBindArgs,
  type DeviceBindOut,
  type DeviceIdArgs,
  type IovaRange,
  type IoasAllocArgs,
  type IoasAllocOut,
  type IoasAllowIovasArgs,
  type IoasCopyArgs,
  type IoasCopyOut,
  type IoasIovaRangesArgs,
  type IoasMapArgs,
  type IoasMapOut,
  type IoasUnmapArgs,
  type IoasUnmapOut,
  type IovaRangesResult,
  type OptionArgs,
  type OptionOut,
  type UapiResult,
} from '../../model/uapi.js';
import { attachDevice, bindDevice, chargedBytes, destroyBusy, detachDevice, normalizeUserMemory, pinnedPages, pinPieces, unbindDevice, deviceInfo as deviceInfoOf } from './devices.js';
import type { PagesPiece } from './io-pagetable.js';
import { fail, ok } from './results.js';
import { allocPages, type SimPages } from './pages.js';
import { encodeState, type SimSnapshot } from './snapshot.js';
import { newIoas, type ContextState, type IoasObject, type ResolvedOptions } from './state.js';
import type { SimArea, SimContext, TestAddReservedArgs } from './types.js';
import { addNoWrap, toU16, toU32, toU64, U64_MAX } from './u64.js';
import { NIL } from './interval-tree.js';
import { checkInsertD, FAST_LIMIT, GIVE_UP, mapStartD, smallBigInt, smallNumber } from './number-path.js';

/** MOCK_FLAGS_ACCESS_SYZ (iommufd_test.h): TEST kernels accept it on COPY (spec §7.1 step 0). */
export const MOCK_FLAGS_ACCESS_SYZ = 1 << 16;
const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
const PROT_FLAGS = IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
/** errno of any call on a closed context (the fd is gone). */
const EBADF = ERRNO.EBADF;

export { ok, fail };

export class Simulator implements SimContext {
  readonly state: ContextState;
  /** Whether MAP and COPY try the number fast path first (number-path.ts); off: bigint only. */
  private readonly numberFastPath: boolean;

  constructor(state: ContextState, numberFastPath = true) {
    this.state = state;
    this.numberFastPath = numberFastPath;
  }

  private get options(): ResolvedOptions {
    return this.state.options;
  }

  /** iommufd_get_ioas: ENOENT for a free id or an object of another type. */
  private ioas(id: number): IoasObject | null {
    return this.state.objects.get(toU32(id)) ?? null;
  }

  destroy(args: DestroyArgs): UapiResult {
    if (this.state.closed) return fail(EBADF);
    const id = toU32(args.id);
    const object = this.state.objects.get(id);
    if (object === undefined) return fail(this.state.devices.has(id) || this.state.hwpts.has(id) ? ERRNO.EBUSY : ERRNO.ENOENT);
    if (this.state.hwpts.size !== 0 && destroyBusy(this.state, id)) return fail(ERRNO.EBUSY);
    this.state.objects.delete(id);
    this.state.ids.release(id);
    object.iopt.unmapAll();
    return ok({});
  }

  ioasAlloc(args: IoasAllocArgs): UapiResult<IoasAllocOut> {
    if (this.state.closed) return fail(EBADF);
    if (toU32(args.flags) !== 0) return fail(ERRNO.EOPNOTSUPP);
    const id = this.state.ids.allocate();
    if (id === null) return fail(ERRNO.EBUSY);
    this.state.objects.set(id, newIoas(this.options));
    return ok({ outIoasId: id });
  }

  ioasAllowIovas(args: IoasAllowIovasArgs): UapiResult {
    if (this.state.closed) return fail(EBADF);
    const ioas = this.ioas(args.ioasId);
    if (ioas === null) return fail(ERRNO.ENOENT);
    const ranges = args.ranges.map((r) => ({ start: toU64(r.start), last: toU64(r.last) }));
    const rc = ioas.iopt.setAllowed(ranges);
    return rc === 0 ? ok({}) : fail(rc);
  }

  ioasIovaRanges(args: IoasIovaRangesArgs): IovaRangesResult {
    if (this.state.closed) return fail(EBADF);
    const ioas = this.ioas(args.ioasId);
    if (ioas === null) return fail(ERRNO.ENOENT);
    const capacity = toU32(args.numIovas);
    const all = ioas.iopt.usableRanges();
    const out = {
      numIovas: all.length,
      ranges: all.slice(0, capacity),
      outIovaAlignment: ioas.iopt.iovaAlignment,
    };
    if (all.length > capacity) return { ...fail(ERRNO.EMSGSIZE), ...out };
    return ok(out);
  }

  ioasMap(args: IoasMapArgs): UapiResult<IoasMapOut> {
    if (this.state.closed) return fail(EBADF);
    const flags = toU32(args.flags);
    if (this.numberFastPath) {
      const small = this.mapSmall(flags, args);
      if (small !== null) return small;
    }
    const iova = toU64(args.iova);
    const length = toU64(args.length);
    const userVa = toU64(args.userVa);
    if ((flags & ~MAP_FLAGS) !== 0) return fail(ERRNO.EOPNOTSUPP);
    if (iova >= U64_MAX || length >= U64_MAX) return fail(ERRNO.EOVERFLOW);
    if ((flags & PROT_FLAGS) === 0) return fail(ERRNO.EINVAL);
    const ioas = this.ioas(args.ioasId);
    if (ioas === null) return fail(ERRNO.ENOENT);
    const pages = allocPages(
      this.state.nextPagesId,
      userVa,
      length,
      (flags & IOMMU_IOAS_MAP_WRITEABLE) !== 0,
      this.options.pageSize,
      this.state.accountMode === 'mm' ? 'mm' : 'user',
    );
    if (typeof pages === 'number') return fail(pages);
    const piece: PagesPiece = { pages, startByte: userVa === pages.uptr ? 0n : userVa - pages.uptr, length };
    const fixed = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
    const pinned = ioas.iopt.domains.size !== 0 ? pinnedPages(this.state) : null;
    const result = ioas.iopt.mapPages([piece], length, fixed ? iova : null, flags & PROT_FLAGS);
    if ('errno' in result) return fail(result.errno);
    const rc = this.fillDomains(ioas, [piece], result.iova, length, pinned);
    if (rc !== 0) return fail(rc);
    this.state.nextPagesId++;
    // Spelled out rather than ok({ iova }): MAP is the hot call, and this skips a spread copy.
    return { errno: 0, code: 'OK', iova: result.iova };
  }

  ioasCopy(args: IoasCopyArgs): UapiResult<IoasCopyOut> {
    if (this.state.closed) return fail(EBADF);
    let flags = toU32(args.flags);
    if (this.numberFastPath) {
      const small = this.copySmall(flags, args);
      if (small !== null) return small;
    }
    let srcIova = toU64(args.srcIova);
    const length = toU64(args.length);
    const dstIova = toU64(args.dstIova);
    if (this.options.testKernel && (flags & MOCK_FLAGS_ACCESS_SYZ) !== 0) {
      flags = (flags & ~MOCK_FLAGS_ACCESS_SYZ) >>> 0;
      const src = this.ioas(args.srcIoasId);
      if (src !== null) srcIova = syzConvIova(src, srcIova);
    }
    if ((flags & ~MAP_FLAGS) !== 0) return fail(ERRNO.EOPNOTSUPP);
    if (length >= U64_MAX || srcIova >= U64_MAX || dstIova >= U64_MAX) return fail(ERRNO.EOVERFLOW);
    if ((flags & PROT_FLAGS) === 0) return fail(ERRNO.EINVAL);
    const src = this.ioas(args.srcIoasId);
    if (src === null) return fail(ERRNO.ENOENT);
    const pieces = src.iopt.getPages(srcIova, length);
    if (typeof pieces === 'number') return fail(pieces);
    const dst = this.ioas(args.dstIoasId);
    if (dst === null) return fail(ERRNO.ENOENT);
    const fixed = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
    const pinned = dst.iopt.domains.size !== 0 ? pinnedPages(this.state) : null;
    const result = dst.iopt.mapPages(pieces, length, fixed ? dstIova : null, flags & PROT_FLAGS);
    if ('errno' in result) return fail(result.errno);
    const rc = this.fillDomains(dst, pieces, result.iova, length, pinned);
    if (rc !== 0) return fail(rc);
    return { errno: 0, code: 'OK', dstIova: result.iova };
  }

  /**
   * ioasMap on the number fast path (number-path.ts): every operand below FAST_LIMIT, no domain
   * attached, PAGE_SIZE <= 2^20. The same checks in the same order as the bigint path, each in
   * doubles; null means "run the bigint path" and is only answered before anything changed.
   */
  private mapSmall(flags: number, args: IoasMapArgs): UapiResult<IoasMapOut> | null {
    const userVaD = smallNumber(args.userVa);
    const lengthD = smallNumber(args.length);
    const iovaD = smallNumber(args.iova);
    if (userVaD < 0 || lengthD < 0 || iovaD < 0) return null;
    if ((flags & ~MAP_FLAGS) !== 0) return fail(ERRNO.EOPNOTSUPP);
    // (EOVERFLOW for iova or length >= U64_MAX cannot happen below FAST_LIMIT.)
    if ((flags & PROT_FLAGS) === 0) return fail(ERRNO.EINVAL);
    const ioas = this.ioas(args.ioasId);
    if (ioas === null) return fail(ERRNO.ENOENT);
    const iopt = ioas.iopt;
    if (iopt.pageSizeD < 0 || iopt.domains.size !== 0) return null;
    // iopt_alloc_pages: below FAST_LIMIT only a zero length fails.
    if (lengthD === 0) return fail(ERRNO.EINVAL);
    const fixed = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
    const startD = mapStartD(iopt, fixed, iovaD, lengthD, userVaD);
    if (startD === GIVE_UP) return null;
    if (startD < 0) return fail(-startD);
    const pageSize = iopt.pageSizeD;
    const pageOffset = userVaD % pageSize;
    const npagesD = Math.floor((lengthD + pageOffset + pageSize - 1) / pageSize);
    const writable = (flags & IOMMU_IOAS_MAP_WRITEABLE) !== 0;
    const prot = flags & PROT_FLAGS;
    const rc = checkInsertD(iopt, writable, npagesD, pageOffset, lengthD, prot);
    if (rc !== 0) return fail(rc);
    const pages: SimPages = {
      id: this.state.nextPagesId,
      uptr: pageOffset === 0 ? args.userVa : BigInt(userVaD - pageOffset),
      npages: smallBigInt(npagesD),
      writable,
      accountMode: this.state.accountMode === 'mm' ? 'mm' : 'user',
    };
    const iova = fixed ? args.iova : BigInt(startD);
    iopt.areas.insertSmall(iova, startD, startD + lengthD - 1, { pages, startByte: smallBigInt(pageOffset), prot });
    this.state.nextPagesId++;
    return { errno: 0, code: 'OK', iova };
  }

  /**
   * ioasCopy on the number fast path, when the source range lies inside one area (see mapSmall;
   * a range over several areas, or a gap after the first, takes the bigint path).
   */
  private copySmall(flags: number, args: IoasCopyArgs): UapiResult<IoasCopyOut> | null {
    if (this.options.testKernel && (flags & MOCK_FLAGS_ACCESS_SYZ) !== 0) return null;
    const srcD = smallNumber(args.srcIova);
    const lengthD = smallNumber(args.length);
    const dstD = smallNumber(args.dstIova);
    if (srcD < 0 || lengthD < 0 || dstD < 0) return null;
    if ((flags & ~MAP_FLAGS) !== 0) return fail(ERRNO.EOPNOTSUPP);
    if ((flags & PROT_FLAGS) === 0) return fail(ERRNO.EINVAL);
    const src = this.ioas(args.srcIoasId);
    if (src === null) return fail(ERRNO.ENOENT);
    // iopt_get_pages
    if (lengthD === 0) return fail(ERRNO.EINVAL);
    const areas = src.iopt.areas;
    const node = areas.nodeEndingAtOrAfterD(srcD);
    if (node === NIL || areas.startDAt(node) > srcD) return fail(ERRNO.ENOENT);
    if (areas.lastDAt(node) < srcD + lengthD - 1) return null;
    const area = areas.valueAt(node);
    const pages = area.pages;
    const areaStartByteD = smallNumber(area.startByte);
    const uptrD = smallNumber(pages.uptr);
    if (areaStartByteD < 0 || uptrD < 0) return null;
    const startByteD = srcD - areas.startDAt(node) + areaStartByteD;
    if (uptrD + startByteD >= FAST_LIMIT) return null;
    const dst = this.ioas(args.dstIoasId);
    if (dst === null) return fail(ERRNO.ENOENT);
    const iopt = dst.iopt;
    if (iopt.pageSizeD < 0 || iopt.domains.size !== 0) return null;
    const fixed = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
    const startD = mapStartD(iopt, fixed, dstD, lengthD, uptrD + startByteD);
    if (startD === GIVE_UP) return null;
    if (startD < 0) return fail(-startD);
    const prot = flags & PROT_FLAGS;
    const rc = checkInsertD(iopt, pages.writable, Number(pages.npages), startByteD, lengthD, prot);
    if (rc !== 0) return fail(rc);
    const startByte = startByteD === areaStartByteD ? area.startByte : smallBigInt(startByteD);
    const iova = fixed ? args.dstIova : BigInt(startD);
    iopt.areas.insertSmall(iova, startD, startD + lengthD - 1, { pages, startByte, prot });
    return { errno: 0, code: 'OK', dstIova: iova };
  }

  /**
   * iopt_area_fill_domains after the areas are inserted: with a domain attached the new pieces
   * are pinned (EFAULT, ENOMEM), and on failure the areas are removed again, leaving nothing.
   * `pinned` is the pinned set from before the insert (null: no domain, nothing to do).
   */
  private fillDomains(ioas: IoasObject, pieces: readonly PagesPiece[], iova: bigint, length: bigint, pinned: ReadonlyMap<number, SimPages> | null): number {
    if (pinned === null) return 0;
    const rc = pinPieces(this.state, pieces, pinned);
    if (rc !== 0) ioas.iopt.unmapRange(iova, iova + length - 1n);
    return rc;
  }

  ioasUnmap(args: IoasUnmapArgs): UapiResult<IoasUnmapOut> {
    if (this.state.closed) return fail(EBADF);
    const ioas = this.ioas(args.ioasId);
    if (ioas === null) return fail(ERRNO.ENOENT);
    const iova = toU64(args.iova);
    const length = toU64(args.length);
    if (iova === 0n && length === U64_MAX) return ok({ length: ioas.iopt.unmapAll() });
    if (iova >= U64_MAX || length >= U64_MAX) return fail(ERRNO.EOVERFLOW);
    if (length === 0n) return fail(ERRNO.EINVAL);
    const last = addNoWrap(iova, length - 1n);
    if (last === null) return fail(ERRNO.EOVERFLOW);
    const { errno, unmapped } = ioas.iopt.unmapRange(iova, last);
    if (errno !== 0) return fail(errno);
    if (unmapped === 0n) return fail(ERRNO.ENOENT);
    return ok({ length: unmapped });
  }

  option(args: OptionArgs): UapiResult<OptionOut> {
    if (this.state.closed) return fail(EBADF);
    const optionId = toU32(args.optionId);
    const op = toU16(args.op);
    const val64 = toU64(args.val64);
    if (optionId === IOMMU_OPTION_RLIMIT_MODE) return this.rlimitMode(op, toU32(args.objectId), val64);
    if (optionId === IOMMU_OPTION_HUGE_PAGES) return this.hugePages(op, args.objectId, val64);
    return fail(ERRNO.EOPNOTSUPP);
  }

  /** ioas.c:iommufd_option_rlimit_mode. */
  private rlimitMode(op: number, objectId: number, val64: bigint): UapiResult<OptionOut> {
    if (objectId !== 0) return fail(ERRNO.EOPNOTSUPP);
    if (op === IOMMU_OPTION_OP_GET) return ok({ val64: this.state.accountMode === 'mm' ? 1n : 0n });
    if (op !== IOMMU_OPTION_OP_SET) return fail(ERRNO.EOPNOTSUPP);
    if (!this.options.capSysResource) return fail(ERRNO.EPERM);
    if (this.state.ids.count !== 0) return fail(ERRNO.EBUSY);
    if (val64 === 0n) this.state.accountMode = 'user';
    else if (val64 === 1n) this.state.accountMode = 'mm';
    else return fail(ERRNO.EINVAL);
    return ok({ val64 });
  }

  /** ioas.c:iommufd_ioas_option (HUGE_PAGES): the object is looked up before op and value. */
  private hugePages(op: number, objectId: number, val64: bigint): UapiResult<OptionOut> {
    const ioas = this.ioas(objectId);
    if (ioas === null) return fail(ERRNO.ENOENT);
    if (op === IOMMU_OPTION_OP_GET) return ok({ val64: ioas.iopt.disableLargePages ? 0n : 1n });
    if (op !== IOMMU_OPTION_OP_SET) return fail(ERRNO.EOPNOTSUPP);
    if (val64 === 0n) {
      const rc = ioas.iopt.disableLargePagesChecked();
      return rc === 0 ? ok({ val64 }) : fail(rc);
    }
    if (val64 === 1n) {
      ioas.iopt.enableLargePages();
      return ok({ val64 });
    }
    return fail(ERRNO.EINVAL);
  }

  snapshot(): SimSnapshot {
    return encodeState(this.state);
  }

  // ---- VFIO cdev device calls (the device model, devices.ts) ----------------------------

  deviceBind(args: DeviceBindArgs): UapiResult<DeviceBindOut> {
    if (this.state.closed) return fail(EBADF);
    return bindDevice(this.state, args);
  }

  deviceAttach(args: DeviceAttachArgs): UapiResult<DeviceAttachOut> {
    if (this.state.closed) return fail(EBADF);
    return attachDevice(this.state, args);
  }

  deviceDetach(args: DeviceIdArgs): UapiResult {
    if (this.state.closed) return fail(EBADF);
    return detachDevice(this.state, args);
  }

  deviceUnbind(args: DeviceIdArgs): UapiResult {
    if (this.state.closed) return fail(EBADF);
    return unbindDevice(this.state, args);
  }

  deviceInfo(args: DeviceIdArgs): UapiResult {
    if (this.state.closed) return fail(EBADF);
    return deviceInfoOf(this.state, args);
  }

  setUserMemory(ranges: readonly IovaRange[] | null): void {
    this.state.userMemory = normalizeUserMemory(ranges);
  }

  pinnedBytes(): { user: bigint; mm: bigint } {
    return chargedBytes(this.state);
  }

  close(): void {
    if (this.state.closed) return;
    // Device fds close with the context: devices first, so no IOAS is still busy.
    for (const id of [...this.state.devices.keys()]) unbindDevice(this.state, { devId: id });
    for (const [id, object] of this.state.objects) {
      object.iopt.unmapAll();
      this.state.ids.release(id);
    }
    this.state.objects.clear();
    this.state.closed = true;
  }

  // ---- simulator-only extras -------------------------------------------------------------

  areas(ioasId: number): readonly SimArea[] | null {
    const ioas = this.ioas(ioasId);
    if (ioas === null) return null;
    return ioas.iopt.areas.toArray().map(({ start, last, value }) => ({
      iova: start,
      last,
      userVa: toU64(value.pages.uptr + value.startByte),
      flags: value.prot,
      pagesId: value.pages.id,
    }));
  }

  /**
   * IOMMU_TEST_OP_ADD_RESERVED (selftest.c:iommufd_test_add_reserved). The op takes
   * {start, length}; like the kernel backend, the inclusive range becomes
   * length = (last - start + 1) mod 2^64, so [0, U64_MAX] and last = start - 1 give a zero
   * length (EINVAL) and any other last < start a wrapping range (EOVERFLOW).
   * Only a TEST kernel has it: otherwise ENOTTY, as IOMMU_TEST_CMD is unknown there.
   */
  testAddReserved(args: TestAddReservedArgs): UapiResult {
    if (this.state.closed) return fail(EBADF);
    if (!this.options.testKernel) return fail(ERRNO.ENOTTY);
    const start = toU64(args.start);
    const length = toU64(toU64(args.last) - start + 1n);
    if (length === 0n) return fail(ERRNO.EINVAL);
    const last = addNoWrap(start, length - 1n);
    if (last === null) return fail(ERRNO.EOVERFLOW);
    const ioas = this.ioas(args.ioasId);
    if (ioas === null) return fail(ERRNO.ENOENT);
    const rc = ioas.iopt.reserve(start, last);
    return rc === 0 ? ok({}) : fail(rc);
  }
}

/** selftest.c:__iommufd_test_syz_conv_iova: {u32 nth_area, u32 offset} → that area's iova + offset. */
function syzConvIova(ioas: IoasObject, encoded: bigint): bigint {
  const nth = Number(encoded & 0xffffffffn);
  const offset = encoded >> 32n;
  const area = ioas.iopt.areas.nth(nth);
  return area === null ? 0n : toU64(area.start + offset);
}
