// The few file-system moves the store's crash safety rests on, in one place:
// - writeFileAtomic: temp file in the same directory, write, fsync, rename over the target, fsync
//   the directory. A reader (or a process started after a crash) sees the old file or the new
//   one, never a mix, and once this resolves the new one survives a power cut.
// - fsyncDirectory: makes a create/rename/unlink in a directory durable.

import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tempPathFor } from './paths.js';

export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

export function describeError(e: unknown): string {
  const code = errnoCode(e);
  const message = e instanceof Error ? e.message : String(e);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * fsync a directory so entries created, renamed or removed in it are on disk. Some file systems
 * cannot open or fsync a directory (EISDIR, EINVAL, EPERM); there is nothing better to do there,
 * so those are ignored rather than failing a write that did happen.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = errnoCode(e);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await handle?.close();
  }
}

/** Replace `target` with `content` atomically and durably. Throws the underlying fs error. */
export async function writeFileAtomic(target: string, content: string, mode = 0o644): Promise<void> {
  const temp = tempPathFor(target);
  let renamed = false;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    renamed = true;
    await fsyncDirectory(dirname(target));
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
}
