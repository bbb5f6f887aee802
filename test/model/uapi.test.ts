import { describe, expect, it } from 'vitest';
import { ERRNO, errnoName, IOMMUFD_CMD } from '../../src/model/uapi.js';

describe('uapi constants', () => {
  it('names errnos by their Linux x86-64 numbers', () => {
    expect(errnoName(0)).toBe('OK');
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(95)).toBe('EOPNOTSUPP');
    expect(errnoName(98)).toBe('EADDRINUSE');
    expect(errnoName(4242)).toBe('E4242');
    expect(ERRNO.EOVERFLOW).toBe(75);
  });
  it('builds ioctl numbers as _IO(";", nr)', () => {
    expect(IOMMUFD_CMD.IOAS_MAP).toBe((0x3b << 8) | 0x85);
  });
});
