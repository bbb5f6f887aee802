import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hexToBigint } from '../../src/state/canonical-json.js';
import {
  newLineageState,
  nextState,
  readStateFile,
  readStateFileIfExists,
  writeStateFile,
} from '../../src/state/state-file.js';
import type { StateEnvelope, UnsealedState } from '../../src/state/state-file.js';
import { hasOnlySafeIntegers, makeTempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let statePath: string;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
  statePath = join(dir, 'ioasform.state.json');
});
afterEach(() => cleanup());

const body = {
  ioas: { dp: { id: 3, mappings: [{ name: 'rx', iova: 0xffff_ffff_ffff_f000n, length: 0x1000n }] } },
  note: 'ünïcode ✓',
};

async function written(state: UnsealedState | StateEnvelope = newLineageState(body)): Promise<StateEnvelope> {
  const r = await writeStateFile(statePath, state);
  if (!r.ok) throw new Error(r.error.message);
  return r.state;
}

async function expectReadError(code: string): Promise<string> {
  const r = await readStateFile(statePath);
  expect(r.ok).toBe(false);
  if (r.ok) return '';
  expect(r.error.code).toBe(code);
  expect(r.error.path).toBe(statePath);
  return r.error.message;
}

describe('state file round trip', () => {
  it('writes and reads back a body with 64-bit values as hex strings', async () => {
    const sealed = await written();
    expect(sealed.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = await readStateFile(statePath);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state.lineage).toBe(sealed.lineage);
    expect(r.state.serial).toBe(0);
    expect(r.state.checksum).toBe(sealed.checksum);
    const mapping = (r.state.body as typeof body & { ioas: { dp: { mappings: { iova: string }[] } } }).ioas.dp.mappings[0];
    expect(mapping?.iova).toBe('0xfffffffffffff000');
    expect(hexToBigint(mapping?.iova ?? '')).toBe(0xffff_ffff_ffff_f000n);
  });

  it('round-trips arbitrary JSON bodies (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue().filter(hasOnlySafeIntegers), async (value) => {
        const r1 = await writeStateFile(statePath, newLineageState(value));
        expect(r1.ok).toBe(true);
        const r2 = await readStateFile(statePath);
        expect(r2.ok).toBe(true);
        if (r2.ok) expect(r2.state.body).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 40 },
    );
  });

  it('puts the header first and writes identical bytes for an identical state', async () => {
    const state = newLineageState(body);
    await written(state);
    const first = readFileSync(statePath, 'utf8');
    expect(first.indexOf('"formatVersion"')).toBeLessThan(first.indexOf('"body"'));
    await written({ ...state, body: { note: body.note, ioas: body.ioas } });
    expect(readFileSync(statePath, 'utf8')).toBe(first);
  });

  it('leaves no temp file behind', async () => {
    await written();
    await written(nextState((await readStateFile(statePath) as { state: StateEnvelope }).state, body));
    expect(readdirSync(dir)).toEqual(['ioasform.state.json']);
  });

  it('starts a lineage at serial 0 and continues it one serial at a time', async () => {
    const first = await written();
    const second = await written(nextState(first, { changed: true }));
    expect(second.lineage).toBe(first.lineage);
    expect(second.serial).toBe(1);
    expect(newLineageState(body).lineage).not.toBe(first.lineage);
  });

  it('recomputes a checksum it is handed rather than trusting it', async () => {
    const state = { ...newLineageState(body), checksum: `sha256:${'0'.repeat(64)}` };
    const sealed = await written(state);
    expect(sealed.checksum).not.toBe(state.checksum);
    expect((await readStateFile(statePath)).ok).toBe(true);
  });

  it('refuses a body with no JSON form and leaves the old file alone', async () => {
    await written();
    const before = readFileSync(statePath, 'utf8');
    const r = await writeStateFile(statePath, newLineageState({ a: undefined }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('STATE_NOT_JSONABLE');
    expect(readFileSync(statePath, 'utf8')).toBe(before);
  });

  it('reports an unwritable location as STATE_WRITE_FAILED', async () => {
    const r = await writeStateFile(join(dir, 'no-such-dir', 'state.json'), newLineageState(body));
    expect(!r.ok && r.error.code).toBe('STATE_WRITE_FAILED');
  });
});

describe('state file damage is detected', () => {
  it('a one-byte edit in the body is a checksum mismatch', async () => {
    await written();
    const text = readFileSync(statePath, 'utf8');
    const at = text.indexOf('fffff000');
    expect(at).toBeGreaterThan(0);
    writeFileSync(statePath, `${text.slice(0, at)}e${text.slice(at + 1)}`);
    const message = await expectReadError('STATE_CHECKSUM_MISMATCH');
    expect(message).toContain('edited by hand or torn: checksum mismatch');
  });

  it('an edited serial is a checksum mismatch too', async () => {
    await written();
    writeFileSync(statePath, readFileSync(statePath, 'utf8').replace('"serial": 0', '"serial": 1'));
    await expectReadError('STATE_CHECKSUM_MISMATCH');
  });

  it('re-indenting the file changes no content and is accepted', async () => {
    await written();
    const value = JSON.parse(readFileSync(statePath, 'utf8')) as unknown;
    writeFileSync(statePath, JSON.stringify(value));
    expect((await readStateFile(statePath)).ok).toBe(true);
  });

  it('a truncated file is not JSON', async () => {
    await written();
    const text = readFileSync(statePath, 'utf8');
    writeFileSync(statePath, text.slice(0, Math.floor(text.length / 2)));
    expect(await expectReadError('STATE_NOT_JSON')).toContain('truncated');
  });

  it('an empty file is not JSON', async () => {
    writeFileSync(statePath, '');
    expect(await expectReadError('STATE_NOT_JSON')).toContain('empty');
  });

  it('another format version is reported as such, before the checksum', async () => {
    await written();
    writeFileSync(statePath, readFileSync(statePath, 'utf8').replace('"formatVersion": 1', '"formatVersion": 2'));
    expect(await expectReadError('STATE_BAD_VERSION')).toContain('formatVersion 2');
  });

  it.each([
    ['an array', () => '[]'],
    ['no lineage', (t: string) => t.replace(/"lineage": "[^"]*",/, '')],
    ['a non-uuid lineage', (t: string) => t.replace(/"lineage": "[^"]*"/, '"lineage": "prod"')],
    ['a negative serial', (t: string) => t.replace('"serial": 0', '"serial": -1')],
    ['a malformed checksum', (t: string) => t.replace(/"sha256:[0-9a-f]+"/, '"md5:abc"')],
    ['no body', (t: string) => t.replace(/,\s*"body": [\s\S]*\n}\n$/, '\n}\n')],
    ['an extra field', (t: string) => t.replace('{', '{"extra": 1,')],
  ])('a file with %s has a bad shape', async (_name, edit) => {
    await written();
    writeFileSync(statePath, edit(readFileSync(statePath, 'utf8')));
    await expectReadError('STATE_BAD_SHAPE');
  });

  it('a missing file is STATE_MISSING, or an empty state when the caller asks', async () => {
    await expectReadError('STATE_MISSING');
    const r = await readStateFileIfExists(statePath);
    expect(r.ok && r.state).toBeNull();
  });

  it('a directory in place of the file is unreadable, not a crash', async () => {
    const r = await readStateFile(dir);
    expect(!r.ok && r.error.code).toBe('STATE_UNREADABLE');
  });
});
