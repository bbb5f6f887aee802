// Issue 6.4: hostile input. Every layout in a generated fuzz corpus, every corrupted state file and
// every stale or tampered saved plan goes through the real CLI entry point (`run`, in-process for
// speed; the 50 MB file and the alias bomb also as child processes with a capped heap). Each must
// give a clear diagnostic and exit code 1 (or, for a layout that is still valid after mutation, a
// normal plan/apply), never an internal error or a stack trace, and never change the state file.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LAYOUT_BYTES } from '../../src/config/load.js';
import { memoryIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';
import { BIN, ROOT, ensureBuilt } from '../cli/support.js';
import { LONG, record, seedFor } from './figures.js';

const EXAMPLES = ['vmm-guest-ram', 'test-lab', 'dpdk-appliance'].map((n) => readFileSync(join(ROOT, 'examples', `${n}.yaml`), 'utf8'));
const STACK_TRACE = /\n\s+at .+:\d+:\d+\)?/;
const figures = { layouts: 0, layoutsRejected: 0, stateFiles: 0, savedPlans: 0, bigFileMs: 0 };

let dir = '';
let statePath = '';
let stateBytes = '';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

async function cli(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(['--state', statePath, ...args], io);
  return { code, out: io.out(), err: io.err() };
}

function expectClean(r: { code: number; err: string }, what: string): void {
  expect(r.err, what).not.toMatch(/internal error/);
  expect(r.err, what).not.toMatch(STACK_TRACE);
  if (r.code === 1) expect(r.err.trim().length, what).toBeGreaterThan(10);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ioasform-badinput-'));
  statePath = join(dir, 'ioasform.state.json');
  writeFileSync(join(dir, 'good.yaml'), EXAMPLES[0]!);
  expect((await cli(['apply', '--auto-approve', join(dir, 'good.yaml')])).code).toBe(0);
  stateBytes = readFileSync(statePath, 'utf8');
}, 60_000);

afterAll(() => {
  record('bad-input', figures);
  rmSync(dir, { recursive: true, force: true });
});

/** Hostile values for any number in a layout. */
const HOSTILE_NUMBERS = ['-1', '-4096', '-0x1000', '0', '18446744073709551616', '0x10000000000000000', '18446744073709551615', '0xffffffffffffffff', '99999999999999999999999999999999', '1e400', '.inf', '-.inf', '.nan', '4097', '1.5', 'true', 'null', '"12"', '[]', '{}', '16EiB', '17179869184GiB', '-1GiB', '0x'];

function handWritten(): string[] {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  const deepMap = (n: number): string => `version: 1\nmemory: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`;
  const laughs = ['version: 1', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 10; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  return [
    '', '\n', '---\n', '~', 'null', '42', '"just a string"', '[]', '{}', 'version: 1', 'version: 2\nmemory: {}\nioas: {}\n', 'version: "1"\n', 'version: 0\n', 'version: -1\n',
    'version: 18446744073709551616\n', 'version: 1\nmemory: 7\n', 'version: 1\nmemory: [1, 2]\nioas: "x"\n', 'version: 1\nioas:\n  a:\n    mappings: 12\n',
    'version: 1\nmemory:\n  m: {size: 4KiB}\n  m: {size: 8KiB}\n', 'version: 1\nversion: 1\n', 'version: 1\nmemory:\n  m: {size: 4KiB, size: 8KiB}\n',
    deep(10_000), deepMap(5_000), `version: 1\nmemory:\n${'  '.repeat(2000)}x: 1\n`, laughs.join('\n') + '\n', '\u0000\u0001\u0002\uffff', '\ufeffversion: 1\n', 'version: 1\r\nmemory: {}\r\n',
    'version: !!binary aGVsbG8=\n', 'version: !!js/function "function(){}"\n', '%YAML 9.9\n---\nversion: 1\n', 'version: 1\n---\nversion: 1\n', '"unterminated', 'key: [unclosed', '\tversion: 1\n',
    'version: 1\n<<: *undefined\n', `version: 1\nmemory:\n  m: {size: ${'9'.repeat(5000)}}\n`, `version: 1\nname: ${'x'.repeat(1_000_000)}\n`,
  ];
}

/** Seeded corpus: truncations, number mutations, type swaps, random garbage. */
function generated(): string[] {
  const n = LONG ? 400 : 60;
  const seed = seedFor(4);
  const pick = fc.constantFrom(...EXAMPLES);
  const truncations = fc.sample(fc.tuple(pick, fc.double({ min: 0, max: 1, noNaN: true })).map(([t, f]) => t.slice(0, Math.floor(t.length * f))), { numRuns: n, seed });
  const numberMutations = fc.sample(fc.tuple(pick, fc.nat(), fc.constantFrom(...HOSTILE_NUMBERS)).map(([t, k, v]) => {
    const spots = [...t.matchAll(/(?<=:\s*)(0x[0-9a-fA-F_]+|\d[\d_]*\s*[KMGT]?i?B?)/g)];
    const m = spots[k % Math.max(1, spots.length)];
    return m ? t.slice(0, m.index) + v + t.slice(m.index! + m[0].length) : t;
  }), { numRuns: n, seed: seed + 1 });
  const typeSwaps = fc.sample(fc.tuple(pick, fc.nat(), fc.constantFrom('[]', '{}', 'true', '"s"', '~', '[1, [2]]', '{x: {y: z}}')).map(([t, k, v]) => {
    const lines = t.split('\n');
    const i = k % lines.length;
    lines[i] = lines[i]!.replace(/:\s+\S.*$/, `: ${v}`);
    return lines.join('\n');
  }), { numRuns: n, seed: seed + 2 });
  const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((b) => Buffer.from(b).toString('latin1')), { numRuns: n, seed: seed + 3 });
  return [...truncations, ...numberMutations, ...typeSwaps, ...garbage];
}

describe('hostile layouts: a clear diagnostic or a sane plan, never a stack trace, never a changed state', () => {
  it('the whole corpus through plan and apply', async () => {
    const corpus = [...handWritten(), ...generated()];
    const file = join(dir, 'fuzz.yaml');
    for (const [i, text] of corpus.entries()) {
      writeFileSync(file, text, 'latin1');
      const planned = await cli(['plan', file]);
      expectClean(planned, `plan of corpus #${i}`);
      expect([0, 1, 2], `plan of corpus #${i}: ${planned.err}`).toContain(planned.code);
      expect(sha(readFileSync(statePath, 'utf8')), `plan of corpus #${i} changed the state`).toBe(sha(stateBytes));
      const applied = await cli(['apply', '--auto-approve', file]);
      expectClean(applied, `apply of corpus #${i}`);
      figures.layouts += 1;
      if (planned.code === 1) {
        figures.layoutsRejected += 1;
        expect(applied.code, `apply of corpus #${i}`).toBe(1);
        expect(applied.err).toMatch(/error [a-z-]+|Error: /);
        expect(sha(readFileSync(statePath, 'utf8')), `rejected corpus #${i} changed the state`).toBe(sha(stateBytes));
      } else {
        // Still a valid layout after mutation: it may apply; put the original state back.
        writeFileSync(statePath, stateBytes);
      }
    }
    // Not vacuous: most of the corpus is really invalid.
    expect(figures.layoutsRejected).toBeGreaterThan(corpus.length * 0.6);
  }, 300_000);

  it('a 50 MB layout is refused with file-too-large, quickly and with a small heap', () => {
    ensureBuilt();
    const big = join(dir, 'big.yaml');
    const entry = '  - {name: region, size: 4KiB}\n';
    writeFileSync(big, 'version: 1\nmemory:\n' + entry.repeat(Math.ceil((50 * 1024 * 1024) / entry.length)));
    const t0 = Date.now();
    // A 128 MiB heap: the file would need gigabytes to parse, so passing proves it is not parsed.
    const r = spawnSync(process.execPath, ['--max-old-space-size=128', BIN, '--state', statePath, 'apply', '--auto-approve', big], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    figures.bigFileMs = Date.now() - t0;
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/file-too-large/);
    expect(r.stderr).toContain(String(MAX_LAYOUT_BYTES));
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(sha(readFileSync(statePath, 'utf8'))).toBe(sha(stateBytes));
    rmSync(big);
  }, 120_000);
});

describe('corrupted, edited and truncated state files: refused, never overwritten', () => {
  it('every corruption is reported and leaves the file as it was', async () => {
    const n = LONG ? 300 : 40;
    const seed = seedFor(41);
    const edits: string[] = [
      '', '{', 'null', '[]', '{}', stateBytes.replace('"formatVersion": 1', '"formatVersion": 2'), stateBytes.replace('"formatVersion": 1', '"formatVersion": 0'),
      stateBytes.replace(/"serial": \d+/, '"serial": 999'), stateBytes.replace(/"checksum": "sha256:[0-9a-f]+"/, '"checksum": "sha256:' + '0'.repeat(64) + '"'),
      stateBytes.replace(/"checksum": "[^"]+",\n/, ''), stateBytes.replace('"backend": "sim"', '"backend": "kernel"'), stateBytes.replace(/"userVa": "0x[0-9a-f]+"/, '"userVa": "0x1000"'),
      ...fc.sample(fc.double({ min: 0, max: 0.999, noNaN: true }).map((f) => stateBytes.slice(0, Math.floor(stateBytes.length * f))), { numRuns: n, seed }),
      ...fc.sample(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
        const b = Buffer.from(stateBytes);
        b[at % b.length]! ^= x;
        return b.toString('latin1');
      }), { numRuns: n, seed: seed + 1 }),
    ];
    for (const [i, text] of edits.entries()) {
      if (text === stateBytes) continue;
      writeFileSync(statePath, text, 'latin1');
      for (const args of [['plan', join(dir, 'good.yaml')], ['apply', '--auto-approve', join(dir, 'good.yaml')], ['destroy', '--auto-approve']]) {
        const r = await cli(args);
        expectClean(r, `${args[0]} on corrupted state #${i}`);
        expect(r.code, `${args[0]} on corrupted state #${i}: ${r.out}`).toBe(1);
        expect(readFileSync(statePath, 'latin1'), `${args[0]} rewrote corrupted state #${i}`).toBe(text);
      }
      figures.stateFiles += 1;
    }
    writeFileSync(statePath, stateBytes);
  }, 300_000);
});

describe('stale and tampered saved plans: refused, state unchanged', () => {
  it('edits, truncations, other lineages and plans made before the state moved on', async () => {
    const planPath = join(dir, 'saved.plan.json');
    const other = join(dir, 'other.yaml');
    writeFileSync(other, EXAMPLES[1]!);
    expect((await cli(['plan', '--out', planPath, other])).code).toBe(2);
    const saved = readFileSync(planPath, 'utf8');
    const n = LONG ? 200 : 30;
    const tampered: string[] = [
      '', '{}', 'not json', saved.replace(/"serial": \d+/, '"serial": 1'), saved.replace(/"lineage": "[^"]+"/, '"lineage": "00000000-0000-0000-0000-000000000000"'),
      saved.replace('"formatVersion": 1', '"formatVersion": 9'), saved.replace('"backend": "sim"', '"backend": "kernel"'),
      saved.replace(/"pageSize": "0x1000"/, '"pageSize": "0x10000"'),
      saved.replace(/"steps": \[\n/, '"steps": [\n{"op": "destroy"},\n'), saved.replace(/"call": "[A-Z_]+"/, '"call": "IOMMU_DESTROY"'),
      ...fc.sample(fc.double({ min: 0, max: 0.999, noNaN: true }).map((f) => saved.slice(0, Math.floor(saved.length * f))), { numRuns: n, seed: seedFor(42) }),
    ];
    for (const [i, text] of tampered.entries()) {
      if (text === saved) continue;
      writeFileSync(planPath, text);
      const r = await cli(['apply', planPath]);
      expectClean(r, `tampered plan #${i}`);
      expect(r.code, `tampered plan #${i} was applied: ${r.out}`).toBe(1);
      expect(sha(readFileSync(statePath, 'utf8')), `tampered plan #${i} changed the state`).toBe(sha(stateBytes));
      figures.savedPlans += 1;
    }
    // Stale: the plan is intact, but the state moved on (apply the same layout, then roll back to good).
    writeFileSync(planPath, saved);
    expect((await cli(['apply', '--auto-approve', other])).code).toBe(0);
    expect((await cli(['apply', '--auto-approve', join(dir, 'good.yaml')])).code).toBe(0);
    const before = readFileSync(statePath, 'utf8');
    const stale = await cli(['apply', planPath]);
    expectClean(stale, 'stale plan');
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/stale/);
    expect(readFileSync(statePath, 'utf8')).toBe(before);
    figures.savedPlans += 1;
  }, 120_000);

  // FINDING F3 (fixed): a saved plan carries the desired layout and the steps separately. Editing
  // only the desired layout (here a fixed IOVA) used to be applied without complaint; apply now
  // re-derives the plan from the file's layout and refuses any difference.
  it('F3: a saved plan whose desired layout was edited is refused', async () => {
    const planPath = join(dir, 'edited.plan.json');
    const other = join(dir, 'other.yaml');
    writeFileSync(statePath, stateBytes);
    expect((await cli(['plan', '--out', planPath, other])).code).toBe(2);
    const saved = readFileSync(planPath, 'utf8');
    const edited = saved.replace(/"iova": "0x100000"/, '"iova": "0x40000000"');
    expect(edited).not.toBe(saved);
    writeFileSync(planPath, edited);
    const r = await cli(['apply', planPath]);
    const after = readFileSync(statePath, 'utf8');
    writeFileSync(statePath, stateBytes);
    expect(r.code).toBe(1);
    expect(r.err).toContain('was edited');
    expect(after).toBe(stateBytes);
  });
});
