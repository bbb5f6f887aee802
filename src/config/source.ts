// From document paths back to source positions. Semantic rules work on the normalized Layout
// but report the written node: because the written form is keyed by the same names, a
// normalized element's written path is known (['ioas', 'dp', 'mappings', 'rx', 'iova']) and
// this module turns it into a line/column span. A path to a defaulted (absent) key falls back to
// the nearest written ancestor, so every diagnostic still points somewhere useful.

import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { Diagnostic, Severity } from '../diagnostics.js';
import type { LayoutCode } from './codes.js';

export type DocPath = readonly (string | number)[];
type Span = readonly [start: number, end: number];

/** Which part of a `key: value` pair a diagnostic is about. */
export type Target = 'value' | 'key';

export interface SourceLocator {
  readonly file: string;
  /** The span of the node at `path` (or of its key), else of the nearest written ancestor. */
  span(path: DocPath, target?: Target): Span | null;
  /** Whether `path` is written in the document (not defaulted). */
  has(path: DocPath): boolean;
  readonly lineCounter: LineCounter;
}

export function sourceLocator(doc: Document, lineCounter: LineCounter, file: string): SourceLocator {
  const walk = (path: DocPath): { node: Node | null; key: Node | null; depth: number } => {
    let node: unknown = doc.contents;
    let key: Node | null = null;
    let depth = 0;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
        if (!pair) break;
        key = (pair.key as Node | null) ?? null;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        key = null;
        node = node.items[segment];
      } else {
        break;
      }
      depth += 1;
    }
    return { node: (node as Node | null) ?? null, key, depth };
  };

  return {
    file,
    lineCounter,
    has: (path) => walk(path).depth === path.length,
    span(path, target = 'value') {
      const { node, key, depth } = walk(path);
      // For an absent key, point at the key of the map that should contain it.
      const chosen = depth < path.length || target === 'key' ? (key ?? node) : (node ?? key);
      const range = chosen?.range;
      if (!range) return null;
      return [range[0], range[1]];
    },
  };
}

/**
 * A locator that parses only when first asked for a position or a line: `parse` must give the
 * Document of the text being checked and the LineCounter that counted it (a second parse does).
 */
export function lazySourceLocator(file: string, parse: () => { doc: Document; lineCounter: LineCounter }): SourceLocator {
  let inner: SourceLocator | undefined;
  const located = (): SourceLocator => {
    if (inner) return inner;
    const { doc, lineCounter } = parse();
    return (inner = sourceLocator(doc, lineCounter, file));
  };
  return {
    file,
    get lineCounter() {
      return located().lineCounter;
    },
    has: (path) => located().has(path),
    span: (path, target) => located().span(path, target),
  };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

export interface DiagnosticSpec {
  readonly severity?: Severity;
  readonly code: LayoutCode;
  readonly message: string;
  readonly path: DocPath;
  readonly target?: Target;
  readonly hint?: string;
}

/** A Diagnostic with file, 1-based line/column and the span's end, from a document path. */
export function diagnosticAt(locator: SourceLocator, spec: DiagnosticSpec): Diagnostic {
  const span = locator.span(spec.path, spec.target);
  return withSpan(locator, span, spec);
}

export function withSpan(locator: SourceLocator, span: Span | null, spec: DiagnosticSpec): Diagnostic {
  const base = {
    severity: spec.severity ?? 'error',
    code: spec.code,
    message: spec.message,
    file: locator.file,
    path: spec.path,
    ...(spec.hint !== undefined ? { hint: spec.hint } : {}),
  };
  if (!span) return { ...base, line: 1, column: 1 };
  const start = locator.lineCounter.linePos(span[0]);
  const end = locator.lineCounter.linePos(Math.max(span[1], span[0]));
  return { ...base, line: start.line, column: start.col, endLine: end.line, endColumn: end.col };
}
