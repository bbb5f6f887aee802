// The state file is hashed and written in pieces (writeCanonicalJson, batched, writeFileAtomicFrom)
// instead of as one string. These check the pieces against the one-string forms the files were
// made with before: the same text, the same checksum, the same file bytes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batched } from '../../src/state/batched.js';
import { bigintToHex, writeCanonicalJson } from '../../src/state/canonical-json.js';
import { sha256ChecksumOfParts } from '../../src/state/checksum.js';
import { newLineageState, writeStateFile } from '../../src/state/state-file.js';
import { hasOnlySafeIntegers, makeTempDir } from './helpers.js';

/** The string-building encoder the state files were written with before streaming (reference). */
function reference(v: unknown, indent: number, depth = 0): string {
  if (typeof v === 'bigint') return JSON.stringify(bigintToHex(v));
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const pad = indent > 0 ? '\n' + ' '.repeat(indent * (depth + 1)) : '';
  const closePad = indent > 0 ? '\n' + ' '.repeat(indent * depth) : '';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${pad}${v.map((x) => reference(x, indent, depth + 1)).join(`,${pad}`)}${closePad}]`;
  const record = v as Record<string, unknown>;
  const members = Object.keys(record).sort().map((k) => `${JSON.stringify(k)}${indent > 0 ? ': ' : ':'}${reference(record[k], indent, depth + 1)}`);
  return members.length === 0 ? '{}' : `{${pad}${members.join(`,${pad}`)}${closePad}}`;
}

const streamed = (value: unknown, indent: number, depth = 0): string => {
  const parts: string[] = [];
  const r = writeCanonicalJson(value, { indent, depth }, (p) => parts.push(p));
  if (!r.ok) throw new Error(r.error.message);
  return parts.join('');
};

const jsonWithBigints = fc.oneof(fc.jsonValue().filter(hasOnlySafeIntegers), fc.dictionary(fc.string(), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })));

describe('streamed canonical JSON', () => {
  it('emits the reference text, compact and indented (property)', () => {
    fc.assert(
      fc.property(jsonWithBigints, (value) => {
        expect(streamed(value, 0)).toBe(reference(value, 0));
        expect(streamed(value, 2)).toBe(reference(value, 2));
      }),
    );
  });

  it('at depth 1 equals the depth-0 text with every line after the first indented once more', () => {
    fc.assert(
      fc.property(jsonWithBigints, (value) => {
        expect(streamed(value, 2, 1)).toBe(reference(value, 2).replace(/\n/g, '\n  '));
      }),
    );
  });

  it('batches pieces without losing, reordering or splitting any (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.integer({ min: 1, max: 20 }), (parts, size) => {
        const flushed: string[] = [];
        const sink = batched((text) => flushed.push(text), size);
        parts.forEach(sink.put);
        sink.end();
        expect(flushed.join('')).toBe(parts.join(''));
        expect(flushed.every((text) => text.length > 0)).toBe(true);
        // Only the last batch may be shorter than the size.
        expect(flushed.slice(0, -1).every((text) => text.length >= size)).toBe(true);
      }),
    );
  });

  it('hashes in pieces to the checksum of the whole text, across batch boundaries', () => {
    const parts = Array.from({ length: 5000 }, (_, i) => `{"ü${i}":${'x'.repeat(i % 97)}}`);
    const whole = `sha256:${createHash('sha256').update(parts.join(''), 'utf8').digest('hex')}`;
    expect(sha256ChecksumOfParts((put) => parts.forEach(put))).toBe(whole);
  });
});

describe('state file written in pieces', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = makeTempDir()));
  afterEach(() => cleanup());

  it('has the bytes and checksum of the one-string rendering (property)', async () => {
    await fc.assert(
      fc.asyncProperty(jsonWithBigints, async (body) => {
        const path = join(dir, 'state.json');
        const state = newLineageState(body);
        const r = await writeStateFile(path, state);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const checksum = `sha256:${createHash('sha256').update(reference({ formatVersion: 1, lineage: state.lineage, serial: 0, body }, 0), 'utf8').digest('hex')}`;
        expect(r.state.checksum).toBe(checksum);
        const header = [`  "formatVersion": 1`, `  "lineage": ${JSON.stringify(state.lineage)}`, `  "serial": 0`, `  "checksum": "${checksum}"`];
        const expected = `{\n${[...header, `  "body": ${reference(body, 2).replace(/\n/g, '\n  ')}`].join(',\n')}\n}\n`;
        expect(readFileSync(path, 'utf8')).toBe(expected);
      }),
      { numRuns: 40 },
    );
  });
});
