import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendRecord,
  appendRecords,
  clearJournal,
  closeJournal,
  journalOutcome,
  openJournal,
  readJournal,
  resumeJournal,
} from '../../src/state/journal.js';
import type { JournalContents, JournalHandle, JournalHeader } from '../../src/state/journal.js';
import { journalPathFor } from '../../src/state/paths.js';
import { canonicalJson } from '../../src/state/canonical-json.js';
import { sha256Checksum } from '../../src/state/checksum.js';
import { makeTempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let statePath: string;
let journalPath: string;
const lineage = randomUUID();
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
  statePath = join(dir, 'ioasform.state.json');
  journalPath = journalPathFor(statePath);
});
afterEach(() => cleanup());

const records = [
  { kind: 'begin', planDigest: 'sha256:abc' },
  { kind: 'intent', step: { op: 'map', iova: 0xffff_ffff_ffff_f000n } },
  { kind: 'done', step: 1, result: { iova: 0xffff_ffff_ffff_f000n } },
];

async function journalWith(recs: readonly unknown[], baseSerial: number | null = 4): Promise<JournalHandle> {
  const opened = await openJournal(statePath, { lineage, baseSerial });
  if (!opened.ok) throw new Error(opened.error.message);
  for (const r of recs) {
    const appended = await appendRecord(opened.journal, r);
    if (!appended.ok) throw new Error(appended.error.message);
  }
  return opened.journal;
}

async function contents(): Promise<JournalContents> {
  const r = await readJournal(statePath);
  if (!r.ok) throw new Error(r.error.message);
  if (r.journal === null) throw new Error('no journal');
  return r.journal;
}

const asJson = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x))) as unknown;

describe('journal', () => {
  it('writes each line as the canonical JSON of {checksum, record, seq}, also in one batched append', async () => {
    const opened = await openJournal(statePath, { lineage, baseSerial: 1 });
    if (!opened.ok) throw new Error(opened.error.message);
    const appended = await appendRecords(opened.journal, records);
    expect(appended).toEqual({ ok: true, lastSeq: 3 });
    expect((await appendRecords(opened.journal, [])).ok).toBe(true);
    await closeJournal(opened.journal);
    const lines = readFileSync(journalPath, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(4);
    records.forEach((record, i) => {
      const seq = i + 1;
      const unsigned = canonicalJson({ record, seq });
      if (!unsigned.ok) throw new Error('not jsonable');
      const signed = canonicalJson({ checksum: sha256Checksum(unsigned.text), record, seq });
      expect(signed.ok && lines[seq]).toBe(signed.ok ? signed.text : '');
    });
    expect((await contents()).records).toEqual(records.map(asJson));
  });

  it('a batch of many records (several write batches) gives the same bytes as appending them one by one', async () => {
    // ~300 KB of lines: the append encodes and writes them in ~64 KiB pieces.
    const many = Array.from({ length: 3000 }, (_, i) => ({ kind: 'intent', seq: i, step: { op: 'map', iova: BigInt(i) << 12n, name: `entry-${i}-${'x'.repeat(i % 50)}` } }));
    const batchedJournal = await journalWith([]);
    const appended = await appendRecords(batchedJournal, many);
    expect(appended).toEqual({ ok: true, lastSeq: many.length });
    expect((await appendRecords(batchedJournal, records)).ok && true).toBe(true);
    await closeJournal(batchedJournal);
    const batchedBytes = readFileSync(journalPath);
    expect(batchedBytes.length).toBeGreaterThan(4 * 65536);
    const header = batchedBytes.subarray(0, batchedBytes.indexOf(10) + 1);
    cleanup();
    ({ dir, cleanup } = makeTempDir());
    statePath = join(dir, 'ioasform.state.json');
    journalPath = journalPathFor(statePath);
    await closeJournal(await journalWith([...many, ...records]));
    const oneByOne = readFileSync(journalPath);
    // The headers differ only in createdAt; every record line is identical.
    expect(batchedBytes.subarray(header.length).equals(oneByOne.subarray(oneByOne.indexOf(10) + 1))).toBe(true);
    expect((await contents()).records).toEqual([...many, ...records].map(asJson));
  });

  it('a record with no JSON form late in a long batch: whole lines before it, and the next append continues their seqs', async () => {
    const many: unknown[] = Array.from({ length: 2000 }, (_, i) => ({ kind: 'done', seq: i, pad: 'y'.repeat(100) }));
    many.push({ kind: 'intent', step: undefined });
    const journal = await journalWith([]);
    const refused = await appendRecords(journal, many);
    expect(!refused.ok && refused.error.code).toBe('JOURNAL_NOT_JSONABLE');
    const after = await appendRecord(journal, { kind: 'end' });
    await closeJournal(journal);
    const read = await contents();
    expect(read.tornTail).toBe(false);
    // Only whole batches reached the file: a prefix of the records, then the next append.
    const written = read.records.length - 1;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(2000);
    expect(read.records.slice(0, written)).toEqual(many.slice(0, written).map(asJson));
    expect(read.records[written]).toEqual({ kind: 'end' });
    expect(after.ok && after.seq).toBe(written + 1);
  });

  it('reads back its header and records in order, 64-bit values as hex', async () => {
    const journal = await journalWith(records);
    await closeJournal(journal);
    const read = await contents();
    expect(read.header).toMatchObject({ formatVersion: 1, lineage, baseSerial: 4 });
    expect(read.records).toEqual(records.map(asJson));
    expect(JSON.stringify(read.records[1])).toContain('"0xfffffffffffff000"');
    expect(read.tornTail).toBe(false);
    expect(read.validLength).toBe(readFileSync(journalPath).length);
  });

  it('each append is on disk when it returns: one checksummed line per record', async () => {
    const journal = await journalWith([]);
    for (const [i, r] of records.entries()) {
      const appended = await appendRecord(journal, r);
      expect(appended.ok && appended.seq).toBe(i + 1);
      const lines = readFileSync(journalPath, 'utf8').split('\n');
      expect(lines).toHaveLength(i + 3); // header + records so far + the empty tail after the last \n
      expect(lines[i + 1]).toMatch(/^\{"checksum":"sha256:[0-9a-f]{64}","record":.*,"seq":\d+\}$/);
    }
    await closeJournal(journal);
  });

  it('no journal reads as null; a second open refuses to overwrite an existing one', async () => {
    const none = await readJournal(statePath);
    expect(none.ok && none.journal).toBeNull();
    await closeJournal(await journalWith(records));
    const second = await openJournal(statePath, { lineage, baseSerial: 5 });
    expect(!second.ok && second.error.code).toBe('JOURNAL_EXISTS');
    expect((await contents()).records).toHaveLength(records.length);
  });

  it('a record with no JSON form is refused and nothing is written', async () => {
    const journal = await journalWith(records);
    const before = readFileSync(journalPath, 'utf8');
    const r = await appendRecord(journal, { kind: 'intent', step: undefined });
    expect(!r.ok && r.error.code).toBe('JOURNAL_NOT_JSONABLE');
    expect(readFileSync(journalPath, 'utf8')).toBe(before);
    await closeJournal(journal);
    const closed = await appendRecord(journal, { kind: 'end' });
    expect(!closed.ok && closed.error.code).toBe('JOURNAL_WRITE_FAILED');
  });

  it('a torn last line (cut mid-write) is tolerated and reported', async () => {
    await closeJournal(await journalWith(records));
    const size = readFileSync(journalPath).length;
    truncateSync(journalPath, size - 7);
    const read = await contents();
    expect(read.tornTail).toBe(true);
    expect(read.records).toEqual(records.slice(0, -1).map(asJson));
  });

  it('a garbled last line (newline intact) is tolerated as torn too', async () => {
    await closeJournal(await journalWith(records));
    const text = readFileSync(journalPath, 'utf8');
    const at = text.lastIndexOf('"done"');
    writeFileSync(journalPath, `${text.slice(0, at)}"dome"${text.slice(at + 6)}`);
    const read = await contents();
    expect(read.tornTail).toBe(true);
    expect(read.records).toHaveLength(records.length - 1);
  });

  it('garbage in the middle is corruption, with the line number', async () => {
    await closeJournal(await journalWith(records));
    const text = readFileSync(journalPath, 'utf8');
    const at = text.indexOf('"intent"');
    writeFileSync(journalPath, `${text.slice(0, at)}"intenT"${text.slice(at + 8)}`);
    const r = await readJournal(statePath);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('JOURNAL_CORRUPT');
    expect(r.error.line).toBe(3);
  });

  it('a lost line in the middle is corruption (sequence gap)', async () => {
    await closeJournal(await journalWith(records));
    const lines = readFileSync(journalPath, 'utf8').split('\n');
    lines.splice(2, 1);
    writeFileSync(journalPath, lines.join('\n'));
    const r = await readJournal(statePath);
    expect(!r.ok && r.error.code).toBe('JOURNAL_CORRUPT');
  });

  it('a journal without a valid header is corruption', async () => {
    writeFileSync(journalPath, 'garbage\n');
    const r = await readJournal(statePath);
    expect(!r.ok && r.error.code).toBe('JOURNAL_CORRUPT');
    expect(!r.ok && r.error.line).toBe(1);
  });

  it('an intact journal of another format version is reported as such', async () => {
    const unsigned = { seq: 0, header: { formatVersion: 2, lineage, baseSerial: 1, createdAt: '' } };
    const text = canonicalJson(unsigned);
    if (!text.ok) throw new Error(text.error.message);
    const line = canonicalJson({ ...unsigned, checksum: sha256Checksum(text.text) });
    if (!line.ok) throw new Error(line.error.message);
    writeFileSync(journalPath, `${line.text}\n`);
    const r = await readJournal(statePath);
    expect(!r.ok && r.error.code).toBe('JOURNAL_BAD_VERSION');
  });

  it('resume cuts a torn tail off and continues the sequence after it', async () => {
    await closeJournal(await journalWith(records));
    const size = readFileSync(journalPath).length;
    truncateSync(journalPath, size - 3);
    const resumed = await resumeJournal(statePath);
    expect(resumed.ok).toBe(true);
    if (!resumed.ok) return;
    expect(resumed.contents.tornTail).toBe(true);
    const undo = await appendRecord(resumed.journal, { kind: 'undo', step: 1 });
    expect(undo.ok && undo.seq).toBe(records.length);
    await closeJournal(resumed.journal);
    const read = await contents();
    expect(read.tornTail).toBe(false);
    expect(read.records).toEqual([...records.slice(0, -1).map(asJson), { kind: 'undo', step: 1 }]);
  });

  it('resume without a journal is JOURNAL_MISSING', async () => {
    const r = await resumeJournal(statePath);
    expect(!r.ok && r.error.code).toBe('JOURNAL_MISSING');
  });

  it('clear removes it (idempotently) and leaves no temp files', async () => {
    await closeJournal(await journalWith(records));
    expect((await clearJournal(statePath)).ok).toBe(true);
    expect(existsSync(journalPath)).toBe(false);
    expect((await clearJournal(statePath)).ok).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect((await openJournal(statePath, { lineage, baseSerial: 5 })).ok).toBe(true);
  });
});

describe('journalOutcome', () => {
  const header = (baseSerial: number | null): JournalHeader => ({ formatVersion: 1, lineage, baseSerial, createdAt: '' });
  it.each([
    ['state still at the base serial', header(4), { lineage, serial: 4 }, 'interrupted'],
    ['state one past the base', header(4), { lineage, serial: 5 }, 'committed'],
    ['no state before, none now', header(null), null, 'interrupted'],
    ['no state before, the new lineage now', header(null), { lineage, serial: 0 }, 'committed'],
    ['a state of another lineage', header(4), { lineage: randomUUID(), serial: 5 }, 'mismatch'],
    ['a state older than the base', header(4), { lineage, serial: 3 }, 'mismatch'],
    ['the state was deleted', header(4), null, 'mismatch'],
  ] as const)('%s: %s', (_name, h, state, expected) => {
    expect(journalOutcome(h, state)).toBe(expected);
  });
});
