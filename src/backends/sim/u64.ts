// Unsigned 64-bit arithmetic helpers over bigint, mirroring the C expressions the kernel uses
// (`unsigned long` on a 64-bit kernel). Every value crossing the uapi is reduced modulo 2^64 on
// entry, exactly as a struct codec writing a u64 field would.
import { U64_MAX } from '../../model/uapi.js';

export { U64_MAX };

/** The value a u64 struct field would hold (wraps like a BigUint64Array store). */
export function toU64(value: bigint): bigint {
  // Fast path without allocation: almost every value is already a valid u64.
  return value >= 0n && value <= U64_MAX ? value : BigInt.asUintN(64, value);
}

/** The value a u32 struct field would hold. */
export function toU32(value: number): number {
  return value >>> 0;
}

/** The value a u16 struct field would hold. */
export function toU16(value: number): number {
  return (value >>> 0) & 0xffff;
}

/** `check_add_overflow(a, b, &r)`: the sum, or null when it does not fit in 64 bits. */
export function addNoWrap(a: bigint, b: bigint): bigint | null {
  const sum = a + b;
  return sum > U64_MAX ? null : sum;
}

/** roundup_pow_of_two(x) for 1 <= x <= 2^63. */
export function roundUpPowerOfTwo(x: bigint): bigint {
  if ((x & (x - 1n)) === 0n) return x;
  // Every MAP with an automatic IOVA asks this of its length: below 2^32 (every length in
  // practice) the bit length comes from clz32 instead of a binary string.
  if (x <= 0xffffffffn) return BigInt(2 ** (32 - Math.clz32(Number(x) - 1)));
  return 1n << BigInt((x - 1n).toString(2).length);
}

/** 1UL << __ffs64(x) for x != 0: the lowest set bit. */
export function lowestSetBit(x: bigint): bigint {
  return x & -x;
}

export function isPowerOfTwo(x: bigint): boolean {
  return x > 0n && (x & (x - 1n)) === 0n;
}

export function minU64(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** Hex formatting used in snapshots and messages: "0x1000". */
export function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}
