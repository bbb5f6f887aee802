// A writer killed between creating its temp file and renaming (or linking) it leaves the temp
// file behind. Harmless (nothing reads temp names) but untidy, so commands holding the lock can
// sweep them. Only temps of processes that no longer exist are removed: a live process (say one
// waiting for the lock) may be about to link its temp into place.

import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from './durable-fs.js';
import { isTempNameFor, journalPathFor, lockPathFor } from './paths.js';

function isProcessGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return errnoCode(e) === 'ESRCH';
  }
}

/** Remove temp files of the state, journal and lock whose writer is dead; returns their names. */
export async function removeStaleTempFiles(statePath: string): Promise<string[]> {
  const dir = dirname(statePath);
  const targets = [statePath, journalPathFor(statePath), lockPathFor(statePath)];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const target = targets.find((t) => isTempNameFor(t, name));
    if (target === undefined) continue;
    const pid = Number(name.slice(basename(target).length + '.tmp-'.length).split('-')[0]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || !isProcessGone(pid)) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: either way nothing to report.
    }
  }
  return removed;
}
