import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadLayoutFile } from '../../src/config/load.js';
import { parseLayoutText } from '../../src/config/parse.js';
import type { Layout } from '../../src/model/layout.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function layoutOf(text: string): Layout {
  const result = parseLayoutText(text, 't.yaml');
  expect(result.diagnostics).toEqual([]);
  if (!result.layout) throw new Error('no layout');
  return result.layout;
}

describe('normalization', () => {
  it('fills every default', () => {
    const layout = layoutOf(yaml('version: 1', 'memory:', '  buf: {size: 64KiB}', 'ioas:', '  io:', '    mappings:', '      m: {memory: buf, offset: 4KiB}'));
    expect(layout).toEqual({
      version: 1,
      options: { rlimitMode: 'user' },
      memory: [{ name: 'buf', size: 0x10000n, backing: { kind: 'anonymous' } }],
      ioas: [
        {
          name: 'io',
          allowedIovas: [],
          hugePages: true,
          mappings: [{ name: 'm', memory: 'buf', offset: 0x1000n, length: 0xf000n, iova: null, access: 'rw' }],
          copies: [],
        },
      ],
    });
  });

  it('reads every backing kind, option and range form', () => {
    const layout = layoutOf(
      yaml(
        'version: 1',
        'options: {rlimit_mode: process}',
        'memory:',
        '  a: {size: 4MiB, backing: {kind: hugetlb, page_size: 2MiB}}',
        '  b: {size: 4KiB, backing: {kind: memfd}}',
        '  c: {size: 4KiB, backing: {kind: file, path: /dev/shm/c}}',
        'ioas:',
        '  io:',
        '    huge_pages: false',
        '    allowed_iovas:',
        '      - {start: 0x1000, last: 0x1fff}',
        '      - {start: 0x1_0000_0000, size: 1GiB}',
      ),
    );
    expect(layout.options.rlimitMode).toBe('process');
    expect(layout.memory.map((m) => m.backing)).toEqual([
      { kind: 'hugetlb', pageSize: 0x200000n },
      { kind: 'memfd' },
      { kind: 'file', path: '/dev/shm/c' },
    ]);
    expect(layout.ioas[0]?.hugePages).toBe(false);
    expect(layout.ioas[0]?.allowedIovas).toEqual([
      { start: 0x1000n, last: 0x1fffn },
      { start: 0x100000000n, last: 0x13fffffffn },
    ]);
  });

  it('normalizes the three copy forms, resolving default lengths through copies of copies', () => {
    const layout = layoutOf(
      yaml(
        'version: 1',
        'memory:',
        '  buf: {size: 64KiB}',
        'ioas:',
        '  src:',
        '    mappings:',
        '      m: {memory: buf, iova: 0x100000}',
        '  dst:',
        '    copies:',
        '      whole: {from: src.m}',
        '      part: {from: {mapping: src.m, offset: 8KiB}, access: r}',
        '      again: {from: dst.part, iova: 0x200000}',
        '      raw: {from: {ioas: src, iova: 0x101000, length: 4KiB}}',
      ),
    );
    expect(layout.ioas[1]?.copies).toEqual([
      { name: 'whole', from: { kind: 'entry', ioas: 'src', entry: 'm', offset: 0n, length: 0x10000n }, iova: null, access: 'rw' },
      { name: 'part', from: { kind: 'entry', ioas: 'src', entry: 'm', offset: 0x2000n, length: 0xe000n }, iova: null, access: 'r' },
      { name: 'again', from: { kind: 'entry', ioas: 'dst', entry: 'part', offset: 0n, length: 0xe000n }, iova: 0x200000n, access: 'rw' },
      { name: 'raw', from: { kind: 'iova', ioas: 'src', iova: 0x101000n, length: 0x1000n }, iova: null, access: 'rw' },
    ]);
  });
});

describe('64-bit precision', () => {
  it('keeps 0xffff_ffff_ffff_f000 exact in every spelling', () => {
    for (const spelling of ['0xffff_ffff_ffff_f000', '0xfffffffffffff000', '18446744073709547520', '"0xffff_ffff_ffff_f000"']) {
      const layout = layoutOf(yaml('version: 1', 'memory:', '  buf: {size: 4KiB}', 'ioas:', '  io:', '    mappings:', `      m: {memory: buf, iova: ${spelling}}`));
      const iova = layout.ioas[0]?.mappings[0]?.iova;
      expect(typeof iova).toBe('bigint');
      expect(iova).toBe(0xfffffffffffff000n);
      expect(iova).not.toBe(BigInt(Number(0xfffffffffffff000n)) - 1n); // a float round trip would land elsewhere
    }
  });

  it('keeps sizes above 2^53 exact', () => {
    const layout = layoutOf(yaml('version: 1', 'memory:', '  big: {size: 9007199254740993}'));
    expect(layout.memory[0]?.size).toBe(9007199254740993n);
  });
});

describe('reporting', () => {
  it('reports every problem of a broken layout in one run, in source order', () => {
    const result = parseLayoutText(
      yaml(
        'version: 1',
        'memory:',
        '  buf: {size: 64KiB, backng: {kind: memfd}}',
        'ioas:',
        '  io:',
        '    huge_pages: false',
        '    mappings:',
        '      a: {memory: buf, iova: 0x10000}',
        '      b: {memory: buf, iova: 0x18000}',
        '      c: {memory: nope}',
        '      d: {memory: buf, iova: 0x80001}',
      ),
      'broken.yaml',
    );
    expect(result.layout).toBeUndefined();
    expect(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`)).toEqual([
      '3:22 unknown-key',
      '9:30 iova-overlap',
      '10:19 unknown-memory',
      '11:30 misaligned',
    ]);
    expect(result.diagnostics.every((d) => d.file === 'broken.yaml')).toBe(true);
  });

  it('keeps the layout when there are only warnings', () => {
    const result = parseLayoutText(yaml('version: 1', 'memory: {buf: {size: 4KiB}}', 'ioas:', '  io:', '    allowed_iovas: [{start: 0x10000, size: 4KiB}]', '    mappings: {m: {memory: buf, iova: 0x20000}}'));
    expect(result.diagnostics.map((d) => d.severity)).toEqual(['warning']);
    expect(result.layout?.ioas[0]?.mappings[0]?.iova).toBe(0x20000n);
  });

  it('reports YAML errors with positions and stops there', () => {
    const result = parseLayoutText('version: 1\nmemory:\n  buf: {size: 4KiB\n', 'y.yaml');
    expect(result.layout).toBeUndefined();
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expect(result.diagnostics.every((d) => d.code === 'yaml-syntax' && d.line !== undefined)).toBe(true);
  });

  it('treats an empty document, a scalar and several documents as invalid', () => {
    expect(parseLayoutText('', 'e.yaml').diagnostics.map((d) => d.code)).toEqual(['invalid-type']);
    expect(parseLayoutText('hello\n', 'e.yaml').diagnostics.map((d) => d.code)).toEqual(['invalid-type']);
    expect(parseLayoutText('version: 1\n---\nversion: 1\n', 'e.yaml').diagnostics.map((d) => d.code)).toContain('yaml-syntax');
  });

  it('never throws, whatever the input', () => {
    const fragments = fc.constantFrom('version: 1\n', 'memory:\n', '  a: ', '{size: ', '0x1_0', '2MiB', '}\n', '[', ']', '&x ', '*x', '- ', ': ', '"', "'", '\t', '\n', '#', 'ioas:', 'mappings:', 'copies:', 'from: ', 'a.b', '!!binary ', '%YAML 1.1\n', '---\n', '? ');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fragments, { maxLength: 40 }).map((parts) => parts.join(''))), (text) => {
        const result = parseLayoutText(text, 'fuzz.yaml');
        for (const d of result.diagnostics) {
          expect(typeof d.message).toBe('string');
          expect(d.line).toBeGreaterThanOrEqual(1);
        }
        expect(result.layout === undefined || result.diagnostics.every((d) => d.severity === 'warning')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('loadLayoutFile', () => {
  it('turns a missing file into an unreadable-file diagnostic', async () => {
    const result = await loadLayoutFile('/nonexistent/dir/layout.yaml');
    expect(result.layout).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual(['unreadable-file']);
  });

  it('loads a file and returns its text for snippets', async () => {
    const result = await loadLayoutFile(new URL('../../examples/test-lab.yaml', import.meta.url).pathname);
    expect(result.diagnostics).toEqual([]);
    expect(result.text).toContain('yaml-language-server');
  });
});
