// iopt_pages: the backing object a MAP creates (pages.c:iopt_alloc_pages). COPY shares it.
// On a plain IOAS nothing is pinned, so only the fields that affect later checks are modelled.
import { ERRNO } from '../../model/uapi.js';
import { addNoWrap, toU64, U64_MAX } from './u64.js';

export type PagesAccountMode = 'user' | 'mm';

export interface SimPages {
  /** Simulator-wide stable id (only to show sharing; the kernel has no such number). */
  readonly id: number;
  /** ALIGN_DOWN(user_va, PAGE_SIZE). */
  readonly uptr: bigint;
  /** DIV_ROUND_UP(length + page offset, PAGE_SIZE), computed with the kernel's 64-bit wrap. */
  readonly npages: bigint;
  readonly writable: boolean;
  readonly accountMode: PagesAccountMode;
}

/** iopt_alloc_pages: EINVAL for length 0 or > SIZE_MAX - PAGE_SIZE, EOVERFLOW if user_va+length wraps. */
export function allocPages(
  id: number,
  userVa: bigint,
  length: bigint,
  writable: boolean,
  pageSize: bigint,
  accountMode: PagesAccountMode,
): SimPages | number {
  if (length > U64_MAX - pageSize || length === 0n) return ERRNO.EINVAL;
  if (addNoWrap(userVa, length) === null) return ERRNO.EOVERFLOW;
  const pageOffset = userVa % pageSize;
  // Reuse the caller's bigint when already aligned: 100k retained areas mean 100k fewer objects.
  const uptr = pageOffset === 0n ? userVa : userVa - pageOffset;
  const npages = toU64(length + pageOffset + pageSize - 1n) / pageSize;
  return { id, uptr, npages, writable, accountMode };
}
