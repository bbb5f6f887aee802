// Layout text -> { layout?, diagnostics }. Pure: no I/O (load.ts reads files).
//
// The pipeline: YAML (the common subset read by fast-yaml.ts, anything else and every YAML
// diagnostic by yaml v2 parseDocument; exact bigint integers, duplicate keys are errors)
// -> JSON Schema shape check -> normalization -> semantic rules. Every stage reports into one
// list, so one run shows every problem. A layout is returned only when there is no error.

import { LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import type { Layout } from '../model/layout.js';
import { hasDuplicateKeys } from './duplicate-keys.js';
import { readCommonYaml } from './fast-yaml.js';
import { normalizeLayout } from './normalize.js';
import { runRules } from './rules.js';
import { validateShape } from './schema.js';
import { lazySourceLocator, sourceLocator, withSpan, type SourceLocator } from './source.js';

export interface ParseResult {
  /** Present only when there are no errors (warnings allowed). */
  readonly layout?: Layout;
  /** Every problem found, in source order. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Alias expansions allowed when building values (guards against "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

export interface ParseOptions {
  /**
   * Read documents of the common YAML subset with the light reader (fast-yaml.ts) instead of
   * building a yaml Document (default true). Either way the value is the same, and every
   * diagnostic comes from yaml; tests turn it off to compare the two paths.
   */
  readonly fastPath?: boolean;
}

export function parseLayoutText(text: string, file = '<input>', options: ParseOptions = {}): ParseResult {
  const fast = options.fastPath === false ? undefined : readCommonYaml(text);
  const { written, diagnostics } = fast?.ok ? { written: fast.value, diagnostics: [] } : readYaml(text, file);
  if (written === undefined) return { diagnostics: sortDiagnostics(diagnostics) };
  // No yaml Document is kept while the value is checked: at 100k entries it is ~190 MB of live
  // heap (and the fast path never builds one). Diagnostics need its source ranges, so the first
  // one asks for a parse (the text is the same, so are the ranges); a valid layout never pays.
  const locator = lazySourceLocator(file, () => parseYaml(text));

  diagnostics.push(...validateShape(written, locator));
  const normalized = normalizeLayout(written, locator);
  diagnostics.push(...normalized.diagnostics, ...runRules(normalized, locator));

  const sorted = sortDiagnostics(diagnostics);
  return hasErrors(sorted) ? { diagnostics: sorted } : { layout: normalized.layout, diagnostics: sorted };
}

/**
 * The document's plain value and the yaml-level diagnostics; `written` is undefined when the
 * tree is unusable. The Document itself stays inside, so it is garbage once this returns.
 */
function readYaml(text: string, file: string): { written: unknown; diagnostics: Diagnostic[] } {
  const { doc, lineCounter } = parseYaml(text);
  const locator = sourceLocator(doc, lineCounter, file);
  const diagnostics: Diagnostic[] = [
    ...doc.errors.map((error) => yamlDiagnostic(error, locator, 'error')),
    ...doc.warnings.map((warning) => yamlDiagnostic(warning, locator, 'warning')),
  ];
  // Duplicate keys leave a usable document (the rest can still be checked); anything else
  // means the tree is not what the author meant, and checking it would only add noise.
  if (doc.errors.some((error) => error.code !== 'DUPLICATE_KEY')) return { written: undefined, diagnostics };
  return { written: toValue(doc, locator, diagnostics), diagnostics };
}

/**
 * yaml's duplicate-key check is quadratic per map, so the common case (no repeats) is parsed
 * without it and checked in linear time; a document with a repeat is parsed again with yaml's
 * check, so its diagnostics are exactly yaml's.
 */
function parseYaml(text: string): { doc: Document; lineCounter: LineCounter } {
  const parse = (uniqueKeys: boolean) => {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys, lineCounter, prettyErrors: false });
    return { doc, lineCounter };
  };
  const fast = parse(false);
  return hasDuplicateKeys(fast.doc) ? parse(true) : fast;
}

function toValue(doc: Document, locator: SourceLocator, diagnostics: Diagnostic[]): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (error) {
    // yaml throws a ReferenceError for excessive aliasing; nothing else is expected here.
    diagnostics.push(
      withSpan(locator, null, {
        code: 'yaml-aliases',
        message: `the document expands aliases too often (${error instanceof Error ? error.message : String(error)})`,
        path: [],
        hint: `at most ${MAX_ALIAS_COUNT} alias expansions are allowed; write the values out`,
      }),
    );
    return undefined;
  }
}

export function yamlDiagnostic(error: YAMLError, locator: SourceLocator, severity: 'error' | 'warning'): Diagnostic {
  const duplicate = error.code === 'DUPLICATE_KEY';
  // yaml messages end with a position excerpt when prettyErrors is on; it is off, so the first
  // line is the whole message.
  const message = error.message.split('\n')[0] ?? error.message;
  return withSpan(locator, [error.pos[0], error.pos[1]], {
    severity,
    code: duplicate ? 'duplicate-key' : 'yaml-syntax',
    message: duplicate ? `${message}: a name or key may be defined only once` : message,
    path: [],
  });
}

/** Diagnostics in source order, without exact repeats (yaml can report one error many times). */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return [...diagnostics]
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || a.code.localeCompare(b.code))
    .filter((d) => {
      const key = `${d.line}:${d.column}:${d.code}:${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
