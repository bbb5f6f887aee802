// Every file the store keeps next to a state file is named from the state path, so one state
// path is all a command needs to find its lock, its journal and any leftover temp files.

import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export const DEFAULT_STATE_PATH = './ioasform.state.json';

/** `<state>.lock`: exists while a process holds the state. */
export function lockPathFor(statePath: string): string {
  return `${statePath}.lock`;
}

/** `<state>.journal`: exists while an apply is in flight or was interrupted. */
export function journalPathFor(statePath: string): string {
  return `${statePath}.journal`;
}

/**
 * A fresh temp path for an atomic replace of `target`. Same directory as the target, because
 * rename(2) is only atomic within one file system. The pid and random tag keep two writers (or
 * a writer and the leftovers of a killed one) from ever sharing a temp file.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Whether `fileName` (a bare name in the target's directory) is a temp file of `target`. */
export function isTempNameFor(target: string, fileName: string): boolean {
  const prefix = `${basename(target)}.tmp-`;
  return fileName.startsWith(prefix) && /^\d+-[0-9a-f]{8}$/.test(fileName.slice(prefix.length));
}
