// The state file is read through compactJsonBytes (whitespace outside strings removed from the
// bytes) before JSON.parse. It must give exactly what parsing the file's text gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactJsonBytes } from '../../src/state/json-whitespace.js';

const compactParse = (text: string): unknown => {
  const bytes = Buffer.from(text, 'utf8');
  return JSON.parse(bytes.toString('utf8', 0, compactJsonBytes(bytes)));
};

// Strings full of what the compactor looks at: spaces, tabs, newlines, quotes, backslashes, and
// multi-byte characters.
const tricky = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r', '"', '\\', 'a', '0', '{', ':', ',', 'é', '€', '😀', '\u0000') });
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tricky, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 4 }),
  object: fc.dictionary(tricky, tie('node'), { maxKeys: 4 }),
})).node;

describe('compactJsonBytes', () => {
  it('parses to the same value as the text, compact or indented, with whitespace anywhere between tokens', () => {
    const space = fc.constantFrom('', ' ', '\n  ', '\t', '\r\n', '   \n');
    fc.assert(
      fc.property(value, fc.constantFrom(0, 1, 2, '\t'), fc.array(space, { minLength: 1, maxLength: 8 }), (v, indent, spaces) => {
        const text = JSON.stringify(v, null, indent);
        // Extra whitespace after every structural character outside strings (the original text
        // parses the same with it, so it is still a fair input).
        let k = 0;
        let inString = false;
        let padded = spaces[0]!;
        for (let i = 0; i < text.length; i++) {
          const c = text[i]!;
          padded += c;
          if (inString) {
            if (c === '\\') padded += text[++i]!;
            else if (c === '"') inString = false;
          } else if (c === '"') inString = true;
          else if ('{}[],:'.includes(c)) padded += spaces[++k % spaces.length]!;
        }
        expect(compactParse(padded)).toStrictEqual(JSON.parse(padded));
        expect(compactParse(text)).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves strings byte for byte, drops only what is outside them', () => {
    const text = '{\n  "a b": " x\\" \\\\ y ",\n  "c": [ 1 , 2 ]\n}\n';
    const bytes = Buffer.from(text, 'utf8');
    expect(bytes.toString('utf8', 0, compactJsonBytes(bytes))).toBe('{"a b":" x\\" \\\\ y ","c":[1,2]}');
  });

  it('invalid JSON stays invalid (a truncated file, a lone backslash at the end)', () => {
    for (const text of ['{\n  "body": {\n    "ioas": [', '{"a": "b\\', '   ', '']) {
      expect(() => compactParse(text)).toThrow();
    }
  });

  it('does not join two tokens that whitespace kept apart (a hand-broken number or literal stays invalid)', () => {
    for (const text of ['{"serial": 1 2}', '{"a": t rue}', '{"a": nu\nll}', '[1\t.5]', '[-\r\n1]', '{"a": 1 e5}', '[fals e]']) {
      expect(() => JSON.parse(text)).toThrow();
      expect(() => compactParse(text)).toThrow();
    }
  });

  it('parses exactly when the text parses, to the same value, for random token soups', () => {
    const piece = fc.constantFrom('1', '2', '-', '.', 'e', 'true', 'null', 'fa', 'lse', '"x y"', '[', ']', '{', '}', ':', ',', ' ', '\n', '\t', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join('');
        let expected: { ok: true; value: unknown } | { ok: false };
        try {
          expected = { ok: true, value: JSON.parse(text) };
        } catch {
          expected = { ok: false };
        }
        let got: { ok: true; value: unknown } | { ok: false };
        try {
          got = { ok: true, value: compactParse(text) };
        } catch {
          got = { ok: false };
        }
        expect(got).toStrictEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });
});
