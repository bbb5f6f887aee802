// The data of one simulated context, shared by the ioctl handlers (context.ts) and the
// snapshot codec (snapshot.ts).
import { IdAllocator } from './id-allocator.js';
import { IoPagetable } from './io-pagetable.js';
import type { SimOptions } from './types.js';

/** ctx->account_mode: NONE at open (acts like USER), USER or MM after RLIMIT_MODE SET. */
export type AccountMode = 'none' | 'user' | 'mm';

export interface ResolvedOptions {
  readonly capSysResource: boolean;
  readonly pageSize: bigint;
  readonly testKernel: boolean;
  /** HPAGE_SIZE: the PMD size, PAGE_SIZE * PAGE_SIZE / 8 (2 MiB for 4 KiB pages). */
  readonly maxAlignment: bigint;
}

export function resolveOptions(options: SimOptions = {}): ResolvedOptions {
  const pageSize = BigInt(options.pageSize ?? 4096);
  if (pageSize < 8n || (pageSize & (pageSize - 1n)) !== 0n) {
    throw new RangeError(`pageSize must be a power of two >= 8, got ${pageSize}`);
  }
  return {
    capSysResource: options.capSysResource ?? true,
    pageSize,
    testKernel: options.testKernel ?? false,
    maxAlignment: (pageSize * pageSize) / 8n,
  };
}

export interface IoasObject {
  readonly kind: 'ioas';
  readonly iopt: IoPagetable;
}

/** The mutable state of one context; snapshot.ts reads and rebuilds it. */
export interface ContextState {
  options: ResolvedOptions;
  accountMode: AccountMode;
  objects: Map<number, IoasObject>;
  ids: IdAllocator;
  nextPagesId: number;
  closed: boolean;
}

export function emptyState(options: ResolvedOptions): ContextState {
  return { options, accountMode: 'none', objects: new Map(), ids: new IdAllocator(), nextPagesId: 1, closed: false };
}

export function newIoas(options: ResolvedOptions): IoasObject {
  return { kind: 'ioas', iopt: new IoPagetable({ pageSize: options.pageSize, maxAlignment: options.maxAlignment }) };
}

