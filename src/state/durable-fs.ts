// The few file-system moves the store's crash safety rests on, in one place:
// - writeFileAtomic: temp file in the same directory, write, fsync, rename over the target, fsync
//   the directory. A reader (or a process started after a crash) sees the old file or the new
//   one, never a mix, and once this resolves the new one survives a power cut.
// - createFileExclusive: create a file that must not exist yet, with its whole content visible
//   at once (temp file + link(2), which fails with EEXIST like O_EXCL), durably.
// - fsyncDirectory: makes a create/rename/unlink in a directory durable.

import { writeSync } from 'node:fs';
import { link, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { batched } from './batched.js';
import { crashPoint } from './crash-point.js';
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
  await writeFileAtomicFrom(target, (put) => put(content), mode);
}

/**
 * writeFileAtomic for content produced in pieces: `write` hands them to `put` (synchronously),
 * and they reach the temp file in batches, so a large file never exists as one string. Throws
 * the underlying fs error, or whatever `write` throws (the target is then left as it was).
 */
export async function writeFileAtomicFrom(target: string, write: (put: (part: string) => void) => void, mode = 0o644): Promise<void> {
  const temp = tempPathFor(target);
  let renamed = false;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      const sink = batched((text) => writeAllSync(handle.fd, Buffer.from(text, 'utf8')));
      write(sink.put);
      sink.end();
      await handle.sync();
    } finally {
      await handle.close();
    }
    crashPoint('state-temp-written');
    await rename(temp, target);
    renamed = true;
    crashPoint('state-renamed');
    await fsyncDirectory(dirname(target));
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
}

function writeAllSync(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

async function writeAndSync(path: string, flags: string, content: string, mode: number): Promise<void> {
  const handle = await open(path, flags, mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Create `target` with `content` unless it exists: 'created', 'exists', or the fs error that
 * stopped us. The content is written and fsynced under a temp name first and then link(2)ed to
 * the target, so nobody ever sees the target empty or half-written, even after a crash. File
 * systems without hard links fall back to open(O_EXCL), which has that (small) window.
 */
export async function createFileExclusive(
  target: string,
  content: string,
  mode = 0o644,
): Promise<'created' | 'exists' | { readonly error: unknown }> {
  const temp = tempPathFor(target);
  try {
    await writeAndSync(temp, 'wx', content, mode);
    try {
      await link(temp, target);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST') return 'exists';
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') return { error: e };
      try {
        await writeAndSync(target, 'wx', content, mode);
      } catch (e2) {
        return errnoCode(e2) === 'EEXIST' ? 'exists' : { error: e2 };
      }
    }
    await fsyncDirectory(dirname(target));
    return 'created';
  } catch (e) {
    return { error: e };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
