// The journal file: one JSON record per line, each append fsync'ed before the call it announces.
// A crash can tear only the last line; reading drops a torn tail (and says so) instead of failing.
import { open, readFile, rm } from 'node:fs/promises';
import { encodeJson, reviveBigints } from '../plan/encode.js';
import type { JournalRecord } from './journal-records.js';

export async function appendJournal(path: string, record: JournalRecord): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.write(encodeJson(record, 0));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export type JournalRead =
  | { readonly ok: true; readonly records: JournalRecord[] | null; readonly tornTail: boolean }
  | { readonly ok: false; readonly code: 'JOURNAL_UNREADABLE'; readonly message: string };

/** The records of an existing journal, or `records: null` when there is none. */
export async function readJournal(path: string): Promise<JournalRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, records: null, tornTail: false };
    return { ok: false, code: 'JOURNAL_UNREADABLE', message: `cannot read the journal ${path}: ${(e as Error).message}` };
  }
  const lines = text.split('\n');
  const records: JournalRecord[] = [];
  let tornTail = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    try {
      records.push(reviveBigints(JSON.parse(line)) as JournalRecord);
    } catch {
      // Only the last line can be torn by a crash; garbage earlier means the file was damaged.
      if (lines.slice(i + 1).some((l) => l.trim() !== '')) {
        return { ok: false, code: 'JOURNAL_UNREADABLE', message: `the journal ${path} is damaged at line ${i + 1}` };
      }
      tornTail = true;
    }
  }
  return { ok: true, records, tornTail };
}

export async function removeJournal(path: string): Promise<void> {
  await rm(path, { force: true });
}
