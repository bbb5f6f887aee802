import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatHex, formatSize, parseSize, SIZE_PATTERN } from '../../src/config/sizes.js';

const U64_MAX = (1n << 64n) - 1n;
const value = (written: unknown) => {
  const result = parseSize(written);
  return result.ok ? result.value : result.kind;
};

describe('parseSize', () => {
  it('reads integers, hex with underscores, decimal with underscores and binary units exactly', () => {
    expect(value(4096n)).toBe(4096n);
    expect(value(4096)).toBe(4096n);
    expect(value('0x1000_0000')).toBe(0x10000000n);
    expect(value('0XFFFF_ffff_FFFF_f000')).toBe(0xfffffffffffff000n);
    expect(value('1_000_000')).toBe(1000000n);
    expect(value('4KiB')).toBe(4096n);
    expect(value('2MiB')).toBe(2n * 1024n * 1024n);
    expect(value('2 MiB')).toBe(2n * 1024n * 1024n);
    expect(value('1GiB')).toBe(1n << 30n);
    expect(value('15EiB')).toBe(15n << 60n);
    expect(value('18446744073709551615')).toBe(U64_MAX);
  });

  it('rejects what is not a size, and values beyond 64 bits as a range problem', () => {
    for (const bad of ['2MB', '0x', '0x_1', '1__0', '_1', 'MiB', '1.5GiB', '-1', '0x1MiB', '', true, null, 1.5, -3n]) {
      expect(value(bad), String(bad)).toBe('syntax');
    }
    expect(value('0x1_0000_0000_0000_0000')).toBe('range');
    expect(value('16EiB')).toBe('range');
    expect(value(1n << 64n)).toBe('range');
  });

  it('agrees with the schema pattern on which strings are sizes', () => {
    const pattern = new RegExp(SIZE_PATTERN);
    const alphabet = fc.constantFrom(...'0123456789abcdefxX_ KMGiB-.'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 12 }), (text) => {
        const result = parseSize(text);
        const accepted = result.ok || result.kind === 'range';
        expect(accepted).toBe(pattern.test(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatSize and formatHex', () => {
  it('spell sizes with the largest exact unit', () => {
    expect(formatSize(0n)).toBe('0');
    expect(formatSize(512n)).toBe('512');
    expect(formatSize(4096n)).toBe('4KiB');
    expect(formatSize(3n << 30n)).toBe('3GiB');
    expect(formatSize(4097n)).toBe('0x1001');
    expect(formatHex(0xfffffffffffff000n)).toBe('0xfffffffffffff000');
  });

  it('parse back to the same value for every 64-bit number', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: U64_MAX }), (n) => {
        expect(value(formatSize(n))).toBe(n);
        expect(value(formatHex(n))).toBe(n);
      }),
    );
  });
});
