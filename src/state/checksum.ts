// "sha256:<64 hex>" over a canonical JSON text: the one checksum form used by state files and
// journal lines alike.

import { createHash } from 'node:crypto';

export const CHECKSUM_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function sha256Checksum(canonicalText: string): string {
  return `sha256:${createHash('sha256').update(canonicalText, 'utf8').digest('hex')}`;
}
