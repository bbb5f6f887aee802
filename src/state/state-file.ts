// The state file: one JSON envelope per target around a body the planner/applier defines.
//
//   { "formatVersion": 1, "lineage": "<uuid>", "serial": 7, "checksum": "sha256:…", "body": … }
//
// lineage names one history of a target (a new one starts at serial 0; each successful write
// of that history is serial + 1), so a state file copied from another target, or an old backup,
// is recognisable. The checksum covers the canonical JSON of {formatVersion, lineage, serial,
// body}; it is over the parsed value, not the bytes, so re-indenting a file is harmless but any
// change of content (a hand edit, a torn write, a flipped bit) is detected.

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseJson, writeCanonicalJson } from './canonical-json.js';
import { CHECKSUM_PATTERN, sha256ChecksumOfParts } from './checksum.js';
import { describeError, errnoCode, writeFileAtomicFrom } from './durable-fs.js';
import { compactJsonBytes } from './json-whitespace.js';

export const STATE_FORMAT_VERSION = 1;

export interface StateEnvelope<Body = unknown> {
  readonly formatVersion: typeof STATE_FORMAT_VERSION;
  /** A UUID naming this target's history. */
  readonly lineage: string;
  /** 0 for the first state of a lineage, +1 on every write. */
  readonly serial: number;
  /** "sha256:<hex>" of the canonical JSON of {formatVersion, lineage, serial, body}. */
  readonly checksum: string;
  readonly body: Body;
}

/** A state not yet checksummed: what callers build, and what writeStateFile seals. */
export type UnsealedState<Body = unknown> = Omit<StateEnvelope<Body>, 'checksum'>;

export type StateReadErrorCode =
  | 'STATE_MISSING'
  | 'STATE_UNREADABLE'
  | 'STATE_NOT_JSON'
  | 'STATE_CHECKSUM_MISMATCH'
  | 'STATE_BAD_VERSION'
  | 'STATE_BAD_SHAPE';

export interface StateReadError {
  readonly code: StateReadErrorCode;
  readonly message: string;
  readonly path: string;
}

export type StateReadResult =
  | { readonly ok: true; readonly state: StateEnvelope }
  | { readonly ok: false; readonly error: StateReadError };

export type StateWriteErrorCode = 'STATE_BAD_SHAPE' | 'STATE_NOT_JSONABLE' | 'STATE_WRITE_FAILED';

export interface StateWriteError {
  readonly code: StateWriteErrorCode;
  readonly message: string;
  readonly path: string;
}

export type StateWriteResult<Body> =
  | { readonly ok: true; readonly state: StateEnvelope<Body> }
  | { readonly ok: false; readonly error: StateWriteError };

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The first state of a new history: a fresh lineage at serial 0. */
export function newLineageState<Body>(body: Body): UnsealedState<Body> {
  return { formatVersion: STATE_FORMAT_VERSION, lineage: randomUUID(), serial: 0, body };
}

/** The state that follows `previous` in the same lineage. */
export function nextState<Body>(previous: Pick<StateEnvelope, 'lineage' | 'serial'>, body: Body): UnsealedState<Body> {
  return { formatVersion: STATE_FORMAT_VERSION, lineage: previous.lineage, serial: previous.serial + 1, body };
}

function checksumOf(state: UnsealedState): { ok: true; checksum: string } | { ok: false; message: string } {
  const { formatVersion, lineage, serial, body } = state;
  // Streamed: at 100k entries the canonical text is ~100 MB, and building it as one string
  // (plus its UTF-8 copy for the hash) was a large part of a save's peak memory.
  let error: string | undefined;
  const checksum = sha256ChecksumOfParts((put) => {
    const written = writeCanonicalJson({ formatVersion, lineage, serial, body }, {}, put);
    if (!written.ok) error = written.error.message;
  });
  return error === undefined ? { ok: true, checksum } : { ok: false, message: error };
}

/**
 * The file text, in pieces: header fields first (people open these files), then the canonical
 * body indented by two spaces. Deterministic, so rewriting an unchanged state gives identical
 * bytes. The body was already encoded once for the checksum, so it cannot fail here.
 */
function writeStateText(state: StateEnvelope, put: (part: string) => void): void {
  const header = [
    `  "formatVersion": ${state.formatVersion}`,
    `  "lineage": ${JSON.stringify(state.lineage)}`,
    `  "serial": ${state.serial}`,
    `  "checksum": ${JSON.stringify(state.checksum)}`,
    `  "body": `,
  ];
  put(`{\n${header.join(',\n')}`);
  const written = writeCanonicalJson(state.body, { indent: 2, depth: 1 }, put);
  if (!written.ok) throw new Error(written.error.message);
  put('\n}\n');
}

/**
 * Seal `state` (compute its checksum; a checksum already on it is recomputed, never trusted) and
 * replace the file at `path` atomically and durably. Resolves once the new state is on disk.
 */
export async function writeStateFile<Body>(
  path: string,
  state: UnsealedState<Body> | StateEnvelope<Body>,
): Promise<StateWriteResult<Body>> {
  const { formatVersion, lineage, serial, body } = state;
  if (formatVersion !== STATE_FORMAT_VERSION || !UUID_PATTERN.test(lineage) || !Number.isSafeInteger(serial) || serial < 0) {
    return {
      ok: false,
      error: { code: 'STATE_BAD_SHAPE', path, message: 'refusing to write a state without format version 1, a UUID lineage and a non-negative integer serial' },
    };
  }
  const sum = checksumOf({ formatVersion, lineage, serial, body });
  if (!sum.ok) {
    return { ok: false, error: { code: 'STATE_NOT_JSONABLE', path, message: `cannot write the state: body ${sum.message}` } };
  }
  const sealed: StateEnvelope<Body> = { formatVersion, lineage, serial, checksum: sum.checksum, body };
  try {
    await writeFileAtomicFrom(path, (put) => writeStateText(sealed, put));
  } catch (e) {
    return { ok: false, error: { code: 'STATE_WRITE_FAILED', path, message: `cannot write the state file: ${describeError(e)}` } };
  }
  return { ok: true, state: sealed };
}

type StateReadFailure = Extract<StateReadResult, { ok: false }>;

function fail(code: StateReadErrorCode, path: string, message: string): StateReadFailure {
  return { ok: false, error: { code, path, message } };
}

/** Validate parsed file content as a state envelope (exported for callers holding text already). */
export function decodeStateEnvelope(value: unknown, path: string): StateReadResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('STATE_BAD_SHAPE', path, 'the state file does not hold a JSON object');
  }
  const record = value as Record<string, unknown>;
  // The version decides how the rest is read, so it is checked before anything else.
  if (record.formatVersion !== STATE_FORMAT_VERSION) {
    const found = record.formatVersion === undefined ? 'no formatVersion' : `formatVersion ${JSON.stringify(record.formatVersion)}`;
    return fail(
      'STATE_BAD_VERSION',
      path,
      `the state file has ${found}; this ioasform reads format ${STATE_FORMAT_VERSION} only (was it written by a newer ioasform?)`,
    );
  }
  const { lineage, serial, checksum } = record;
  if (typeof lineage !== 'string' || !UUID_PATTERN.test(lineage)) {
    return fail('STATE_BAD_SHAPE', path, 'the state file has no valid "lineage" (a UUID)');
  }
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 0) {
    return fail('STATE_BAD_SHAPE', path, 'the state file has no valid "serial" (a non-negative integer)');
  }
  if (typeof checksum !== 'string' || !CHECKSUM_PATTERN.test(checksum)) {
    return fail('STATE_BAD_SHAPE', path, 'the state file has no valid "checksum" ("sha256:" and 64 hex digits)');
  }
  if (!('body' in record)) return fail('STATE_BAD_SHAPE', path, 'the state file has no "body"');
  const extra = Object.keys(record).filter((k) => !['formatVersion', 'lineage', 'serial', 'checksum', 'body'].includes(k));
  if (extra.length > 0) return fail('STATE_BAD_SHAPE', path, `the state file has unexpected fields: ${extra.join(', ')}`);
  const state: StateEnvelope = { formatVersion: STATE_FORMAT_VERSION, lineage, serial, checksum, body: record.body };
  const expected = checksumOf(state);
  if (!expected.ok || expected.checksum !== checksum) {
    return fail(
      'STATE_CHECKSUM_MISMATCH',
      path,
      'the state file was edited by hand or torn: checksum mismatch (restore it from a backup, or inspect it and re-import)',
    );
  }
  return { ok: true, state };
}

/** Read and verify the state file at `path`. A missing file is STATE_MISSING here. */
export async function readStateFile(path: string): Promise<StateReadResult> {
  const read = await readJsonFile(path);
  return read.ok ? decodeStateEnvelope(read.value, path) : read;
}

/**
 * The parsed JSON of the file at `path`. Its text is not kept: once this returns, only the parsed
 * value is reachable, so the checksum and the body decoding that follow do not hold the text too
 * (98 MB at 100k mappings). The bytes are compacted before they become a string (half the size:
 * src/state/json-whitespace.ts); the checksum is over the canonical encoding of the parsed value,
 * so it does not depend on the file's whitespace. Only a file that does not parse is read and
 * parsed again as it is, so its error message (with positions) is about the file itself.
 */
async function readJsonFile(path: string): Promise<{ readonly ok: true; readonly value: unknown } | StateReadFailure> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return fail('STATE_MISSING', path, 'there is no state file yet (nothing has been applied)');
    return fail('STATE_UNREADABLE', path, `cannot read the state file: ${describeError(e)}`);
  }
  const compacted = parseJson(bytes.toString('utf8', 0, compactJsonBytes(bytes)));
  if (compacted.ok) return { ok: true, value: compacted.value };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return fail('STATE_UNREADABLE', path, `cannot read the state file: ${describeError(e)}`);
  }
  const parsed = parseJson(text);
  // The file changed between the two reads (and now parses): report it as it was first read.
  const message = parsed.ok ? compacted.message : parsed.message;
  const hint = text.trim() === '' ? 'it is empty' : message;
  return fail('STATE_NOT_JSON', path, `the state file is not valid JSON (truncated or edited by hand?): ${hint}`);
}

/** Like readStateFile, but a missing file is an empty state (`state: null`) instead of an error. */
export async function readStateFileIfExists(
  path: string,
): Promise<{ readonly ok: true; readonly state: StateEnvelope | null } | { readonly ok: false; readonly error: StateReadError }> {
  const result = await readStateFile(path);
  if (!result.ok && result.error.code === 'STATE_MISSING') return { ok: true, state: null };
  return result;
}
