// The only file of src/config that touches the file system: read a layout file and parse it.
// A file that cannot be read is a diagnostic like any other, never an exception.

import { open } from 'node:fs/promises';
import type { Diagnostic } from '../diagnostics.js';
import { parseLayoutText, type ParseResult } from './parse.js';

export interface LoadResult extends ParseResult {
  /** The text that was parsed (for caret snippets), absent when the file could not be read. */
  readonly text?: string;
}

/**
 * The largest layout file read. Real layouts are a few KiB; parsing YAML costs far more memory
 * than the text (a 50 MB file exhausted a 1 GiB heap after two minutes), so a huge file is refused
 * up front with a diagnostic instead of crashing the process. 8 MiB holds the 100k mappings issue
 * 7 plans (7.2 MB in the bench's format): the fast path reads that in ~170 MB, and yaml's
 * Document path, taken only for documents outside the common subset, in ~650 MB.
 */
export const MAX_LAYOUT_BYTES = 8 * 1024 * 1024;

export async function readLayoutText(path: string): Promise<{ text: string } | { diagnostic: Diagnostic }> {
  try {
    // Size from the open handle, so a file that grows between the check and the read cannot slip by.
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_LAYOUT_BYTES) return { diagnostic: tooLarge(path, size) };
      const text = await handle.readFile('utf8');
      if (Buffer.byteLength(text) > MAX_LAYOUT_BYTES) return { diagnostic: tooLarge(path, Buffer.byteLength(text)) };
      return { text };
    } finally {
      await handle.close();
    }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return { diagnostic: { severity: 'error', code: 'unreadable-file', message: `cannot read ${path}: ${reason}`, file: path } };
  }
}

function tooLarge(path: string, size: number): Diagnostic {
  return {
    severity: 'error',
    code: 'file-too-large',
    message: `${path} is ${size} bytes; a layout file may be at most ${MAX_LAYOUT_BYTES} bytes (8 MiB)`,
    file: path,
    hint: 'is this the right file? a layout describes a few IOASes and mappings',
  };
}

export async function loadLayoutFile(path: string): Promise<LoadResult> {
  const read = await readLayoutText(path);
  if ('diagnostic' in read) return { diagnostics: [read.diagnostic] };
  return { ...parseLayoutText(read.text, path), text: read.text };
}
