// struct io_pagetable of one IOAS (io_pagetable.c), without domains or accesses: the areas,
// the allowed and reserved lists, the IOVA alignment and HUGE_PAGES. Each method is one kernel
// function and returns a positive errno instead of throwing; the checks run in the kernel's
// order, and nothing changes unless the whole operation succeeds (except UNMAP, which the
// kernel itself leaves half done before an ENOENT).
import type { IovaRange } from '../../model/uapi.js';
import { ERRNO } from '../../model/uapi.js';
import { allocIova, type AllocatorConfig } from './allocator.js';
import { IntervalTree, NIL } from './interval-tree.js';
import type { SimPages } from './pages.js';
import { intersects, mergeClipped } from './ranges.js';
import { addNoWrap, toU64, U64_MAX } from './u64.js';

/** MAP/COPY protection bits as the uapi flags spell them (WRITEABLE = 2, READABLE = 4). */
export type Prot = number;
export const PROT_WRITE = 2;
export const PROT_READ = 4;

/** One iopt_area: a slice of a pages object mapped at [iova, last]. */
export interface AreaData {
  readonly pages: SimPages;
  /** Byte offset of the area's first byte inside `pages` (start_byte). */
  readonly startByte: bigint;
  readonly prot: Prot;
}

/** A piece of source pages to map (struct iopt_pages_list). */
export interface PagesPiece {
  readonly pages: SimPages;
  readonly startByte: bigint;
  readonly length: bigint;
}

export type Errno = number;

/** The largest PAGE_SIZE the number fast path takes (number-path.ts): its HPAGE_SIZE is 2^37. */
export const MAX_FAST_PAGE_SIZE = 1n << 20n;

/**
 * A reserved IOVA range with the owner the kernel records (iopt_reserved.owner): `dev:<id>` for a
 * device's reserved regions, `hwpt:<id>` for a domain's aperture complement, absent (NULL) for the
 * TEST op. Removing an owner's ranges is how detach gives the IOVA space back.
 */
export interface ReservedIova extends IovaRange {
  readonly owner?: string;
}

export class IoPagetable {
  readonly areas = new IntervalTree<AreaData>();
  allowed: readonly IovaRange[] = [];
  reserved: ReservedIova[] = [];
  disableLargePages = false;
  /** Attached domains (iopt->domains): HWPT id -> the domain's smallest page size. */
  readonly domains = new Map<number, bigint>();
  private alignment = 1n;
  /** iova_alignment - 1, cached because every MAP, COPY and check uses it. */
  private alignMask = 0n;
  /** iova_alignment as a number (it never exceeds PAGE_SIZE), for the number fast path. */
  private alignmentNumber = 1;

  readonly config: AllocatorConfig;
  /** PAGE_SIZE and HPAGE_SIZE as numbers, or -1 when too large for the number fast path. */
  readonly pageSizeD: number;
  readonly maxAlignmentD: number;

  constructor(config: AllocatorConfig) {
    this.config = config;
    const small = config.pageSize <= MAX_FAST_PAGE_SIZE;
    this.pageSizeD = small ? Number(config.pageSize) : -1;
    this.maxAlignmentD = small ? Number(config.maxAlignment) : -1;
  }

  /** iopt->iova_alignment as a number (exact: at most PAGE_SIZE). */
  get iovaAlignmentD(): number {
    return this.alignmentNumber;
  }

  /** iopt->iova_alignment: 1 on a plain IOAS, PAGE_SIZE after HUGE_PAGES=0. */
  get iovaAlignment(): bigint {
    return this.alignment;
  }

  set iovaAlignment(value: bigint) {
    this.alignment = value;
    this.alignMask = value - 1n;
    this.alignmentNumber = Number(value);
  }

  /** iopt_check_iova: EINVAL misaligned, EOVERFLOW wrap, EINVAL reserved, EEXIST area. */
  checkIova(iova: bigint, length: bigint): Errno {
    if ((iova & this.alignMask) !== 0n) return ERRNO.EINVAL;
    const last = addNoWrap(iova, length - 1n);
    if (last === null) return ERRNO.EOVERFLOW;
    if (this.reserved.length !== 0 && this.reserved.some((r) => intersects(r, iova, last))) return ERRNO.EINVAL;
    if (this.areas.nodeIntersecting(iova, last) !== NIL) return ERRNO.EEXIST;
    return 0;
  }

  /**
   * iopt_map_pages → iopt_alloc_area_pages + iopt_insert_area for each piece. `iova` is the
   * fixed IOVA, or null for automatic placement. Returns the IOVA or an errno.
   */
  mapPages(pieces: readonly PagesPiece[], length: bigint, iova: bigint | null, prot: Prot): { iova: bigint } | { errno: Errno } {
    if ((length & this.alignMask) !== 0n || length === 0n) return { errno: ERRNO.EINVAL };
    let start: bigint;
    if (iova === null) {
      const first = pieces[0] as PagesPiece;
      const result = allocIova(this, this.config, toU64(first.pages.uptr + first.startByte), length);
      if ('errno' in result) return result;
      start = result.iova;
    } else {
      const rc = this.checkIova(iova, length);
      if (rc !== 0) return { errno: rc };
      start = iova;
    }
    // iopt_insert_area checks for every piece before any of them becomes visible.
    let at = start;
    for (const piece of pieces) {
      const rc = this.checkInsert(piece, at, prot);
      if (rc !== 0) return { errno: rc };
      at += piece.length;
    }
    at = start;
    for (const piece of pieces) {
      this.areas.insert(at, at + piece.length - 1n, { pages: piece.pages, startByte: piece.startByte, prot });
      at += piece.length;
    }
    return { iova: start };
  }

  /** The checks of iopt_insert_area, in order. */
  private checkInsert(piece: PagesPiece, iova: bigint, prot: Prot): Errno {
    const pageSize = this.config.pageSize;
    if ((prot & PROT_WRITE) !== 0 && !piece.pages.writable) return ERRNO.EPERM;
    const pageOffset = piece.startByte % pageSize;
    if ((pageOffset & this.alignMask) !== 0n) return ERRNO.EINVAL;
    if (addNoWrap(iova, piece.length - 1n) === null) return ERRNO.EOVERFLOW;
    const lastByte = addNoWrap(piece.startByte, piece.length - 1n);
    if (lastByte === null) return ERRNO.EOVERFLOW;
    // WARN_ON(pages_node.last >= npages): reachable when npages wrapped at MAP time.
    if (lastByte / pageSize >= piece.pages.npages) return ERRNO.EOVERFLOW;
    return 0;
  }

  /**
   * iopt_get_pages: the pieces of the areas covering [iova, iova+length-1] back to back, or
   * EINVAL (length 0), EOVERFLOW (wrap), ENOENT (a gap anywhere in the range).
   */
  getPages(iova: bigint, length: bigint): PagesPiece[] | Errno {
    if (length === 0n) return ERRNO.EINVAL;
    const lastIova = addNoWrap(iova, length - 1n);
    if (lastIova === null) return ERRNO.EOVERFLOW;
    const pieces: PagesPiece[] = [];
    let cursor = iova;
    let area = this.areas.containing(iova);
    while (area !== null) {
      const last = area.last < lastIova ? area.last : lastIova;
      pieces.push({
        pages: area.value.pages,
        startByte: cursor - area.start + area.value.startByte,
        length: last - cursor + 1n,
      });
      if (area.last >= lastIova) return pieces;
      cursor = area.last + 1n;
      const next = this.areas.firstIntersecting(cursor, lastIova);
      area = next !== null && next.start === cursor ? next : null;
    }
    return ERRNO.ENOENT;
  }

  /**
   * iopt_unmap_iova_range: removes the whole areas inside [start, last] lowest first; an area
   * sticking out gives ENOENT after the ones below it are already gone. The byte count wraps
   * like the kernel's unsigned long (only unmap-all of a fully covered space can wrap).
   */
  unmapRange(start: bigint, last: bigint): { errno: Errno; unmapped: bigint } {
    let unmapped = 0n;
    let cursor = start;
    for (;;) {
      const area = this.areas.firstIntersecting(cursor, last);
      if (area === null) break;
      if (area.start < cursor || area.last > last) return { errno: ERRNO.ENOENT, unmapped: toU64(unmapped) };
      this.areas.remove(area.start);
      unmapped += area.last - area.start + 1n;
      if (area.last >= last) break;
      cursor = area.last + 1n;
    }
    return { errno: 0, unmapped: toU64(unmapped) };
  }

  unmapAll(): bigint {
    const unmapped = this.areas.totalLength();
    this.areas.clear();
    return toU64(unmapped);
  }

  /** iommufd_ioas_load_iovas + iopt_set_allow_iova. */
  setAllowed(ranges: readonly IovaRange[]): Errno {
    const accepted: IovaRange[] = [];
    for (const range of ranges) {
      if (range.start >= range.last) return ERRNO.EINVAL;
      if (accepted.some((r) => intersects(r, range.start, range.last))) return ERRNO.EINVAL;
      accepted.push({ start: range.start, last: range.last });
    }
    for (const range of accepted) {
      if (this.reserved.some((r) => intersects(r, range.start, range.last))) return ERRNO.EADDRINUSE;
    }
    this.allowed = accepted;
    return 0;
  }

  /** iopt_reserve_iova: EADDRINUSE when an area or an allowed range intersects. */
  reserve(start: bigint, last: bigint, owner?: string): Errno {
    if (this.areas.nodeIntersecting(start, last) !== NIL) return ERRNO.EADDRINUSE;
    if (this.allowed.some((r) => intersects(r, start, last))) return ERRNO.EADDRINUSE;
    this.reserved.push(owner === undefined ? { start, last } : { start, last, owner });
    return 0;
  }

  /** __iopt_remove_reserved_iova: drops every range of one owner. */
  removeReservedOwnedBy(owner: string): void {
    this.reserved = this.reserved.filter((r) => r.owner !== owner);
  }

  /** Reserves all of `ranges` for `owner`, or none of them (the first failure's errno). */
  reserveAll(ranges: readonly IovaRange[], owner: string): Errno {
    for (const range of ranges) {
      const rc = this.reserve(range.start, range.last, owner);
      if (rc !== 0) {
        this.removeReservedOwnedBy(owner);
        return rc;
      }
    }
    return 0;
  }

  /**
   * iopt_table_add_domain, in the kernel's order: the alignment the domain needs (EINVAL above
   * PAGE_SIZE, EADDRINUSE if an area does not fit it), the aperture complement reserved
   * (EADDRINUSE), then `fill` (pinning: EFAULT, ENOMEM). Nothing is left on failure.
   */
  addDomain(hwptId: number, domainPageSize: bigint, outsideAperture: readonly IovaRange[], fill: () => Errno): Errno {
    const newAlignment = domainPageSize > this.alignment ? domainPageSize : this.alignment;
    if (newAlignment > this.config.pageSize) return ERRNO.EINVAL;
    if (newAlignment !== this.alignment && !this.areasAligned(newAlignment)) return ERRNO.EADDRINUSE;
    const owner = `hwpt:${hwptId}`;
    let rc = this.reserveAll(outsideAperture, owner);
    if (rc !== 0) return rc;
    rc = fill();
    if (rc !== 0) {
      this.removeReservedOwnedBy(owner);
      return rc;
    }
    this.iovaAlignment = newAlignment;
    this.domains.set(hwptId, domainPageSize);
    return 0;
  }

  /** iopt_table_remove_domain: the domain's reserved ranges go and the alignment is recomputed. */
  removeDomain(hwptId: number): void {
    this.domains.delete(hwptId);
    this.removeReservedOwnedBy(`hwpt:${hwptId}`);
    this.iovaAlignment = this.requiredAlignment(this.disableLargePages);
  }

  /** iopt_calculate_iova_alignment: max(1 or PAGE_SIZE, each domain's smallest page size). */
  private requiredAlignment(disableLargePages: boolean): bigint {
    let alignment = disableLargePages ? this.config.pageSize : 1n;
    for (const pageSize of this.domains.values()) if (pageSize > alignment) alignment = pageSize;
    return alignment;
  }

  /** iopt_check_iova_alignment: every area's iova, length and page offset are multiples. */
  private areasAligned(alignment: bigint): boolean {
    const mask = alignment - 1n;
    for (const area of this.areas) {
      const length = area.last - area.start + 1n;
      const pageOffset = area.value.startByte % this.config.pageSize;
      if ((area.start & mask) !== 0n || (length & mask) !== 0n || (pageOffset & mask) !== 0n) return false;
    }
    return true;
  }

  /** The holes of the reserved list over [0, U64_MAX] (what IOVA_RANGES reports). */
  usableRanges(): IovaRange[] {
    const used = mergeClipped(this.reserved, 0n, U64_MAX);
    const holes: IovaRange[] = [];
    let cursor = 0n;
    for (const span of used) {
      if (span.start > cursor) holes.push({ start: cursor, last: span.start - 1n });
      if (span.last === U64_MAX) return holes;
      cursor = span.last + 1n;
    }
    holes.push({ start: cursor, last: U64_MAX });
    return holes;
  }

  /** iopt_enable_large_pages: always succeeds; the alignment falls back to the domains' need. */
  enableLargePages(): void {
    this.disableLargePages = false;
    this.iovaAlignment = this.requiredAlignment(false);
  }

  /**
   * iopt_disable_large_pages: EINVAL when a domain is attached and an area exists, EADDRINUSE if
   * an area does not fit the larger alignment.
   */
  disableLargePagesChecked(): Errno {
    if (this.disableLargePages) return 0;
    if (this.domains.size !== 0 && this.areas.size !== 0) return ERRNO.EINVAL;
    const newAlignment = this.requiredAlignment(true);
    if (newAlignment > this.iovaAlignment && !this.areasAligned(newAlignment)) return ERRNO.EADDRINUSE;
    this.disableLargePages = true;
    this.iovaAlignment = newAlignment;
    return 0;
  }
}
