import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { generateLayout } from '../../bench/generate.js';
import { readCommonYaml } from '../../src/config/fast-yaml.js';
import { parseLayoutText } from '../../src/config/parse.js';

// The fast path's promise: whenever it accepts a document, yaml (the options parse.ts uses, with
// its own duplicate-key check) reports no error and no warning for it, and its plain value is
// exactly the fast path's (bigints, -0, NaN, key order included).

function yamlRead(text: string): { problems: number; value?: unknown } {
  const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: false, logLevel: 'silent' });
  const problems = doc.errors.length + doc.warnings.length;
  return problems > 0 ? { problems } : { problems, value: doc.toJS({ maxAliasCount: 100 }) };
}

/** Strict structural equality: Object.is on leaves, same key order, plain arrays and objects. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Checks the promise for one text; returns whether the fast path accepted it. */
function agrees(text: string): boolean {
  const fast = readCommonYaml(text);
  if (!fast.ok) return false;
  const slow = yamlRead(text);
  expect({ text, problems: slow.problems }).toEqual({ text, problems: 0 });
  if (!sameValue(fast.value, slow.value)) expect({ text, value: fast.value }).toEqual({ text, value: slow.value });
  expect(sameValue(fast.value, slow.value)).toBe(true);
  return true;
}

/** Documents per property; IOASFORM_FAST_YAML_RUNS raises it for a long soak. */
const RUNS = Number(process.env['IOASFORM_FAST_YAML_RUNS'] ?? 3000);

// ---- a generator of YAML text: the layout format's shapes and YAML's scalar forms ----

const digits = (alphabet: string, min: number, max: number) =>
  fc.array(fc.constantFrom(...alphabet.split('')), { minLength: min, maxLength: max }).map((d) => d.join(''));
const sign = fc.constantFrom('', '', '-', '+');
const withUnderscores = (s: string, cut: number) => (cut > 0 && cut < s.length ? `${s.slice(0, cut)}_${s.slice(cut)}` : s);

const intScalar = fc.oneof(
  fc.tuple(sign, digits('0123456789', 1, 22)).map(([s, d]) => s + d),
  fc.tuple(fc.constantFrom('0x', '0X', '-0x', '+0x'), digits('0123456789abcdefABCDEF', 1, 18)).map(([p, d]) => p + d),
  fc.tuple(fc.constantFrom('0o', '0O', '-0o', '0'), digits('01234567', 1, 22)).map(([p, d]) => p + d),
  fc.tuple(fc.constantFrom('0b', '-0b'), digits('01', 1, 64)).map(([p, d]) => p + d),
  fc.tuple(fc.constantFrom('', '0x', '0o'), digits('0123456789', 2, 12), fc.nat(12)).map(([p, d, cut]) => p + withUnderscores(d, cut)),
  fc.constantFrom('0x1000_0000', '0x10_0000', '1_000', '0', '-0', '+0', '00', '0x', '0o', '190:20:30'),
);
const floatScalar = fc.oneof(
  fc.tuple(sign, digits('0123456789', 0, 6), fc.constantFrom('.', ''), digits('0123456789', 0, 6), fc.constantFrom('', 'e', 'E', 'e-', 'e+'), digits('0123456789', 0, 3)).map(
    ([s, i, dot, f, e, x]) => s + i + dot + f + (e === '' ? '' : e + x),
  ),
  fc.constantFrom('.inf', '-.Inf', '+.INF', '.NaN', '.nan', '.NAN', '-.nan', '.iNf', 'inf', 'NaN', '1.0', '-0.0', '1e400', '1_0.5', '6.8523015e+5', '.5', '5.'),
);
const boolNullScalar = fc.constantFrom('true', 'True', 'TRUE', 'tRue', 'false', 'False', 'FALSE', 'yes', 'No', 'on', 'OFF', 'y', 'null', 'Null', 'NULL', 'nULL', '~', '');
const word = digits('abcxyz-_./019', 1, 10).filter((w) => !w.startsWith('-'));
const plainText = fc.oneof(
  word,
  fc.tuple(word, fc.constantFrom(' ', '  ', ' #', '#', ':', ': ', ' - ', '%', '@', '`', '!', '&', '*', "'", '"', '\t', ' ,', '[', '}'), word).map(([a, m, b]) => a + m + b),
  fc.constantFrom('16MiB', '4 KiB', 'rw', 'r', 'anonymous', 'memfd', 'a.b', 'x:y', 'http://e.x/y', '-', '- x', ':', '?', '? x', '|', '>', '#x', 'a #b', '<<', '=', '1:2', '12:30:45', '2001-12-14', '0x1g'),
);
const singleQuoted = fc.string({ maxLength: 12, unit: fc.constantFrom('a', ' ', "''", '"', '\\', '#', ':', '\n', 'é', '\t') }).map((s) => `'${s}'`);
const doubleQuoted = fc
  .array(fc.constantFrom('a', ' ', '\\"', '\\\\', '\\n', '\\t', '\\x41', '\\u00e9', '\\U0001F600', '\\0', '\\/', '\\ ', "'", '#', ':', '\n', '\\\n', '\\q', '\\x4'), { maxLength: 10 })
  .map((parts) => `"${parts.join('')}"`);
const scalar = fc.oneof(intScalar, floatScalar, boolNullScalar, plainText, singleQuoted, doubleQuoted);

const blockScalar = (indent: string) =>
  fc
    .tuple(
      fc.constantFrom('|', '|-', '|+', '>', '>-', '>+', '|2', '>1', '|-2'),
      fc.array(fc.tuple(fc.constantFrom('', ' ', '  ', '   '), fc.oneof(plainText, fc.constant(''), fc.constant('#not a comment'))), { minLength: 0, maxLength: 4 }),
      fc.constantFrom('', '\n', '\n\n'),
    )
    .map(([header, lines, tail]) => `${header}\n${lines.map(([extra, l]) => (l === '' ? '' : `${indent}  ${extra}${l}`)).join('\n')}\n${tail}`);

const keyText = fc.oneof(
  { weight: 6, arbitrary: word },
  { weight: 1, arbitrary: fc.constantFrom('1', '0x1', '"1"', "'a b'", '"a"', 'null', '~', 'true', '1.5', '.nan', '<<', '[a]', '{a: 1}', '[a, b]', '"__proto__"', 'a b', '? x', '&k a', '!!str s', 'x' .repeat(300)) },
);
const comment = fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(' # c', '  #: x', ' #- [x]', ' # & * ! %') });
const flowItem = fc.oneof(scalar.filter((s) => !s.includes('\n')), fc.constantFrom('[]', '{}', '[1, 2]', '{a: 1, b: [x]}', 'a: b'));
const flowSeq = fc.tuple(fc.array(flowItem, { maxLength: 4 }), fc.constantFrom(', ', ',', ' , '), fc.boolean()).map(([items, sep, trailing]) => `[${items.join(sep)}${trailing && items.length > 0 ? ',' : ''}]`);
const flowMap = fc
  .tuple(fc.array(fc.tuple(word, flowItem), { maxLength: 4 }), fc.constantFrom(', ', ','))
  .map(([pairs, sep]) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(sep)}}`);
const multiLineFlow = (indent: string) =>
  fc.tuple(fc.array(flowItem, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '  ', '    ')).map(([items, end]) => `[\n${items.map((i) => `${indent}    ${i}`).join(',\n')}\n${indent}${end}]`);
const properties = fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('&a ', '!!str ', '!!int ', '!local ', '! ', '*a') });

type Gen = fc.Arbitrary<string>;

/** A block node at `depth`, written after `key:` or `- ` (so it starts with its own line break or a space). */
function blockValue(depth: number): Gen {
  const indent = '  '.repeat(depth);
  const leaves: Gen[] = [
    fc.tuple(properties, scalar.filter((s) => !s.includes('\n')), comment).map(([p, s, c]) => ` ${p}${s}${c}`),
    fc.tuple(properties, flowSeq, comment).map(([p, s, c]) => ` ${p}${s}${c}`),
    fc.tuple(flowMap, comment).map(([m, c]) => ` ${m}${c}`),
    blockScalar(indent).map((b) => ` ${b.replace(/\n$/, '')}`),
    multiLineFlow(indent).map((f) => ` ${f}`),
    scalar.map((s) => ` ${s}`),
  ];
  if (depth >= 3) return fc.oneof(...leaves);
  const nested: Gen[] = [
    fc.array(fc.tuple(keyText, fc.constant(null)).chain(([k]) => blockValue(depth + 1).map((v) => `${indent}  ${k}:${v}`)), { minLength: 1, maxLength: 4 }).map((lines) => `\n${lines.join('\n')}`),
    fc.array(blockValue(depth + 1).map((v) => `${indent}  -${v}`), { minLength: 1, maxLength: 3 }).map((lines) => `\n${lines.join('\n')}`),
    fc.array(blockValue(depth + 1).map((v) => `${indent}-${v}`), { minLength: 1, maxLength: 3 }).map((lines) => `\n${lines.join('\n')}`),
  ];
  return fc.oneof({ weight: 3, arbitrary: fc.oneof(...leaves) }, { weight: 2, arbitrary: fc.oneof(...nested) });
}

const topMap: Gen = fc
  .tuple(
    fc.constantFrom('', '---\n', '# header\n', '\ufeff', '--- # doc\n', '%YAML 1.2\n---\n'),
    fc.array(fc.tuple(keyText, blockValue(0), fc.constantFrom('', '', '\n', '\n# own line\n')), { minLength: 1, maxLength: 5 }),
    fc.constantFrom('', '\n', '...\n', '\n---\nb: 1\n'),
  )
  .map(([head, pairs, tail]) => `${head}${pairs.map(([k, v, gap]) => `${k}:${v}${gap}`).join('\n')}\n${tail}`);
const document: Gen = fc.oneof({ weight: 5, arbitrary: topMap }, { weight: 1, arbitrary: blockValue(0).map((v) => `-${v}\n`) }, { weight: 1, arbitrary: fc.oneof(flowSeq, flowMap, scalar) });

/** Random small edits, to reach the documents yaml rejects or warns about. */
const mutated: Gen = fc
  .tuple(document, fc.array(fc.tuple(fc.nat(), fc.constantFrom(' ', '\t', '\n', ':', '- ', '#', '"', "'", '[', ']', '{', '}', ',', '|', '&a ', '*a', '? ', '\r\n', ''), fc.nat(3)), { minLength: 1, maxLength: 3 }))
  .map(([text, edits]) =>
    edits.reduce((t, [at, insert, remove]) => {
      const i = t.length === 0 ? 0 : at % t.length;
      return t.slice(0, i) + insert + t.slice(i + remove);
    }, text),
  );

describe('readCommonYaml (the fast path) against yaml', () => {
  it('random documents: accepted ones have exactly yaml value, and yaml reports nothing', () => {
    let accepted = 0;
    let total = 0;
    fc.assert(
      fc.property(document, (text) => {
        total += 1;
        if (agrees(text)) accepted += 1;
      }),
      { numRuns: RUNS },
    );
    // The property is only worth something if the fast path takes a good share of them.
    expect(accepted / total).toBeGreaterThan(0.15);
  });

  it('randomly edited documents: never accepts one yaml rejects or warns about', () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutated, (text) => {
        if (agrees(text)) accepted += 1;
      }),
      { numRuns: RUNS },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  const cases: Record<string, [text: string, accepted: boolean]> = {
    'ints in every base are bigints': ['a: 12\nb: 0x1F\nc: 0o17\nd: -5\ne: +7\n', true],
    '0x1000_0000 and 0b1 are strings (YAML 1.2 core)': ['a: 0x1000_0000\nb: 0b1\nc: 1_000\n', true],
    'floats, infinities and NaN': ['a: 1.5\nb: -.inf\nc: .NaN\nd: 1e3\ne: -0.0\n', true],
    'yes/no/on are strings': ['a: yes\nb: off\n', true],
    'null forms and empty values': ['a: ~\nb:\nc: Null\n', true],
    'block scalars': ['a: |\n  x\n   y\nb: >-\n  p\n  q\n', true],
    'anchors and aliases': ['a: &x 1\nb: *x\n', false],
    'tags': ['a: !!str 1\n', false],
    'duplicate keys': ['a: 1\na: 2\n', false],
    'merge keys': ['a: {x: 1}\nb:\n  <<: {y: 2}\n', false],
    'a null key': ['~: 1\n', false],
    'a collection key': ['[a]: 1\n', false],
    'explicit keys': ['? a\n: 1\n', false],
    'a %YAML 1.1 directive': ['%YAML 1.1\n---\na: 0b1\n', false],
    'several documents': ['a: 1\n---\nb: 2\n', false],
    'a document of comments only (null, as in yaml)': ['# nothing\n', true],
    'tabs': ['a:\t1\n', false],
    'an empty sequence entry (js-yaml reads it differently)': ['- -\n- x\n', false],
    'a syntax error': ['a: [1, 2\n', false],
    'a flow end at its parent indentation (yaml warns)': ['a:\n  - [\n    1\n  ]\n', false],
  };
  for (const [name, [text, accepted]] of Object.entries(cases)) {
    it(`${name}: ${accepted ? 'accepted' : 'declined'}`, () => {
      expect(readCommonYaml(text).ok).toBe(accepted);
      agrees(text);
    });
  }
});

describe('parseLayoutText with and without the fast path', () => {
  const examples = readdirSync(new URL('../../examples/', import.meta.url)).filter((f) => f.endsWith('.yaml'));
  const texts: [string, string][] = [
    ...examples.map((f): [string, string] => [f, readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8')]),
    ['generated 300', generateLayout({ count: 300, seed: 7 }).text],
    ['generated 300, 1% changed', generateLayout({ count: 300, seed: 7, changedFraction: 0.01 }).text],
  ];
  for (const [name, text] of texts) {
    it(`${name}: the fast path reads it, and the result is the yaml path's`, () => {
      expect(readCommonYaml(text).ok).toBe(true);
      expect(agrees(text)).toBe(true);
      const fast = parseLayoutText(text, name);
      expect(fast).toStrictEqual(parseLayoutText(text, name, { fastPath: false }));
      expect(fast.layout).toBeDefined();
    });
  }

  it('layouts with semantic and shape errors: the same diagnostics either way (positions from yaml)', () => {
    const base = readFileSync(new URL('../../examples/test-lab.yaml', import.meta.url), 'utf8');
    const lines = base.split('\n');
    // Lines of `key: value` (outside comments): their values are replaced, or a bogus sibling key
    // is written next to them, so the YAML stays well-formed and the errors are the layout's.
    const pairs = lines.flatMap((line, at) => (/^\s*[a-z_]+: \S/.test(line) ? [at] : []));
    const value = fc.constantFrom('nowhere', '0x1', '3', 'rwx', '-1', '1GiB', '{kind: hugetlb}', '[]', 'yes', '0x1_0000_0000_0000_0000', '');
    const edit = fc.tuple(fc.constantFrom(...pairs), fc.boolean(), value).map(([at, sibling, v]) => {
      const line = lines[at]!;
      const indent = line.slice(0, line.length - line.trimStart().length);
      const key = line.trim().split(':')[0]!;
      const replaced = sibling ? [line, `${indent}bogus_${key}: ${v}`] : [`${indent}${key}: ${v}`];
      return [...lines.slice(0, at), ...replaced, ...lines.slice(at + 1)].join('\n');
    });
    let withErrors = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 1 }), ([text]) => {
        const fast = parseLayoutText(text!, 'edited.yaml');
        expect(fast).toStrictEqual(parseLayoutText(text!, 'edited.yaml', { fastPath: false }));
        if (readCommonYaml(text!).ok && fast.diagnostics.length > 0) withErrors += 1;
      }),
      { numRuns: 150 },
    );
    expect(withErrors).toBeGreaterThan(50);
  });
});
