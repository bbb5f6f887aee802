// Human formatting of the values plans and states show. Pure.
import type { Backing, IovaRange } from './layout.js';

export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

export function formatRanges(ranges: readonly IovaRange[]): string {
  if (ranges.length === 0) return '[] (unrestricted)';
  return `[${ranges.map((r) => `${hex(r.start)}-${hex(r.last)}`).join(', ')}]`;
}

export function formatBacking(backing: Backing): string {
  switch (backing.kind) {
    case 'anonymous':
    case 'memfd':
      return backing.kind;
    case 'hugetlb':
      return `hugetlb(${hex(backing.pageSize)})`;
    case 'file':
      return `file(${backing.path})`;
  }
}

export function sameRanges(a: readonly IovaRange[], b: readonly IovaRange[]): boolean {
  return a.length === b.length && a.every((r, i) => r.start === b[i]?.start && r.last === b[i]?.last);
}
