import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { hasDuplicateKeys } from '../../src/config/duplicate-keys.js';
import { parseLayoutText } from '../../src/config/parse.js';

// The linear check must find a repeat exactly when yaml's own quadratic `uniqueKeys: true` does.
const yamlFinds = (text: string): boolean =>
  parseDocument(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: false }).errors.some((e) => e.code === 'DUPLICATE_KEY');
const weFind = (text: string): boolean => hasDuplicateKeys(parseDocument(text, { intAsBigInt: true, uniqueKeys: false }));

const cases: Record<string, [text: string, duplicate: boolean]> = {
  'block map': ['a: 1\nb: 2\na: 3\n', true],
  'nested flow map': ['io:\n  m: {x: 1, x: 2}\n', true],
  'flow map': ['{a: 1, b: 2,   a: 3}\n', true],
  'in a sequence': ['- a: 1\n  a: 2\n', true],
  'anchor and tag on the key': ['a: 1\n&k a: 2\n', true],
  'integer and hex are the same bigint': ['1: a\n0x1: b\n', true],
  'string vs integer': ['"1": a\n1: b\n', false],
  'null keys': ['? \n: 1\n~: 2\n', true],
  'NaN never equals itself': ['.nan: 1\n.nan: 2\n', false],
  'collection keys compare by identity': ['? [a]\n: 1\n? [a]\n: 2\n', false],
  'a map used as a key': ['? {a: 1, a: 2}\n: v\n', true],
  'explicit keys': ['? a\n: 1\n? a\n: 2\n', true],
  'same key in different maps': ['a: {b: 1}\nb: {a: 1}\n', false],
  'repeat after an empty value': ['  a: \n  a: 1\n', true],
};

describe('hasDuplicateKeys', () => {
  for (const [name, [text, duplicate]] of Object.entries(cases)) {
    it(`${name}: ${duplicate ? 'found' : 'none'}, like yaml uniqueKeys`, () => {
      expect(yamlFinds(text)).toBe(duplicate);
      expect(weFind(text)).toBe(duplicate);
    });
  }

  it('agrees with yaml on random small documents', () => {
    const key = fc.constantFrom('a', 'b', '1', '0x1', '"a"', "'b'", '~', '&x a', '!!str b', '? a\n:');
    const value = fc.constantFrom('1', '{a: 1, a: 2}', '{a: 1, b: 2}', '[1]', '');
    const line = fc.tuple(fc.nat(2), key, value).map(([indent, k, v]) => `${'  '.repeat(indent)}${k}: ${v}`);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const text = lines.join('\n') + '\n';
        expect(weFind(text)).toBe(yamlFinds(text));
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('parseLayoutText still reports a repeated key at the position yaml gives', () => {
    const text = 'version: 1\nmemory:\n  buf: {size: 4KiB}\n  buf: {size: 8KiB}\n';
    const result = parseLayoutText(text, 'dup.yaml');
    expect(result.layout).toBeUndefined();
    const duplicate = result.diagnostics.filter((d) => d.code === 'duplicate-key');
    expect(duplicate).toHaveLength(1);
    expect(duplicate[0]).toMatchObject({ line: 4, column: 3 });
  });
});
