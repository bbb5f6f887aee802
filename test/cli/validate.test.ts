import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examples = ['dpdk-appliance.yaml', 'vmm-guest-ram.yaml', 'test-lab.yaml'].map((f) => join(root, 'examples', f));
const scratch = mkdtempSync(join(tmpdir(), 'ioasform-cli-'));

const BROKEN = [
  'version: 1',
  'memory:',
  '  buf: {size: 64KiB}',
  'ioas:',
  '  io:',
  '    mappings:',
  '      a: {memory: buf, iova: 0x10000}',
  '      b: {memory: buf, iova: 0x18000, acess: r}',
  '      c: {memory: nope}',
  '',
].join('\n');

function file(name: string, text: string | Buffer): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

async function cli(args: string[], options: { color?: boolean } = {}) {
  const io = memoryIo({ color: options.color ?? false, isTTY: options.color ?? false });
  const code = await run(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('ioasform validate (in-process)', () => {
  it('accepts the examples with exit code 0', async () => {
    const { code, out, err } = await cli(['validate', ...examples]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out.split('\n').filter((l) => l.endsWith(': valid (no problems)'))).toHaveLength(3);
  });

  it('prints every problem as file:line:col, the source line and a caret underline, and exits 1', async () => {
    const path = file('broken.yaml', BROKEN);
    const { code, err } = await cli(['validate', path]);
    expect(code).toBe(1);
    expect(err).toContain(`${path}:8:30: error iova-overlap: `);
    expect(err).toContain(`${path}:8:39: error unknown-key: unknown key 'acess'`);
    expect(err).toContain("hint: did you mean 'access'?");
    expect(err).toContain(`${path}:9:19: error unknown-memory: `);
    // The snippet: the offending line, then carets exactly under `nope`.
    const lines = err.split('\n');
    const snippet = lines.findIndex((l) => l.endsWith('      c: {memory: nope}'));
    expect(snippet).toBeGreaterThan(0);
    const caretLine = lines[snippet + 1] ?? '';
    const sourceLine = lines[snippet] ?? '';
    expect(caretLine.indexOf('^')).toBe(sourceLine.indexOf('nope'));
    expect(caretLine.trim().endsWith('^^^^')).toBe(true);
    expect(caretLine).not.toContain('^^^^^');
    expect(err).toContain(`${path}: invalid (3 errors)`);
  });

  it('prints the diagnostics as JSON with --json', async () => {
    const { code, out } = await cli(['validate', '--json', file('broken2.yaml', BROKEN), examples[2] as string]);
    expect(code).toBe(1);
    const report = JSON.parse(out) as { valid: boolean; files: { valid: boolean; diagnostics: { code: string; line: number; column: number; path: unknown[] }[] }[] };
    expect(report.valid).toBe(false);
    expect(report.files.map((f) => f.valid)).toEqual([false, true]);
    expect(report.files[0]?.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['iova-overlap', 8, 30],
      ['unknown-key', 8, 39],
      ['unknown-memory', 9, 19],
    ]);
    expect(report.files[0]?.diagnostics[2]?.path).toEqual(['ioas', 'io', 'mappings', 'c', 'memory']);
  });

  it('colors only when asked', async () => {
    const path = file('broken3.yaml', BROKEN);
    expect((await cli(['validate', path], { color: true })).err).toContain('\u001b[');
    expect((await cli(['validate', path], { color: false })).err).not.toContain('\u001b[');
  });

  it('reports a missing file and a usage error with exit 1', async () => {
    const missing = await cli(['validate', join(scratch, 'absent.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('error unreadable-file');
    const usage = await cli(['validate']);
    expect(usage.code).toBe(1);
    expect(usage.err).toContain("missing required argument 'files'");
    const unknown = await cli(['valdate', 'x.yaml']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("unknown command 'valdate'");
  });

  it('shows help with an example, exit 0', async () => {
    const help = await cli(['validate', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('ioasform validate examples/*.yaml');
    const fmtHelp = await cli(['fmt', '--help']);
    expect(fmtHelp.code).toBe(0);
    expect(fmtHelp.out).toContain('--check');
  });
});

describe('ioasform fmt (in-process)', () => {
  it('--check exits 1 for a non-canonical file and leaves it alone; fmt rewrites it keeping comments', async () => {
    const text = '# a comment\nmemory:\n    buf: {size: 4KiB}   # small\nversion: 1\n';
    const path = file('messy.yaml', text);
    const check = await cli(['fmt', '--check', path]);
    expect(check.code).toBe(1);
    expect(check.out).toContain(`${path}: would reformat`);
    expect(readFileSync(path, 'utf8')).toBe(text);

    expect((await cli(['fmt', path])).code).toBe(0);
    const formatted = readFileSync(path, 'utf8');
    expect(formatted).toBe('# a comment\nversion: 1\nmemory:\n  buf: {size: 4KiB} # small\n');
    expect((await cli(['fmt', '--check', path])).code).toBe(0);
  });

  it('refuses to format broken YAML, exit 1', async () => {
    const path = file('bad-yaml.yaml', 'version: 1\nmemory: {a: [\n');
    const result = await cli(['fmt', path]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('error yaml-syntax');
    expect(readFileSync(path, 'utf8')).toBe('version: 1\nmemory: {a: [\n');
  });

  it('accepts the examples as canonical', async () => {
    expect((await cli(['fmt', '--check', ...examples])).code).toBe(0);
  });
});

describe('bin/ioasform.js (child process)', () => {
  const bin = join(root, 'bin', 'ioasform.js');
  const newestSource = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newestSource(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));

  beforeAll(() => {
    // `npm test` builds first; build here too when dist/ is missing or older than src/.
    const main = join(root, 'dist', 'cli', 'main.js');
    let stale = true;
    try {
      stale = statSync(main).mtimeMs < newestSource(join(root, 'src'));
    } catch {
      stale = true;
    }
    if (stale) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
  }, 120_000);

  const node = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('validates the examples: exit 0', () => {
    const result = node('validate', ...examples);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('prints carets for a broken layout: exit 1, no stack trace', () => {
    const result = node('validate', file('child-broken.yaml', BROKEN));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/child-broken\.yaml:9:19: error unknown-memory: /);
    expect(result.stderr).toMatch(/\n\s+\| +\^\^\^\^\n/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('survives garbage input without a stack trace', () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    for (const path of [file('garbage.bin', garbage), file('tabs.yaml', '\tversion: 1\n\t- ]'), scratch]) {
      const result = node('validate', path);
      expect(result.status).toBe(1);
      expect(result.stderr).not.toMatch(/\n\s+at |Error:|internal error/);
      expect(result.stderr).toMatch(/error [a-z-]+:/);
    }
  });
});
