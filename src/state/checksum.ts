// "sha256:<64 hex>" over a canonical JSON text: the one checksum form used by state files and
// journal lines alike.

import { createHash } from 'node:crypto';
import { batched } from './batched.js';

export const CHECKSUM_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function sha256Checksum(canonicalText: string): string {
  return `sha256:${createHash('sha256').update(canonicalText, 'utf8').digest('hex')}`;
}

/**
 * sha256Checksum of the text `write` hands out in pieces, without building that text (the
 * state file's checksum covers ~100 MB of canonical JSON at 100k entries).
 */
export function sha256ChecksumOfParts(write: (put: (part: string) => void) => void): string {
  const hash = createHash('sha256');
  const sink = batched((text) => hash.update(text, 'utf8'));
  write(sink.put);
  sink.end();
  return `sha256:${hash.digest('hex')}`;
}
