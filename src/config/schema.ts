// Shape validation with ajv against the layout JSON Schema, and the translation of ajv errors
// into coded diagnostics at the written YAML node (instancePath -> document path -> span).
//
// ajv cannot type-check bigint, so it validates a JSON view of the document: integers that are
// exact doubles stay numbers, larger ones become decimal strings (the schema's size pattern
// accepts them). The view is only for validation; normalization reads the exact values.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diagnostics.js';
import type { LayoutCode } from './codes.js';
import { LAYOUT_SCHEMA } from './layout-schema.js';
import { diagnosticAt, type DocPath, type SourceLocator } from './source.js';
import { closest } from './suggest.js';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true, strictRequired: false }).compile(LAYOUT_SCHEMA);
  return compiled;
}

/** bigint -> number when exact, else decimal string; everything else copied as is. */
export function jsonView(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const asNumber = Number(value);
    return Number.isSafeInteger(asNumber) ? asNumber : value.toString(10);
  }
  if (Array.isArray(value)) return value.map(jsonView);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: jsonView(item), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

export function validateShape(written: unknown, locator: SourceLocator): Diagnostic[] {
  const validate = validator();
  if (validate(jsonView(written))) return [];
  const errors = (validate.errors ?? []).filter((error) => !WRAPPER_KEYWORDS.has(error.keyword));
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const error of errors) {
    const diagnostic = toDiagnostic(error, locator);
    const key = `${diagnostic.code} ${diagnostic.line}:${diagnostic.column} ${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

// Errors that only say "a sub-schema failed"; the failing sub-schema reports the real problem.
const WRAPPER_KEYWORDS = new Set(['if', 'propertyNames', 'allOf']);

function pathOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}

const EXCLUSIVE_HINTS: Readonly<Record<string, string>> = {
  last: 'a range takes either `last` or `size`, not both',
  page_size: 'only `kind: hugetlb` takes a page_size',
  path: 'only `kind: file` takes a path',
  mapping: 'a copy source is either `{mapping: ioas.entry, offset, length}` or `{ioas, iova, length}`',
  offset: 'a copy source is either `{mapping: ioas.entry, offset, length}` or `{ioas, iova, length}`',
  iova: 'a copy source is either `{mapping: ioas.entry, offset, length}` or `{ioas, iova, length}`',
};

const MISSING_HINTS: Readonly<Record<string, string>> = {
  last: 'a range is `{start, last}` (last inclusive) or `{start, size}`',
  mapping: 'a copy source map is `{mapping: ioas.entry, offset, length}` or `{ioas, iova, length}`',
  page_size: '`kind: hugetlb` needs the huge page size, e.g. `page_size: 2MiB`',
};

function toDiagnostic(error: ErrorObject, locator: SourceLocator): Diagnostic {
  const path = pathOf(error.instancePath);
  const at = (code: LayoutCode, message: string, target: 'key' | 'value' = 'value', atPath: DocPath = path, hint?: string) =>
    diagnosticAt(locator, { code, message, path: atPath, target, ...(hint !== undefined ? { hint } : {}) });
  const params = error.params as Record<string, unknown>;
  const where = describe(path);

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const suggestion = closest(key, known);
      return at('unknown-key', `unknown key '${key}' in ${where}`, 'key', [...path, key],
        suggestion !== undefined ? `did you mean '${suggestion}'?` : `known keys: ${known.join(', ')}`);
    }
    case 'required': {
      const key = String(params['missingProperty']);
      if (path.length === 0 && key === 'version') {
        return at('unsupported-version', "missing 'version: 1' at the top of the layout");
      }
      return at('missing-key', `${where} needs the key '${key}'`, 'key', path, MISSING_HINTS[key]);
    }
    case 'const':
      if (path.length === 1 && path[0] === 'version') {
        return at('unsupported-version', `unsupported layout version ${JSON.stringify(error.data)}; this ioasform reads version 1`);
      }
      return at('invalid-value', `${where} must be ${JSON.stringify(params['allowedValue'])}`);
    case 'false schema': {
      const key = String(path[path.length - 1]);
      return at('conflicting-keys', `'${key}' cannot be used here`, 'key', path, EXCLUSIVE_HINTS[key]);
    }
    case 'type':
      return at('invalid-type', `${where} must be ${typeWords(String(params['type']))}, not ${typeOfData(error.data)}`);
    case 'enum':
      return at('invalid-value', `${where} must be one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}, not '${String(error.data)}'`);
    case 'minimum':
      return at('value-out-of-range', `${where} must not be negative`);
    case 'minLength':
      return at('invalid-value', `${where} must not be empty`);
    case 'pattern': {
      if (params['propertyName'] !== undefined || error.propertyName !== undefined) {
        const name = String(error.propertyName ?? params['propertyName']);
        return at('invalid-name', `'${name}' is not a valid name`, 'key', [...path, name],
          'names start with a lowercase letter, then lowercase letters, digits, _ or -');
      }
      return patternDiagnostic(error, path, at, where);
    }
    default:
      return at('invalid-value', `${where} ${error.message ?? 'is invalid'}`);
  }
}

function patternDiagnostic(
  error: ErrorObject,
  path: DocPath,
  at: (code: LayoutCode, message: string, target?: 'key' | 'value', atPath?: DocPath, hint?: string) => Diagnostic,
  where: string,
): Diagnostic {
  const data = String(error.data);
  const last = path[path.length - 1];
  if (last === 'from' || last === 'mapping') {
    return at('invalid-value', `${where} must name an entry as 'ioas.entry', not '${data}'`);
  }
  if (last === 'memory' || last === 'ioas') {
    return at('invalid-name', `'${data}' is not a valid name`, 'value', path,
      'names start with a lowercase letter, then lowercase letters, digits, _ or -');
  }
  if (data.startsWith('-')) return at('value-out-of-range', `${where} must not be negative`);
  return at('invalid-value', `'${data}' is not a size or address`, 'value', path,
    'write an integer (4096), hex (0x1000, 0x1000_0000) or a binary unit (4KiB, 2MiB, 1GiB)');
}

function describe(path: DocPath): string {
  return path.length === 0 ? 'the layout' : `'${path.join('.')}'`;
}

function typeWords(types: string): string {
  const words: Record<string, string> = {
    object: 'a map',
    array: 'a list',
    string: 'a string',
    integer: 'an integer',
    boolean: 'true or false',
    'integer,string': 'an integer or a size string',
    'string,object': "'ioas.entry' or a map",
  };
  return words[types] ?? types;
}

function typeOfData(data: unknown): string {
  if (data === null) return 'empty';
  if (Array.isArray(data)) return 'a list';
  if (typeof data === 'object') return 'a map';
  if (typeof data === 'number') return Number.isInteger(data) ? 'a number' : 'a fractional number';
  return `a ${typeof data}`;
}
