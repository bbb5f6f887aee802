// Deterministic JSON: the same value always gives the same bytes, so a checksum over the text is
// a checksum over the value. Object keys are sorted (by UTF-16 code unit, like Array#sort),
// bigints become lowercase "0x…" hex strings (the project's wire form for 64-bit quantities), and
// anything JSON.stringify would silently drop or mangle (undefined, functions, symbols, NaN,
// Infinity, class instances, cycles, unsafe integers) is rejected with the path to it instead.

export interface CanonicalJsonError {
  readonly code: 'NOT_JSONABLE';
  /** One sentence naming what was found and where. */
  readonly message: string;
  /** Where in the value, e.g. ["body", "ioas", 0, "iova"]. */
  readonly path: readonly (string | number)[];
}

export type CanonicalJsonResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly error: CanonicalJsonError };

export interface CanonicalJsonOptions {
  /** Indent for files people may read; omit (or 0) for the compact form used in checksums. */
  readonly indent?: number;
}

/** Encode a bigint the way every ioasform file does: lowercase hex with a 0x prefix. */
export function bigintToHex(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/** The inverse of bigintToHex; undefined when the text is not such a hex string. */
export function hexToBigint(text: string): bigint | undefined {
  const match = /^(-?)0x([0-9a-f]+)$/.exec(text);
  if (match === null) return undefined;
  const magnitude = BigInt(`0x${match[2]}`);
  return match[1] === '-' ? -magnitude : magnitude;
}

class NotJsonable {
  readonly message: string;
  readonly path: readonly (string | number)[];
  constructor(message: string, path: readonly (string | number)[]) {
    this.message = message;
    this.path = path;
  }
}

function describePath(path: readonly (string | number)[]): string {
  if (path.length === 0) return 'the value';
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function canonicalJson(value: unknown, options: CanonicalJsonOptions = {}): CanonicalJsonResult {
  const parts: string[] = [];
  const written = writeCanonicalJson(value, options, (part) => parts.push(part));
  return written.ok ? { ok: true, text: parts.join('') } : written;
}

export interface CanonicalJsonStreamOptions extends CanonicalJsonOptions {
  /**
   * Nesting depth the value starts at: with an indent, every line after the first is indented
   * `indent * depth` more, as when the text is embedded as a member of an indented object.
   */
  readonly depth?: number;
}

/**
 * canonicalJson without the text: hands the pieces of the same text to `emit`, in order, so a
 * large value can be hashed or written without building one string of it (a 100k-entry state
 * is ~100 MB of text). On failure some pieces may already have been emitted; callers that must
 * not act on a partial text make a first pass (e.g. the checksum) before writing anything.
 */
export function writeCanonicalJson(
  value: unknown,
  options: CanonicalJsonStreamOptions,
  emit: (part: string) => void,
): { readonly ok: true } | { readonly ok: false; readonly error: CanonicalJsonError } {
  const indent = options.indent ?? 0;
  const seen = new Set<object>();
  const path: (string | number)[] = [];

  const fail = (what: string): never => {
    throw new NotJsonable(`${describePath(path)} is ${what}, which has no JSON form`, [...path]);
  };

  const encode = (v: unknown, depth: number): void => {
    switch (typeof v) {
      case 'string':
        emit(JSON.stringify(v));
        return;
      case 'boolean':
        emit(v ? 'true' : 'false');
        return;
      case 'bigint':
        emit(JSON.stringify(bigintToHex(v)));
        return;
      case 'number':
        if (!Number.isFinite(v)) return fail(String(v));
        // An integer past 2^53 has already lost bits; 64-bit quantities must be bigints.
        if (Number.isInteger(v) && !Number.isSafeInteger(v)) return fail(`the unsafe integer ${v} (use a bigint)`);
        emit(JSON.stringify(v));
        return;
      case 'undefined':
        return fail('undefined');
      case 'function':
        return fail('a function');
      case 'symbol':
        return fail('a symbol');
      case 'object':
        break;
    }
    if (v === null) {
      emit('null');
      return;
    }
    const obj = v as object;
    if (seen.has(obj)) return fail('a reference back to one of its own ancestors (a cycle)');
    const isArray = Array.isArray(obj);
    if (!isArray && !isPlainObject(obj)) return fail(`an instance of ${obj.constructor?.name ?? 'a class'}`);
    seen.add(obj);
    const pad = indent > 0 ? '\n' + ' '.repeat(indent * (depth + 1)) : '';
    const closePad = indent > 0 ? '\n' + ' '.repeat(indent * depth) : '';
    const colon = indent > 0 ? ': ' : ':';
    if (isArray) {
      const arr = obj as unknown[];
      if (arr.length === 0) emit('[]');
      else {
        for (let i = 0; i < arr.length; i++) {
          path.push(i);
          if (!(i in arr)) fail('a hole in a sparse array');
          emit(i === 0 ? `[${pad}` : `,${pad}`);
          encode(arr[i], depth + 1);
          path.pop();
        }
        emit(`${closePad}]`);
      }
    } else {
      const record = obj as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      if (keys.length === 0) emit('{}');
      else {
        keys.forEach((key, i) => {
          path.push(key);
          emit(`${i === 0 ? '{' : ','}${pad}${JSON.stringify(key)}${colon}`);
          encode(record[key], depth + 1);
          path.pop();
        });
        emit(`${closePad}}`);
      }
    }
    seen.delete(obj);
  };

  try {
    encode(value, options.depth ?? 0);
    return { ok: true };
  } catch (e) {
    if (e instanceof NotJsonable) return { ok: false, error: { code: 'NOT_JSONABLE', message: e.message, path: e.path } };
    throw e;
  }
}

export type ParseJsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string };

/**
 * Parse JSON text. Bigints stay "0x…" strings: only the reader of a particular body knows which
 * strings are 64-bit quantities (use hexToBigint there).
 */
export function parseJson(text: string): ParseJsonResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}
