// A light reader for the common subset of YAML, to keep the memory of big layouts low.
//
// yaml's parseDocument builds a CST and a Document (a node per scalar, pair and map, with source
// ranges) before the plain value: the 7.2 MB layout of 100k mappings peaks at ~650 MB RSS. js-yaml
// builds plain values directly (~170 MB for the same file). This module reads a document with
// js-yaml under a schema that resolves plain scalars exactly as yaml's YAML 1.2 core schema does
// with `intAsBigInt: true` (the same regular expressions, in the same order), and DECLINES
// everything outside the common subset, where the two libraries could disagree or where yaml
// would report an error or a warning:
//   - any js-yaml error or warning (syntax, duplicate keys, several documents, ...);
//   - tabs, carriage returns, byte order marks, content after `---`, `#` after a non-space, keep chomping and indentation
//     indicators on block scalars (`|+`, `>2`), escaped line breaks, empty block sequence
//     entries: where the two libraries read differently (see below);
//   - directives (`%YAML 1.1` switches yaml's schema), explicit keys (`? `), tags, anchors and
//     aliases, merge keys (`<<`), collection keys, null keys, very long keys (yaml limits an
//     implicit key to 1024 characters of source);
//   - a multi-line flow collection whose closing bracket starts its line (yaml warns about it);
//   - in a flow mapping, a key without `:` or a collection key (`{a, b: 1}`, `{[x]: 1}`).
// A declined document goes through yaml as before, and yaml alone produces every diagnostic, so
// the fast path never changes a message. test/config/fast-yaml.test.ts checks, on random
// documents, that an accepted document has exactly yaml's value and no yaml error or warning.

import jsyaml from 'js-yaml';

export type FastRead = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

/** Private tags: an explicit tag in the text can never resolve to them, so any other tag declines. */
const TAG_PREFIX = 'tag:ioasform.fast,2026:';

interface CoreScalar {
  readonly name: string;
  readonly test: RegExp;
  readonly value: (source: string) => unknown;
}

// yaml 2's core schema (node_modules/yaml/dist/schema/core/*.js), in its order; ints are bigints.
const CORE_SCALARS: readonly CoreScalar[] = [
  { name: 'null', test: /^(?:~|[Nn]ull|NULL)?$/, value: () => null },
  { name: 'bool', test: /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, value: (s) => s[0] === 't' || s[0] === 'T' },
  { name: 'int-oct', test: /^0o[0-7]+$/, value: (s) => BigInt(s) },
  { name: 'int', test: /^[-+]?[0-9]+$/, value: (s) => BigInt(s) },
  { name: 'int-hex', test: /^0x[0-9a-fA-F]+$/, value: (s) => BigInt(s) },
  {
    name: 'float-nan',
    test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
    value: (s) => (s.slice(-3).toLowerCase() === 'nan' ? Number.NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY),
  },
  { name: 'float-exp', test: /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, value: (s) => parseFloat(s) },
  { name: 'float', test: /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, value: (s) => parseFloat(s) },
];

const CORE_SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({
  implicit: CORE_SCALARS.map(
    (scalar) =>
      new jsyaml.Type(TAG_PREFIX + scalar.name, {
        kind: 'scalar',
        resolve: (data: unknown) => typeof data === 'string' && scalar.test.test(data),
        construct: (data: string) => scalar.value(data),
      }),
  ),
});
const IMPLICIT_TAGS = new Set(CORE_SCALARS.map((scalar) => TAG_PREFIX + scalar.name));

/** yaml's limit is 1024 characters of key source; escapes make the source longer than the value. */
const MAX_KEY_LENGTH = 200;

/** Thrown from inside js-yaml's listener to stop reading as soon as a document is declined. */
class Declined extends Error {}

// A directive line, or `?` as an explicit-key indicator (also matches harmless text such as a
// `?` inside a comment: declining is always safe, it only costs the memory the fast path saves).
const DIRECTIVE = /^%/m;
const EXPLICIT_KEY = /(?:^|[\s[{,])\?(?:[\s]|$)/m;
// yaml and js-yaml treat tabs differently (yaml: an error as indentation, and `a:\t1` is the
// string "1"; js-yaml: the int 1).
const TAB = /\t/;
// Carriage returns: yaml reads a lone CR as text and CRLF in block scalars differently from
// js-yaml. A CRLF file takes yaml's path.
const CARRIAGE_RETURN = /\r/;
// A byte order mark: yaml reads `\ufeffa: 1` as {a: "1"}.
const BYTE_ORDER_MARK = /\ufeff/;
// Content on a document marker's line (`--- a: 1` is an error in yaml), or a line that starts
// like a marker (`---:`, `----`), which the two libraries split differently.
const MARKER_CONTENT = /^(?:---|\.\.\.)(?:[^\s]|[ ]+[^#\s])/m;
// A block sequence entry with nothing on its line (`-` then a line break or a comment): js-yaml
// puts the next, less indented entry into the nested sequence after it (`- -\n- x` gives
// [[null, x]]; yaml and the spec give [[null], x]).
// `#` right after anything but white space (`[]#`, `"a"#`, `---#`): yaml wants a space before a
// comment (an error), js-yaml takes it as one. Also matches plain text such as `a#b` (declined).
const TIGHT_COMMENT = /[^\s]#/;
// Keep chomping (`|+`) and indentation indicators (`|2`, `>-1`) on block scalars: the two
// libraries keep different blank and space-only lines.
const BLOCK_SCALAR_INDICATORS = /[|>](?:[1-9]?\+|[+-]?[1-9])/;
// An escaped line break in a double-quoted scalar (`"a\` at a line end): the libraries fold
// the lines after it differently.
const ESCAPED_LINE_BREAK = /\\$/m;
const EMPTY_SEQUENCE_ENTRY = /(?:^|[ ])-(?:[ ]+#.*)?[ ]*$/m;

/** The plain value of `text` when it is in the common subset, else why not. */
export function readCommonYaml(text: string): FastRead {
  if (DIRECTIVE.test(text)) return { ok: false, reason: 'directive' };
  if (EXPLICIT_KEY.test(text)) return { ok: false, reason: 'explicit key' };
  if (TAB.test(text)) return { ok: false, reason: 'tab' };
  if (CARRIAGE_RETURN.test(text)) return { ok: false, reason: 'carriage return' };
  if (BYTE_ORDER_MARK.test(text)) return { ok: false, reason: 'byte order mark' };
  if (MARKER_CONTENT.test(text)) return { ok: false, reason: 'content after a document marker' };
  if (TIGHT_COMMENT.test(text)) return { ok: false, reason: 'comment without a space before it' };
  if (BLOCK_SCALAR_INDICATORS.test(text)) return { ok: false, reason: 'block scalar indicator' };
  if (ESCAPED_LINE_BREAK.test(text)) return { ok: false, reason: 'escaped line break' };
  if (EMPTY_SEQUENCE_ENTRY.test(text)) return { ok: false, reason: 'empty sequence entry' };
  let value: unknown;
  // Where each node being read starts (outermost first): a node's parent is the one below it.
  const starts: number[] = [];
  try {
    value = jsyaml.load(text, {
      schema: CORE_SCHEMA,
      onWarning: (warning) => {
        throw new Declined(`warning: ${warning.message}`);
      },
      listener: (event, state) => {
        const node = state as unknown as ListenerState;
        if (event === 'open') starts.push(nodeStart(node.input, node.position));
        else {
          const start = starts.pop() ?? 0;
          checkNode(node, start, enclosingStart(starts, start));
        }
      },
    });
  } catch (error) {
    return { ok: false, reason: error instanceof Declined ? error.message : `js-yaml: ${(error as Error).message.split('\n')[0]}` };
  }
  if (value === undefined) return { ok: false, reason: 'no document' };
  const badKey = findUnsafeKey(value);
  return badKey === undefined ? { ok: true, value } : { ok: false, reason: `key ${JSON.stringify(badKey)}` };
}

/** The parts of js-yaml's loader state the listener reads (its typings omit tag and anchor). */
interface ListenerState {
  readonly input: string;
  readonly position: number;
  readonly tag: string | null;
  readonly anchor: string | null;
  readonly result: unknown;
}

function checkNode(state: ListenerState, start: number, parentStart: number | undefined): void {
  if (state.anchor !== null) throw new Declined('anchor');
  // null: untagged collection, quoted or block scalar, empty node; '?': a plain string.
  if (state.tag !== null && state.tag !== '?' && !IMPLICIT_TAGS.has(state.tag)) throw new Declined('tag');
  const isCollection = typeof state.result === 'object' && state.result !== null;
  if (isCollection) checkFlowEnd(state.input, state.position);
  if (parentStart !== undefined && state.input[parentStart] === '{') checkFlowMapEntry(state, start, isCollection);
}

/** The start of the nearest enclosing node that starts before `start` (js-yaml nests wrappers at one position). */
function enclosingStart(starts: readonly number[], start: number): number | undefined {
  for (let i = starts.length - 1; i >= 0; i--) if (starts[i] !== start) return starts[i];
  return undefined;
}

/** The first character of a node read from `position`: past white space and comments. */
function nodeStart(input: string, position: number): number {
  let at = position;
  for (;;) {
    const ch = input[at];
    if (ch === ' ' || ch === '\n') at += 1;
    else if (ch === '#') while (at < input.length && input[at] !== '\n') at += 1;
    else return at;
  }
}

/**
 * Inside a flow mapping, a key must be a scalar followed by `:` (yaml reads `{a, b: 1}` and
 * `{[x]: 1}` differently from js-yaml) and a value must follow its `:`.
 */
function checkFlowMapEntry(state: ListenerState, start: number, isCollection: boolean): void {
  const { input } = state;
  let before = start - 1;
  while (before >= 0 && (input[before] === ' ' || input[before] === '\n')) before -= 1;
  const previous = input[before];
  if (previous === ':') return;
  if (previous !== '{' && previous !== ',') throw new Declined('flow mapping entry');
  let next = state.position;
  while (input[next] === ' ' || input[next] === '\n') next += 1;
  if (isCollection || input[next] !== ':') throw new Declined('flow mapping key');
}

/** After a collection that ends in `]` or `}`: no `:` after it (a collection key), no bracket opening its line. */
function checkFlowEnd(input: string, position: number): void {
  const bracket = input.charCodeAt(position - 1);
  if (bracket !== 0x5d /* ] */ && bracket !== 0x7d /* } */) return;
  let next = position;
  while (input[next] === ' ' || input[next] === '\t') next += 1;
  if (input[next] === ':') throw new Declined('collection key');
  let before = position - 2;
  while (before >= 0 && (input[before] === ' ' || input[before] === '\t')) before -= 1;
  if (before < 0 || input[before] === '\n' || input[before] === '\r') throw new Declined('flow end at line start');
}

/** A key js-yaml and yaml would turn into different strings, or that yaml could treat specially. */
function findUnsafeKey(root: unknown): string | undefined {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (const item of node) pending.push(item);
      continue;
    }
    for (const key of Object.keys(node)) {
      // A null key is "null" in js-yaml and "" in yaml; a collection key is "[object Object]" or
      // "a,b" in js-yaml and YAML text in yaml; `<<` is a merge key in some yaml settings.
      if (key === 'null' || key === '<<' || key === '[object Object]' || key.includes(',') || key.length > MAX_KEY_LENGTH) return key;
      pending.push((node as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}
