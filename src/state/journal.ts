// The intent journal, `<state>.journal`: an append-only file of JSON lines that exists only
// while an apply is in flight (or was interrupted). The applier appends a record before each
// kernel call and another after it; each append is fsynced before it returns, so whatever the
// applier did to the kernel is on disk before it did it.
//
//   line 0:  {"checksum":"sha256:…","header":{"baseSerial":7,"createdAt":"…","formatVersion":1,"lineage":"…"},"seq":0}
//   line n:  {"checksum":"sha256:…","record":<opaque JSON>,"seq":n}
//
// Each line is canonical JSON with a checksum over the line without its checksum. The header is
// created atomically (the file never exists without it) and names the state the apply started
// from, so recovery can tell "the new state was committed, only the journal removal was lost"
// from "the apply was interrupted" (see journalOutcome).
//
// A crash can tear only the line being appended, which the applier never acted on (its append
// had not returned). So an invalid LAST line is tolerated and reported as a torn tail; an invalid
// line followed by valid ones is corruption, which needs a person.

import { open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { canonicalJson, parseJson } from './canonical-json.js';
import { BATCH_CHARS } from './batched.js';
import { CHECKSUM_PATTERN, sha256Checksum } from './checksum.js';
import { createFileExclusive, describeError, errnoCode, fsyncDirectory } from './durable-fs.js';
import { journalPathFor } from './paths.js';
import { crashPoint } from './crash-point.js';

export const JOURNAL_FORMAT_VERSION = 1;

export interface JournalHeader {
  readonly formatVersion: typeof JOURNAL_FORMAT_VERSION;
  /** Lineage of the state this apply started from (or will create, when there was none). */
  readonly lineage: string;
  /** Serial of the state this apply started from; null when there was no state file. */
  readonly baseSerial: number | null;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
}

export interface JournalContents {
  readonly path: string;
  readonly header: JournalHeader;
  /** The records in append order (seq 1, 2, …), as parsed JSON. */
  readonly records: readonly unknown[];
  /** Whether the last line was torn or garbled (and so ignored). */
  readonly tornTail: boolean;
  /** Byte length of the valid prefix: where a resumed journal continues. */
  readonly validLength: number;
}

export type JournalErrorCode =
  | 'JOURNAL_EXISTS'
  | 'JOURNAL_MISSING'
  | 'JOURNAL_UNREADABLE'
  | 'JOURNAL_CORRUPT'
  | 'JOURNAL_BAD_VERSION'
  | 'JOURNAL_NOT_JSONABLE'
  | 'JOURNAL_WRITE_FAILED';

export interface JournalError {
  readonly code: JournalErrorCode;
  readonly message: string;
  readonly path: string;
  /** 1-based line number, for JOURNAL_CORRUPT. */
  readonly line?: number;
}

export type JournalResult<T> = ({ readonly ok: true } & T) | { readonly ok: false; readonly error: JournalError };

/** An open journal. Only one process appends (the one holding the state lock). */
export interface JournalHandle {
  readonly path: string;
  readonly header: JournalHeader;
  /** @internal mutable cursor and file; use appendRecord / closeJournal. */
  readonly file: { handle: FileHandle | null; nextSeq: number };
}

function encodeLine(seq: number, payload: { header: JournalHeader } | { record: unknown }): { ok: true; line: string } | { ok: false; message: string } {
  const unsigned = canonicalJson({ seq, ...payload });
  if (!unsigned.ok) return { ok: false, message: unsigned.error.message };
  const checksum = sha256Checksum(unsigned.text);
  // The signed line is the canonical JSON of {checksum, seq, payload}. "checksum" sorts before
  // every other key ("header", "record", "seq"), so it is the unsigned text with the checksum
  // member put in front: no second encoding of the (possibly large) record.
  return { ok: true, line: `{"checksum":${JSON.stringify(checksum)},${unsigned.text.slice(1)}\n` };
}

type DecodedLine =
  | { readonly kind: 'header'; readonly seq: number; readonly header: JournalHeader }
  | { readonly kind: 'record'; readonly seq: number; readonly record: unknown }
  | { readonly kind: 'bad-version'; readonly found: unknown }
  | { readonly kind: 'invalid' };

function decodeLine(text: string): DecodedLine {
  const parsed = parseJson(text);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) return { kind: 'invalid' };
  const { checksum, seq, ...rest } = parsed.value as Record<string, unknown>;
  if (typeof checksum !== 'string' || !CHECKSUM_PATTERN.test(checksum)) return { kind: 'invalid' };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return { kind: 'invalid' };
  const unsigned = canonicalJson({ seq, ...rest });
  if (!unsigned.ok || sha256Checksum(unsigned.text) !== checksum) return { kind: 'invalid' };
  const keys = Object.keys(rest);
  if (keys.length === 1 && keys[0] === 'record') return { kind: 'record', seq, record: rest.record };
  if (keys.length === 1 && keys[0] === 'header') {
    const h = rest.header as Record<string, unknown> | null;
    if (typeof h !== 'object' || h === null) return { kind: 'invalid' };
    if (h.formatVersion !== JOURNAL_FORMAT_VERSION) return { kind: 'bad-version', found: h.formatVersion };
    const baseOk = h.baseSerial === null || (typeof h.baseSerial === 'number' && Number.isSafeInteger(h.baseSerial) && h.baseSerial >= 0);
    if (typeof h.lineage !== 'string' || !baseOk || typeof h.createdAt !== 'string') return { kind: 'invalid' };
    return {
      kind: 'header',
      seq,
      header: { formatVersion: JOURNAL_FORMAT_VERSION, lineage: h.lineage, baseSerial: h.baseSerial as number | null, createdAt: h.createdAt },
    };
  }
  return { kind: 'invalid' };
}

function corrupt(path: string, line: number, why: string): JournalResult<never> {
  return {
    ok: false,
    error: {
      code: 'JOURNAL_CORRUPT',
      path,
      line,
      message: `the apply journal is damaged at line ${line} (${why}), not just torn at its end; it cannot be trusted for recovery: inspect the kernel state and the journal by hand`,
    },
  };
}

/** Decode journal text (exported for tests and tools that already hold the bytes). */
export function decodeJournal(text: string, path: string): JournalResult<{ readonly journal: JournalContents }> {
  const segments = text.split('\n');
  // The last segment follows the last "\n": empty for a clean file, a torn line otherwise.
  const partial = segments.pop() ?? '';
  let tornTail = partial.length > 0;
  let header: JournalHeader | undefined;
  const records: unknown[] = [];
  let validLength = 0;
  for (let i = 0; i < segments.length; i++) {
    const lineText = segments[i] ?? '';
    const decoded = decodeLine(lineText);
    const isLastLine = i === segments.length - 1 && partial.length === 0;
    if (decoded.kind === 'bad-version') {
      return {
        ok: false,
        error: {
          code: 'JOURNAL_BAD_VERSION',
          path,
          message: `the apply journal has format ${JSON.stringify(decoded.found)}; this ioasform reads format ${JOURNAL_FORMAT_VERSION} only (was it written by a newer ioasform?)`,
        },
      };
    }
    if (decoded.kind === 'invalid') {
      if (isLastLine && i > 0) {
        tornTail = true;
        break;
      }
      return corrupt(path, i + 1, i === 0 ? 'no valid header' : 'checksum or syntax error');
    }
    if (decoded.seq !== i) return corrupt(path, i + 1, `sequence number ${decoded.seq} where ${i} was expected`);
    if (i === 0) {
      if (decoded.kind !== 'header') return corrupt(path, 1, 'no valid header');
      header = decoded.header;
    } else {
      if (decoded.kind !== 'record') return corrupt(path, i + 1, 'a second header');
      records.push(decoded.record);
    }
    validLength += Buffer.byteLength(lineText, 'utf8') + 1;
  }
  if (header === undefined) return corrupt(path, 1, 'no valid header');
  return { ok: true, journal: { path, header, records, tornTail, validLength } };
}

/** Read the journal of `statePath`; `journal: null` when there is none (no apply in flight). */
export async function readJournal(statePath: string): Promise<JournalResult<{ readonly journal: JournalContents | null }>> {
  const path = journalPathFor(statePath);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { ok: true, journal: null };
    return { ok: false, error: { code: 'JOURNAL_UNREADABLE', path, message: `cannot read the apply journal: ${describeError(e)}` } };
  }
  return decodeJournal(text, path);
}

async function openForAppend(path: string, header: JournalHeader, nextSeq: number): Promise<JournalResult<{ readonly journal: JournalHandle }>> {
  try {
    const handle = await open(path, 'a');
    return { ok: true, journal: { path, header, file: { handle, nextSeq } } };
  } catch (e) {
    return { ok: false, error: { code: 'JOURNAL_WRITE_FAILED', path, message: `cannot open the apply journal: ${describeError(e)}` } };
  }
}

/**
 * Start the journal of a new apply. Fails with JOURNAL_EXISTS when one is already there: an
 * interrupted apply must be recovered (resumeJournal) or cleared first, never overwritten.
 */
export async function openJournal(
  statePath: string,
  base: { readonly lineage: string; readonly baseSerial: number | null },
): Promise<JournalResult<{ readonly journal: JournalHandle }>> {
  const path = journalPathFor(statePath);
  const header: JournalHeader = {
    formatVersion: JOURNAL_FORMAT_VERSION,
    lineage: base.lineage,
    baseSerial: base.baseSerial,
    createdAt: new Date().toISOString(),
  };
  const line = encodeLine(0, { header });
  if (!line.ok) return { ok: false, error: { code: 'JOURNAL_NOT_JSONABLE', path, message: `cannot write the journal header: ${line.message}` } };
  const created = await createFileExclusive(path, line.line);
  if (created === 'exists') {
    return {
      ok: false,
      error: { code: 'JOURNAL_EXISTS', path, message: 'an apply journal already exists: a previous apply was interrupted and must be recovered first' },
    };
  }
  if (created !== 'created') {
    return { ok: false, error: { code: 'JOURNAL_WRITE_FAILED', path, message: `cannot create the apply journal: ${describeError(created.error)}` } };
  }
  return openForAppend(path, header, 1);
}

/**
 * Reopen an interrupted journal to append recovery (undo) records after it. A torn tail is cut
 * off first (durably), so new lines never follow garbage.
 */
export async function resumeJournal(
  statePath: string,
): Promise<JournalResult<{ readonly journal: JournalHandle; readonly contents: JournalContents }>> {
  const read = await readJournal(statePath);
  if (!read.ok) return read;
  const path = journalPathFor(statePath);
  if (read.journal === null) return { ok: false, error: { code: 'JOURNAL_MISSING', path, message: 'there is no apply journal to resume' } };
  const contents = read.journal;
  if (contents.tornTail) {
    try {
      const handle = await open(path, 'r+');
      try {
        await handle.truncate(contents.validLength);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (e) {
      return { ok: false, error: { code: 'JOURNAL_WRITE_FAILED', path, message: `cannot cut the torn end off the apply journal: ${describeError(e)}` } };
    }
  }
  const opened = await openForAppend(path, contents.header, contents.records.length + 1);
  if (!opened.ok) return opened;
  return { ok: true, journal: opened.journal, contents };
}

/** Append one record and fsync it; resolves only once the record is on disk. */
export async function appendRecord(journal: JournalHandle, record: unknown): Promise<JournalResult<{ readonly seq: number }>> {
  const appended = await appendRecords(journal, [record]);
  return appended.ok ? { ok: true, seq: appended.lastSeq } : appended;
}

/**
 * Append several records with writes of about 64 KiB each and ONE fdatasync; resolves once all
 * are on disk. A crash mid-append can tear only the last line written (the kernel may persist a
 * prefix of the batch), which readJournal drops as a torn tail; the lines before it are whole. A
 * record with no JSON form is refused (JOURNAL_NOT_JSONABLE) after the whole 64 KiB pieces
 * before it were written; the seqs go on after those. An empty batch
 * does nothing. `lastSeq` is the seq of the last record (nextSeq - 1 for an empty batch).
 */
export async function appendRecords(journal: JournalHandle, records: readonly unknown[], options: { readonly sync?: boolean } = {}): Promise<JournalResult<{ readonly lastSeq: number }>> {
  const { path, file } = journal;
  const handle = file.handle;
  if (handle === null) return { ok: false, error: { code: 'JOURNAL_WRITE_FAILED', path, message: 'the apply journal is closed' } };
  if (records.length === 0) return { ok: true, lastSeq: file.nextSeq - 1 };
  // Lines are encoded and written in batches of about BATCH_CHARS: a checkpoint or a spill hands
  // over up to ~260k queued records, and encoding them all before the first write held their
  // lines, the joined text and its UTF-8 copy at once (~100 MB at 100k calls). The bytes written
  // are the same; only the write(2) calls are smaller. The cursor moves with every written batch,
  // so a failure part-way leaves whole lines with the right seqs in the file, like a torn write
  // of the single buffer did before (nothing here is acted on until the append returns).
  let seq = file.nextSeq;
  let pending: string[] = [];
  let pendingChars = 0;
  const writePending = async (): Promise<void> => {
    const bytes = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingChars = 0;
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
    file.nextSeq = seq;
  };
  try {
    for (const record of records) {
      const line = encodeLine(seq, { record });
      if (!line.ok) return { ok: false, error: { code: 'JOURNAL_NOT_JSONABLE', path, message: `cannot journal the record: ${line.message}` } };
      pending.push(line.line);
      pendingChars += line.line.length;
      seq += 1;
      if (pendingChars >= BATCH_CHARS) await writePending();
    }
    if (pendingChars > 0) await writePending();
    // fdatasync also persists the grown file size, which is what makes the line readable.
    // `sync: false` leaves the lines in the page cache (a writer spilling a long queue early);
    // they are durable after the next synced append.
    if (options.sync !== false) await handle.datasync();
  } catch (e) {
    return { ok: false, error: { code: 'JOURNAL_WRITE_FAILED', path, message: `cannot append to the apply journal: ${describeError(e)}` } };
  }
  if (options.sync !== false) crashPoint('journal-appended');
  return { ok: true, lastSeq: seq - 1 };
}

export async function closeJournal(journal: JournalHandle): Promise<void> {
  const handle = journal.file.handle;
  journal.file.handle = null;
  await handle?.close();
}

/**
 * Remove the journal, atomically and durably. Call it only after the new state file is written:
 * from then on the state alone describes the kernel. A missing journal is fine (idempotent).
 */
export async function clearJournal(statePath: string): Promise<JournalResult<object>> {
  const path = journalPathFor(statePath);
  try {
    await unlink(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') {
      return { ok: false, error: { code: 'JOURNAL_WRITE_FAILED', path, message: `cannot remove the apply journal: ${describeError(e)}` } };
    }
  }
  try {
    await fsyncDirectory(dirname(path));
  } catch (e) {
    return { ok: false, error: { code: 'JOURNAL_WRITE_FAILED', path, message: `cannot make the journal removal durable: ${describeError(e)}` } };
  }
  return { ok: true };
}

/**
 * What a journal found at startup means, given the state file now on disk:
 * - 'committed': the state was written by the journaled apply (same lineage, newer serial); only
 *   the journal removal was lost. Clear the journal; undo nothing.
 * - 'interrupted': the state is still the one the apply started from; the journal's records say
 *   what reached the kernel, and the applier must undo them before anything else.
 * - 'mismatch': the state is neither (another lineage, an older serial, or deleted since): the
 *   journal and the state disagree about history, and a person must decide.
 */
export function journalOutcome(
  header: JournalHeader,
  state: { readonly lineage: string; readonly serial: number } | null,
): 'committed' | 'interrupted' | 'mismatch' {
  if (state === null) return header.baseSerial === null ? 'interrupted' : 'mismatch';
  if (state.lineage !== header.lineage) return 'mismatch';
  const base = header.baseSerial ?? -1;
  if (state.serial > base) return 'committed';
  return state.serial === base ? 'interrupted' : 'mismatch';
}
