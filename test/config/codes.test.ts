// Every diagnostic code: a layout that triggers it (at the expected line and column) and the
// smallest fix of that layout, which must be free of diagnostics.
import { describe, expect, it } from 'vitest';
import { LAYOUT_CODES, type LayoutCode } from '../../src/config/codes.js';
import { parseLayoutText } from '../../src/config/parse.js';

interface Case {
  readonly code: LayoutCode;
  readonly why: string;
  readonly bad: string;
  /** Where the diagnostic starts in `bad`: a 1-based line and the text that starts there
   * (or a column number). */
  readonly at: readonly [number, string | number];
  readonly good: string;
}

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;
const MEM = ['memory:', '  buf: {size: 64KiB}'];

const CASES: readonly Case[] = [
  {
    code: 'yaml-syntax',
    why: 'an unclosed flow sequence',
    bad: yaml('version: 1', 'memory:', '  buf: {size: [1, 2}'),
    at: [3, 20],
    good: yaml('version: 1', 'memory:', '  buf: {size: 12}'),
  },
  {
    code: 'duplicate-key',
    why: 'a memory region defined twice',
    bad: yaml('version: 1', 'memory:', '  buf: {size: 4KiB}', '  buf: {size: 8KiB}'),
    at: [4, 'buf'],
    good: yaml('version: 1', 'memory:', '  buf: {size: 4KiB}', '  buf2: {size: 8KiB}'),
  },
  {
    code: 'yaml-aliases',
    why: 'an exponential alias expansion',
    bad: yaml(
      'version: 1',
      'x1: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
      'x2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'x3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'x4: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ),
    at: [1, 1],
    good: yaml('version: 1', 'memory:', '  a: &m {size: 4KiB}', '  b: *m'),
  },
  {
    code: 'unsupported-version',
    why: 'version 2',
    bad: yaml('version: 2'),
    at: [1, '2'],
    good: yaml('version: 1'),
  },
  {
    code: 'unknown-key',
    why: 'a misspelled key',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, acess: r}'),
    at: [7, 'acess'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, access: r}'),
  },
  {
    code: 'missing-key',
    why: 'a memory region without size',
    bad: yaml('version: 1', 'memory:', '  buf:', '    backing: {kind: memfd}'),
    at: [3, 'buf'],
    good: yaml('version: 1', 'memory:', '  buf:', '    size: 4KiB', '    backing: {kind: memfd}'),
  },
  {
    code: 'conflicting-keys',
    why: 'a range with both last and size',
    bad: yaml('version: 1', 'ioas:', '  io:', '    allowed_iovas:', '      - {start: 0x1000, last: 0x1fff, size: 0x1000}'),
    at: [5, 'last'],
    good: yaml('version: 1', 'ioas:', '  io:', '    allowed_iovas:', '      - {start: 0x1000, size: 0x1000}'),
  },
  {
    code: 'invalid-type',
    why: 'huge_pages as a string (YAML 1.2 has no `yes`)',
    bad: yaml('version: 1', 'ioas:', '  io:', '    huge_pages: yes'),
    at: [4, 'yes'],
    good: yaml('version: 1', 'ioas:', '  io:', '    huge_pages: true'),
  },
  {
    code: 'invalid-value',
    why: 'a decimal unit (MB) instead of a binary one',
    bad: yaml('version: 1', 'memory:', '  buf: {size: 2MB}'),
    at: [3, '2MB'],
    good: yaml('version: 1', 'memory:', '  buf: {size: 2MiB}'),
  },
  {
    code: 'invalid-name',
    why: 'an uppercase name',
    bad: yaml('version: 1', 'memory:', '  Buf: {size: 2MiB}'),
    at: [3, 'Buf'],
    good: yaml('version: 1', 'memory:', '  buf: {size: 2MiB}'),
  },
  {
    code: 'value-out-of-range',
    why: 'a size of 2^64',
    bad: yaml('version: 1', 'memory:', '  buf: {size: 0x1_0000_0000_0000_0000}'),
    at: [3, '0x1_'],
    good: yaml('version: 1', 'memory:', '  buf: {size: 0xffff_ffff_ffff_f000}'),
  },
  {
    code: 'unknown-memory',
    why: 'a mapping of an undefined region',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: bfu}'),
    at: [7, 'bfu'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}'),
  },
  {
    code: 'unknown-ioas',
    why: 'a copy from an undefined IOAS',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      c: {from: oi.m}'),
    at: [9, 'oi.m'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      c: {from: io.m}'),
  },
  {
    code: 'unknown-ioas',
    why: 'a device attached to an undefined IOAS',
    bad: yaml('version: 1', 'ioas:', '  io: {}', 'devices:', '  nic: {path: /dev/vfio/devices/vfio0, ioas: oi, profile: intel-vtd-39bit}'),
    at: [5, 'oi,'],
    good: yaml('version: 1', 'ioas:', '  io: {}', 'devices:', '  nic: {path: /dev/vfio/devices/vfio0, ioas: io, profile: intel-vtd-39bit}'),
  },
  {
    code: 'unknown-profile',
    why: 'a misspelled device profile',
    bad: yaml('version: 1', 'ioas:', '  io: {}', 'devices:', '  nic:', '    pci: 0000:00:03.0', '    ioas: io', '    profile: intel-vtd-38bit'),
    at: [8, 'intel-vtd-38bit'],
    good: yaml('version: 1', 'ioas:', '  io: {}', 'devices:', '  nic:', '    pci: 0000:00:03.0', '    ioas: io', '    profile: intel-vtd-39bit'),
  },
  {
    code: 'duplicate-device',
    why: 'two devices naming the same cdev',
    bad: yaml('version: 1', 'ioas:', '  io: {}', 'devices:', '  a: {path: /dev/vfio/devices/vfio0, ioas: io, profile: host}', '  b: {path: /dev/vfio/devices/vfio0, ioas: io, profile: host}'),
    at: [6, '/dev'],
    good: yaml('version: 1', 'ioas:', '  io: {}', 'devices:', '  a: {path: /dev/vfio/devices/vfio0, ioas: io, profile: host}', '  b: {path: /dev/vfio/devices/vfio1, ioas: io, profile: host}'),
  },
  {
    code: 'reserved-window',
    why: 'a fixed mapping in the MSI window of an attached VT-d device',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, iova: 0xfee00000}', 'devices:', '  nic: {path: /dev/vfio/devices/vfio0, ioas: io, profile: intel-vtd-39bit}'),
    at: [7, '0xfee00000'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, iova: 0xfef00000}', 'devices:', '  nic: {path: /dev/vfio/devices/vfio0, ioas: io, profile: intel-vtd-39bit}'),
  },
  {
    code: 'unknown-entry',
    why: 'a copy from an undefined mapping',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      c: {from: io.n}'),
    at: [9, 'io.n'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      c: {from: io.m}'),
  },
  {
    code: 'duplicate-name',
    why: 'a mapping and a copy with one name',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      m: {from: io.m}'),
    at: [9, 'm:'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      m2: {from: io.m}'),
  },
  {
    code: 'copy-cycle',
    why: 'two copies taking their pages from each other',
    bad: yaml('version: 1', 'ioas:', '  io:', '    copies:', '      a: {from: io.b}', '      b: {from: io.a}'),
    at: [5, 'io.b'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      a: {from: io.m}', '      b: {from: io.a}'),
  },
  {
    code: 'zero-length',
    why: 'a mapping of length 0',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, length: 0}'),
    at: [7, '0}'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, length: 1}'),
  },
  {
    code: 'mapping-out-of-range',
    why: 'offset + length past the end of the region',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, offset: 32KiB, length: 33KiB}'),
    at: [7, '33KiB'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, offset: 32KiB, length: 32KiB}'),
  },
  {
    code: 'memory-size-misaligned',
    why: 'a hugetlb region that is not a whole number of pages',
    bad: yaml('version: 1', 'memory:', '  pool:', '    size: 3MiB', '    backing: {kind: hugetlb, page_size: 2MiB}'),
    at: [4, '3MiB'],
    good: yaml('version: 1', 'memory:', '  pool:', '    size: 4MiB', '    backing: {kind: hugetlb, page_size: 2MiB}'),
  },
  {
    code: 'iova-overflow',
    why: 'a fixed IOVA whose range wraps past 2^64',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, iova: 0xffff_ffff_ffff_f000}'),
    at: [7, '0xffff'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, iova: 0xffff_ffff_fff0_0000}'),
  },
  {
    code: 'iova-overlap',
    why: 'two fixed mappings sharing their last/first page',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      a: {memory: buf, iova: 0x10000}', '      b: {memory: buf, iova: 0x1f000}'),
    at: [8, '0x1f000'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      a: {memory: buf, iova: 0x10000}', '      b: {memory: buf, iova: 0x20000}'),
  },
  {
    code: 'misaligned',
    why: 'a sub-page IOVA with huge_pages off',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    huge_pages: false', '    mappings:', '      m: {memory: buf, iova: 0x10800}'),
    at: [8, '0x10800'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    huge_pages: true', '    mappings:', '      m: {memory: buf, iova: 0x10800}'),
  },
  {
    code: 'allowed-range-inverted',
    why: 'a range with start > last',
    bad: yaml('version: 1', 'ioas:', '  io:', '    allowed_iovas:', '      - {start: 0x2000, last: 0x1000}'),
    at: [5, '{start'],
    good: yaml('version: 1', 'ioas:', '  io:', '    allowed_iovas:', '      - {start: 0x1000, last: 0x2000}'),
  },
  {
    code: 'allowed-range-overlap',
    why: 'two ranges sharing one byte',
    bad: yaml('version: 1', 'ioas:', '  io:', '    allowed_iovas:', '      - {start: 0x1000, last: 0x1fff}', '      - {start: 0x1fff, size: 0x1000}'),
    at: [6, '{start'],
    good: yaml('version: 1', 'ioas:', '  io:', '    allowed_iovas:', '      - {start: 0x1000, last: 0x1fff}', '      - {start: 0x2000, size: 0x1000}'),
  },
  {
    code: 'outside-allowed',
    why: 'a fixed mapping that sticks out of the allowed range',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    allowed_iovas: [{start: 0x100000, size: 1MiB}]', '    mappings:', '      m: {memory: buf, iova: 0x1f8000}'),
    at: [8, '0x1f8000'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    allowed_iovas: [{start: 0x100000, size: 1MiB}]', '    mappings:', '      m: {memory: buf, iova: 0x1f0000}'),
  },
  {
    code: 'copy-source-unmapped',
    why: 'a raw IOVA source with a hole between two mappings',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      a: {memory: buf, iova: 0x10000}', '      b: {memory: buf, iova: 0x21000}', '    copies:', '      c: {from: {ioas: io, iova: 0x18000, length: 64KiB}}'),
    at: [10, '{ioas'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      a: {memory: buf, iova: 0x10000}', '      b: {memory: buf, iova: 0x20000}', '    copies:', '      c: {from: {ioas: io, iova: 0x18000, length: 64KiB}}'),
  },
  {
    code: 'copy-out-of-entry',
    why: 'a sub-range that runs past the end of its mapping',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      c: {from: {mapping: io.m, offset: 60KiB, length: 8KiB}}'),
    at: [9, '{mapping'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf}', '    copies:', '      c: {from: {mapping: io.m, offset: 56KiB, length: 8KiB}}'),
  },
  {
    code: 'copy-access',
    why: 'a writable copy of a read-only mapping',
    bad: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, access: r}', '    copies:', '      c: {from: io.m, access: rw}'),
    at: [9, 'rw}'],
    good: yaml('version: 1', ...MEM, 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, access: r}', '    copies:', '      c: {from: io.m, access: r}'),
  },
];

describe('every diagnostic code has a failing and a passing case', () => {
  it('covers the whole code list (except unreadable-file and file-too-large, tested with load.ts)', () => {
    const covered = new Set<string>(CASES.map((c) => c.code));
    const missing = Object.keys(LAYOUT_CODES).filter((code) => !covered.has(code) && code !== 'unreadable-file' && code !== 'file-too-large');
    expect(missing).toEqual([]);
  });

  for (const c of CASES) {
    it(`${c.code}: ${c.why}`, () => {
      const bad = parseLayoutText(c.bad, 'bad.yaml');
      const hit = bad.diagnostics.find((d) => d.code === c.code);
      expect(hit, JSON.stringify(bad.diagnostics, null, 1)).toBeDefined();
      const [line, mark] = c.at;
      const column = typeof mark === 'number' ? mark : (c.bad.split('\n')[line - 1] ?? '').indexOf(mark) + 1;
      expect(column).toBeGreaterThan(0);
      expect([hit?.line, hit?.column]).toEqual([line, column]);
      expect(hit?.file).toBe('bad.yaml');
      expect(hit?.message.length).toBeGreaterThan(10);
      if (hit?.severity === 'error') expect(bad.layout).toBeUndefined();

      const good = parseLayoutText(c.good, 'good.yaml');
      expect(good.diagnostics).toEqual([]);
      expect(good.layout).toBeDefined();
    });
  }
});
