// Sizes and addresses as written in a layout: integers (already bigint thanks to yaml's
// intAsBigInt), hex strings with optional underscores (`0x1000_0000`, which YAML 1.2 core reads
// as a string), decimal strings with underscores, and binary units (`4KiB`, `2MiB`, `1GiB`).
// Parsing is exact: everything goes through BigInt, never through a float.

import { U64_MAX } from '../model/uapi.js';

export type SizeResult =
  | { readonly ok: true; readonly value: bigint }
  /** `syntax`: not a size at all (or negative); `range`: a size beyond 2^64 - 1. */
  | { readonly ok: false; readonly kind: 'syntax' | 'range'; readonly reason: string };

const UNITS: Readonly<Record<string, bigint>> = {
  KiB: 1n << 10n,
  MiB: 1n << 20n,
  GiB: 1n << 30n,
  TiB: 1n << 40n,
  PiB: 1n << 50n,
  EiB: 1n << 60n,
};

// Kept in sync with the `size` definition of schema/layout.schema.json (a test checks it).
export const SIZE_PATTERN = '^(0[xX][0-9a-fA-F](_?[0-9a-fA-F])*|[0-9](_?[0-9])*( ?[KMGTPE]iB)?)$';
const HEX = /^0[xX]([0-9a-fA-F](?:_?[0-9a-fA-F])*)$/;
const DECIMAL = /^([0-9](?:_?[0-9])*)(?: ?([KMGTPE]iB))?$/;

/** Parses a written size or address into an exact unsigned 64-bit bigint. */
export function parseSize(written: unknown): SizeResult {
  let value: bigint;
  if (typeof written === 'bigint') {
    value = written;
  } else if (typeof written === 'number') {
    if (!Number.isSafeInteger(written)) return { ok: false, kind: 'syntax', reason: `${written} is not an exact integer` };
    value = BigInt(written);
  } else if (typeof written === 'string') {
    const parsed = parseSizeString(written);
    if (parsed === null) {
      return { ok: false, kind: 'syntax', reason: `'${written}' is not a size; write 4096, 0x1000, 0x1000_0000 or 2MiB` };
    }
    value = parsed;
  } else {
    return { ok: false, kind: 'syntax', reason: 'expected an integer, a hex string or a size with a unit such as 2MiB' };
  }
  if (value < 0n) return { ok: false, kind: 'syntax', reason: `${value} is negative` };
  if (value > U64_MAX) return { ok: false, kind: 'range', reason: `${formatHex(value)} does not fit in 64 bits (the largest value is 0xffff_ffff_ffff_ffff)` };
  return { ok: true, value };
}

function parseSizeString(text: string): bigint | null {
  const hex = HEX.exec(text);
  if (hex?.[1] !== undefined) return BigInt(`0x${hex[1].replaceAll('_', '')}`);
  const decimal = DECIMAL.exec(text);
  if (decimal?.[1] === undefined) return null;
  const number = BigInt(decimal[1].replaceAll('_', ''));
  const unit = decimal[2];
  return unit === undefined ? number : number * (UNITS[unit] ?? 1n);
}

/** `0x1000`-style lowercase hex, the canonical spelling of an address. */
export function formatHex(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/** The shortest exact spelling of a size: `2MiB` when a whole number of a unit, else hex. */
export function formatSize(value: bigint): string {
  const units = Object.entries(UNITS).reverse();
  for (const [unit, factor] of units) {
    if (value >= factor && value % factor === 0n) return `${value / factor}${unit}`;
  }
  return value < 1024n ? value.toString(10) : formatHex(value);
}
