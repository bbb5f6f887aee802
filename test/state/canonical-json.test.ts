import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigintToHex, canonicalJson, hexToBigint, parseJson } from '../../src/state/canonical-json.js';
import { hasOnlySafeIntegers } from './helpers.js';

function text(value: unknown, indent?: number): string {
  const r = canonicalJson(value, indent === undefined ? {} : { indent });
  if (!r.ok) throw new Error(r.error.message);
  return r.text;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, independent of insertion order', () => {
    expect(text({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}');
    expect(text({ x: 1, y: 2 })).toBe(text({ y: 2, x: 1 }));
  });

  it('writes bigints as lowercase 0x hex strings, 64-bit values included', () => {
    expect(text({ iova: 0xffff_ffff_ffff_f000n, zero: 0n })).toBe('{"iova":"0xfffffffffffff000","zero":"0x0"}');
    expect(hexToBigint('0xfffffffffffff000')).toBe(0xffff_ffff_ffff_f000n);
  });

  it('indents deterministically when asked and parses back to the same value', () => {
    const value = { b: [1, 2, { c: 'x' }], a: {}, e: [] };
    const pretty = text(value, 2);
    expect(pretty).toBe('{\n  "a": {},\n  "b": [\n    1,\n    2,\n    {\n      "c": "x"\n    }\n  ],\n  "e": []\n}');
    const parsed = parseJson(pretty);
    expect(parsed.ok && parsed.value).toEqual(value);
  });

  it.each([
    ['undefined', { a: { b: undefined } }, 'a.b is undefined'],
    ['a function', { f: () => 1 }, 'f is a function'],
    ['NaN', { list: [1, Number.NaN] }, 'list[1] is NaN'],
    ['Infinity', [Number.POSITIVE_INFINITY], '[0] is Infinity'],
    ['a symbol', { s: Symbol('x') }, 's is a symbol'],
    ['a Map', { m: new Map() }, 'm is an instance of Map'],
    ['an unsafe integer', { n: 2 ** 60 }, 'n is the unsafe integer'],
    ['a sparse array', { holes: [1, , 3] }, 'holes[1] is a hole'],
  ])('rejects %s with the path to it', (_name, value, message) => {
    const r = canonicalJson(value);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('NOT_JSONABLE');
      expect(r.error.message).toContain(message);
    }
  });

  it('rejects cycles but accepts a shared (acyclic) sub-object twice', () => {
    const shared = { v: 1 };
    expect(text({ a: shared, b: shared })).toBe('{"a":{"v":1},"b":{"v":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const r = canonicalJson(cyclic);
    expect(!r.ok && r.error.message).toContain('cycle');
  });

  it('agrees with JSON.parse on every JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue().filter(hasOnlySafeIntegers), (value) => {
        const encoded = text(value);
        const parsed = parseJson(encoded);
        expect(parsed.ok).toBe(true);
        // JSON itself cannot tell -0 from 0; canonical form writes 0.
        if (parsed.ok) expect(text(parsed.value)).toBe(encoded);
        expect(parsed.ok && parsed.value).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('round-trips every bigint through its hex form (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }), (n) => {
        const hex = bigintToHex(n);
        expect(hex).toMatch(/^-?0x[0-9a-f]+$/);
        expect(hexToBigint(hex)).toBe(n);
      }),
    );
  });

  it('hexToBigint refuses what is not lowercase 0x hex', () => {
    for (const bad of ['0XFF', '0xFF', 'ff', '0x', '12', ' 0x1']) expect(hexToBigint(bad)).toBeUndefined();
  });

  it('parseJson reports bad text as a value', () => {
    const r = parseJson('{"a":');
    expect(r.ok).toBe(false);
  });
});
