// struct io_pagetable of one IOAS (io_pagetable.c), without domains or accesses: the areas,
// the allowed and reserved lists, the IOVA alignment and HUGE_PAGES. Each method is one kernel
// function and returns a positive errno instead of throwing; the checks run in the kernel's
// order, and nothing changes unless the whole operation succeeds (except UNMAP, which the
// kernel itself leaves half done before an ENOENT).
import type { IovaRange } from '../../model/uapi.js';
import { ERRNO } from '../../model/uapi.js';
import { allocIova, type AllocatorConfig } from './allocator.js';
import { IntervalTree } from './interval-tree.js';
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

export class IoPagetable {
  readonly areas = new IntervalTree<AreaData>();
  allowed: readonly IovaRange[] = [];
  reserved: IovaRange[] = [];
  disableLargePages = false;
  private alignment = 1n;
  /** iova_alignment - 1, cached because every MAP, COPY and check uses it. */
  private alignMask = 0n;

  private readonly config: AllocatorConfig;

  constructor(config: AllocatorConfig) {
    this.config = config;
  }

  /** iopt->iova_alignment: 1 on a plain IOAS, PAGE_SIZE after HUGE_PAGES=0. */
  get iovaAlignment(): bigint {
    return this.alignment;
  }

  set iovaAlignment(value: bigint) {
    this.alignment = value;
    this.alignMask = value - 1n;
  }

  /** iopt_check_iova: EINVAL misaligned, EOVERFLOW wrap, EINVAL reserved, EEXIST area. */
  checkIova(iova: bigint, length: bigint): Errno {
    if ((iova & this.alignMask) !== 0n) return ERRNO.EINVAL;
    const last = addNoWrap(iova, length - 1n);
    if (last === null) return ERRNO.EOVERFLOW;
    if (this.reserved.length !== 0 && this.reserved.some((r) => intersects(r, iova, last))) return ERRNO.EINVAL;
    if (this.areas.firstIntersecting(iova, last) !== null) return ERRNO.EEXIST;
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
    let unmapped = 0n;
    for (const area of this.areas) unmapped += area.last - area.start + 1n;
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
  reserve(start: bigint, last: bigint): Errno {
    if (this.areas.firstIntersecting(start, last) !== null) return ERRNO.EADDRINUSE;
    if (this.allowed.some((r) => intersects(r, start, last))) return ERRNO.EADDRINUSE;
    this.reserved.push({ start, last });
    return 0;
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

  /** iopt_enable_large_pages (always succeeds on a plain IOAS). */
  enableLargePages(): void {
    this.disableLargePages = false;
    this.iovaAlignment = 1n;
  }

  /** iopt_disable_large_pages on a plain IOAS: EADDRINUSE if an area is not page aligned. */
  disableLargePagesChecked(): Errno {
    if (this.disableLargePages) return 0;
    const newAlignment = this.config.pageSize;
    if (newAlignment > this.iovaAlignment) {
      const mask = newAlignment - 1n;
      for (const area of this.areas) {
        const length = area.last - area.start + 1n;
        const pageOffset = area.value.startByte % this.config.pageSize;
        if ((area.start & mask) !== 0n || (length & mask) !== 0n || (pageOffset & mask) !== 0n) {
          return ERRNO.EADDRINUSE;
        }
      }
    }
    this.disableLargePages = true;
    this.iovaAlignment = newAlignment;
    return 0;
  }
}
