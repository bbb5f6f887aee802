import { describe, expect, it } from 'vitest';
import { humanBytes } from '../../src/model/format.js';

describe('humanBytes', () => {
  it('uses the largest binary unit that divides the value exactly, else bytes', () => {
    expect(humanBytes(0n)).toBe('0 bytes');
    expect(humanBytes(4095n)).toBe('4095 bytes');
    expect(humanBytes(4096n)).toBe('4 KiB');
    expect(humanBytes(0x180000n)).toBe('1536 KiB');
    expect(humanBytes(2n << 30n)).toBe('2 GiB');
    expect(humanBytes(1n << 63n)).toBe('8 EiB');
    expect(humanBytes((1n << 64n) - 4096n)).toBe('18014398509481980 KiB');
  });
});
