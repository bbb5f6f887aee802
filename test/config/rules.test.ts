// Semantic rules beyond the one-case-per-code table: the kernel subtleties they encode.
import { describe, expect, it } from 'vitest';
import { parseLayoutText } from '../../src/config/parse.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;
const codes = (text: string) => parseLayoutText(text, 'r.yaml').diagnostics.map((d) => `${d.line} ${d.code}`);
const MEM = ['memory:', '  buf: {size: 64KiB}', '  ro: {size: 64KiB}'];

describe('semantic rules', () => {
  it('traces write access to the mapping that owns the pages, through copies of copies', () => {
    const text = (access: string) =>
      yaml('version: 1', ...MEM, 'ioas:', '  a:', '    mappings: {m: {memory: ro, access: r}}', '  b:', '    copies:', '      c1: {from: a.m, access: r}', `      c2: {from: b.c1, access: ${access}}`);
    expect(codes(text('rw'))).toEqual(['11 copy-access']);
    expect(codes(text('r'))).toEqual([]);
  });

  it('accepts a raw IOVA copy across back-to-back mappings and a copy, and rejects one with a gap', () => {
    const text = (secondIova: string) =>
      yaml(
        'version: 1',
        ...MEM,
        'ioas:',
        '  a:',
        '    mappings: {m1: {memory: buf, iova: 0x100000}}',
        `    copies: {c1: {from: a.m1, iova: ${secondIova}}}`,
        '  b:',
        '    copies: {span: {from: {ioas: a, iova: 0x108000, length: 64KiB}}}',
      );
    expect(codes(text('0x110000'))).toEqual([]);
    expect(codes(text('0x111000'))).toEqual(['10 copy-source-unmapped']);
  });

  it('reports each copy of a three-copy cycle, and nothing else about them', () => {
    const text = yaml('version: 1', 'ioas:', '  a:', '    copies:', '      x: {from: a.y}', '      y: {from: a.z}', '      z: {from: a.x}', '      w: {from: a.x}');
    expect(codes(text)).toEqual(['5 copy-cycle', '6 copy-cycle', '7 copy-cycle']);
  });

  it('checks copy alignment against the memory offset behind the source', () => {
    const text = (offset: string) =>
      yaml('version: 1', ...MEM, 'ioas:', '  a:', `    mappings: {m: {memory: buf, offset: ${offset}, length: 16KiB}}`, '  b:', '    huge_pages: false', '    copies: {c: {from: a.m}}');
    expect(codes(text('0x800'))).toEqual(['10 misaligned']);
    expect(codes(text('0x1000'))).toEqual([]);
  });

  it('refuses the last IOVA even for one byte, as the kernel does, and accepts the byte before', () => {
    const text = (iova: string) => yaml('version: 1', ...MEM, 'ioas:', '  a:', `    mappings: {m: {memory: buf, length: 1, iova: ${iova}}}`);
    expect(codes(text('0xffff_ffff_ffff_ffff'))).toEqual(['7 iova-overflow']);
    expect(codes(text('0xffff_ffff_ffff_fffe'))).toEqual([]);
  });

  it('allows any alignment with huge_pages on (a plain IOAS has iova_alignment 1)', () => {
    expect(codes(yaml('version: 1', ...MEM, 'ioas:', '  a:', '    mappings: {m: {memory: buf, offset: 3, length: 5, iova: 0x1001}}'))).toEqual([]);
  });

  it('treats adjacent allowed ranges as one window', () => {
    const text = yaml(
      'version: 1',
      ...MEM,
      'ioas:',
      '  a:',
      '    allowed_iovas: [{start: 0x10000, last: 0x17fff}, {start: 0x18000, last: 0x2ffff}]',
      '    mappings: {m: {memory: buf, iova: 0x10000}}',
    );
    expect(codes(text)).toEqual([]);
  });

  it('finds overlaps between a fixed copy and a fixed mapping, reporting the later one', () => {
    const text = yaml('version: 1', ...MEM, 'ioas:', '  a:', '    mappings: {m: {memory: buf, iova: 0x20000}}', '    copies:', '      c: {from: a.m, iova: 0x28000, access: r}', '      d: {from: a.m, iova: 0x40000}');
    expect(codes(text)).toEqual(['9 iova-overlap']);
  });

  it('does not pile up follow-up errors on an element that is already broken', () => {
    // `m` names no region, so its length is unknown: no range, overlap or copy errors follow.
    const text = yaml('version: 1', ...MEM, 'ioas:', '  a:', '    mappings:', '      m: {memory: nope, iova: 0x10000}', '      n: {memory: buf, iova: 0x10000}', '    copies: {c: {from: a.m}}');
    expect(codes(text)).toEqual(['8 unknown-memory']);
  });
});
