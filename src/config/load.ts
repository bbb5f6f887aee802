// The only file of src/config that touches the file system: read a layout file and parse it.
// A file that cannot be read is a diagnostic like any other, never an exception.

import { readFile } from 'node:fs/promises';
import type { Diagnostic } from '../diagnostics.js';
import { parseLayoutText, type ParseResult } from './parse.js';

export interface LoadResult extends ParseResult {
  /** The text that was parsed (for caret snippets), absent when the file could not be read. */
  readonly text?: string;
}

export async function readLayoutText(path: string): Promise<{ text: string } | { diagnostic: Diagnostic }> {
  try {
    return { text: await readFile(path, 'utf8') };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return { diagnostic: { severity: 'error', code: 'unreadable-file', message: `cannot read ${path}: ${reason}`, file: path } };
  }
}

export async function loadLayoutFile(path: string): Promise<LoadResult> {
  const read = await readLayoutText(path);
  if ('diagnostic' in read) return { diagnostics: [read.diagnostic] };
  return { ...parseLayoutText(read.text, path), text: read.text };
}
