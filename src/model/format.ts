// Human formatting of the values plans and states show. Pure.
import type { Backing, IovaRange } from './layout.js';

export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

/** Binary units, largest first (shared with the graph renderers' sizes). */
export const BINARY_UNITS: readonly [string, bigint][] = [
  ['EiB', 1n << 60n],
  ['PiB', 1n << 50n],
  ['TiB', 1n << 40n],
  ['GiB', 1n << 30n],
  ['MiB', 1n << 20n],
  ['KiB', 1n << 10n],
];

/**
 * A byte count people can read next to its hex: the largest binary unit that divides it exactly
 * ("2 GiB", "1536 KiB"), else plain bytes. Exact on purpose: a plan must not round a size.
 */
export function humanBytes(value: bigint): string {
  for (const [unit, size] of BINARY_UNITS) if (value >= size && value % size === 0n) return `${value / size} ${unit}`;
  return `${value} bytes`;
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
