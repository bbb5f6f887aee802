// `ioasform graph` and the text map of `show`, run in-process through run() with a recording io:
// each source mode (layout, state, layout + state, saved plan) and each format, the errors, and
// golden SVGs of every example as the CLI draws them.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';
import { expectGolden } from './golden.js';

const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.yaml')).sort();

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.out(), err: io.err() };
}

let dir: string;
let state: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ioasform-graph-'));
  state = join(dir, 'state.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Box labels drawn in an SVG (the name text of every box). */
function boxIds(svg: string): string[] {
  return [...svg.matchAll(/<g class="box[^"]*"[^>]*data-id="([^"]+)"/g)].map((m) => m[1]!).sort();
}

function boxStatuses(svg: string): Map<string, string> {
  return new Map([...svg.matchAll(/<g class="box[^"]*"[^>]*data-id="([^"]+)"[^>]*data-status="([^"]+)"/g)].map((m) => [m[1]!, m[2]!] as const));
}

async function applyExample(example: string): Promise<void> {
  const applied = await cli(['--state', state, 'apply', '--auto-approve', `examples/${example}`]);
  expect(applied.code, applied.err).toBe(0);
}

describe('graph LAYOUT (the desired layout, kernel-chosen IOVAs predicted)', () => {
  for (const example of EXAMPLES) {
    it(`${example}: the SVG is stable and matches its golden file`, async () => {
      // No state file in the repository root: the layout is planned against empty state.
      expect(existsSync('ioasform.state.json')).toBe(false);
      const first = await cli(['graph', `examples/${example}`, '--format', 'svg']);
      expect(first.code, first.err).toBe(0);
      expect(first.err).toBe('');
      const second = await cli(['graph', `examples/${example}`, '--format', 'svg']);
      expect(second.out).toBe(first.out);
      expectGolden(`cli-${example.replace(/\.yaml$/, '')}.svg`, first.out);
    });
  }

  it('html and text formats, and -o writes the file instead of stdout', async () => {
    const file = join(dir, 'dp.html');
    const html = await cli(['graph', 'examples/dpdk-appliance.yaml', '--format', 'html', '-o', file]);
    expect(html.code, html.err).toBe(0);
    expect(html.out).toBe('');
    const page = readFileSync(file, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    const text = await cli(['graph', 'examples/dpdk-appliance.yaml', '--format', 'text', '-o', '-']);
    expect(text.code).toBe(0);
    expect(text.out).toContain('port0: allowed 0x1_0000_0000-0x10_ffff_ffff');
    expect(text.out).toMatch(/scratch\s+mapping\s+0x\S+\s+16 MiB.*predicted/);
  });
});

describe('graph --state FILE (what is applied)', () => {
  it('draws every applied entry at the IOVA recorded in the state, none predicted', async () => {
    await applyExample('test-lab.yaml');
    const json = JSON.parse((await cli(['--state', state, 'show', '--json'])).out) as { state: { ioas: { name: string; entries: { name: string; spec: { kind: string }; areas: { iova: string }[] }[] }[] } };
    const svg = await cli(['--state', state, 'graph', '--format', 'svg']);
    expect(svg.code, svg.err).toBe(0);
    const expected = json.state.ioas.flatMap((i) => i.entries.map((e) => `${i.name}/${e.spec.kind}.${e.name}`)).sort();
    expect(boxIds(svg.out)).toEqual(expected);
    expect(svg.out).not.toContain('predicted');
    const text = await cli(['graph', '--state', state, '--format', 'text']);
    expect(text.code, text.err).toBe(0);
    // The kernel-placed mapping lab.b, at the IOVA of its first area in the state.
    const b = json.state.ioas.find((i) => i.name === 'lab')!.entries.find((e) => e.name === 'b')!;
    const iova = BigInt(b.areas[0]!.iova).toString(16).replace(/\B(?=([0-9a-f]{4})+$)/g, '_');
    expect(text.out).toMatch(new RegExp(`\\bb\\s+mapping\\s+0x${iova}-`));
  });

  it('refuses when nothing is applied', async () => {
    const r = await cli(['--state', state, 'graph']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Error: no state at .*state\.json/);
  });
});

describe('graph LAYOUT --state FILE and --plan FILE (the plan picture)', () => {
  it('marks boxes the plan adds and removes', async () => {
    await applyExample('test-lab.yaml');
    const r = await cli(['--state', state, 'graph', 'examples/dpdk-appliance.yaml']);
    expect(r.code, r.err).toBe(0);
    const statuses = boxStatuses(r.out);
    expect(statuses.get('lab/mapping.a-low')).toBe('removed');
    expect(statuses.get('mirror/copy.seam')).toBe('removed');
    expect(statuses.get('port0/mapping.rx-pool')).toBe('added');
    expect(statuses.get('port1/copy.tx-pool')).toBe('added');
  });

  it('an entry moved to another IOVA is replaced, and remembers where it was', async () => {
    await applyExample('test-lab.yaml');
    const moved = join(dir, 'moved.yaml');
    const original = readFileSync('examples/test-lab.yaml', 'utf8');
    expect(original).toContain('iova: 0x800_0000');
    writeFileSync(moved, original.replace('iova: 0x800_0000', 'iova: 0x900_0000'));
    const svg = await cli(['--state', state, 'graph', moved]);
    expect(svg.code, svg.err).toBe(0);
    expect(boxStatuses(svg.out).get('mirror/copy.seam')).toBe('replaced');
    expect(boxStatuses(svg.out).get('lab/mapping.a-low')).toBe('unchanged');
    const text = await cli(['--state', state, 'graph', moved, '--format', 'text']);
    expect(text.out).toMatch(/~ \w\s+seam\s+copy\s+0x900_0000-.*\(.*was 0x800_0000-0x83f_ffff\)/);
  });

  it('the same layout against its own applied state changes nothing', async () => {
    await applyExample('test-lab.yaml');
    const r = await cli(['graph', 'examples/test-lab.yaml', '--state', state]);
    expect(r.code, r.err).toBe(0);
    expect(new Set(boxStatuses(r.out).values())).toEqual(new Set(['unchanged']));
  });

  it('a saved plan draws like the layout it was made from, and is refused once stale', async () => {
    const planFile = join(dir, 'dp.plan');
    expect((await cli(['--state', state, 'plan', '-out', planFile, 'examples/dpdk-appliance.yaml'])).code).toBe(2);
    const saved = await cli(['--state', state, 'graph', '--plan', planFile, '--format', 'text']);
    const direct = await cli(['--state', state, 'graph', 'examples/dpdk-appliance.yaml', '--format', 'text']);
    expect(saved.code, saved.err).toBe(0);
    expect(saved.out).toBe(direct.out);
    expect(saved.out).toContain('+ port0');
    await applyExample('test-lab.yaml');
    const stale = await cli(['--state', state, 'graph', '--plan', planFile]);
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/^Error: saved plan is stale: /);
  });
});

describe('graph errors: one clear line, exit 1, no stack trace', () => {
  it.each([
    [['graph', 'examples/nope.yaml'], /nope\.yaml/],
    [['graph', 'examples/test-lab.yaml', '--format', 'png'], /--format must be one of svg, html, text, not png/],
    [['graph', 'examples/test-lab.yaml', '--plan', 'x.plan'], /either a LAYOUT file or --plan FILE/],
    [['graph', '--plan', 'examples/test-lab.yaml'], /is not a saved plan/],
    [['graph', '--plan', 'missing.plan'], /cannot read missing\.plan/],
    [['graph', 'examples/test-lab.yaml', '--width', 'wide'], /--width must be a positive whole number/],
  ])('%j', async (args, message) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message as RegExp);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a layout with errors prints the usual rendered diagnostics', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nmemory:\n  pool: {size: 4MiB}\nioas:\n  dp:\n    mappings:\n      rx: {memory: poool}\n');
    const r = await cli(['graph', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('poool');
    expect(r.err).toMatch(/bad\.yaml:7/);
    expect(r.out).toBe('');
  });

  it('--help explains the sources with examples', async () => {
    const r = await cli(['graph', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('LAYOUT --state FILE');
    expect(r.out).toContain('$ ioasform graph examples/dpdk-appliance.yaml');
  });
});

describe('show: the text map', () => {
  it('prints the map of every IOAS under the listing; --no-map and --json leave it out', async () => {
    await applyExample('test-lab.yaml');
    const shown = await cli(['--state', state, 'show']);
    expect(shown.code, shown.err).toBe(0);
    const [listing, map] = shown.out.split('\nIOVA map:\n');
    expect(map).toBeDefined();
    expect(map).toMatch(/^lab: allowed/m);
    expect(map).toMatch(/^mirror: /m);
    expect(map).toMatch(/table-window\s+copy/);
    expect((await cli(['--state', state, 'show', '--no-map'])).out).toBe(`${listing}`);
    expect((await cli(['--state', state, 'show', '--json'])).out).not.toContain('IOVA map');
  });
});
