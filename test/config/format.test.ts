import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLayout, formatLayoutText } from '../../src/config/format.js';
import { parseLayoutText } from '../../src/config/parse.js';
import type { Access, Backing, Copy, Ioas, IovaRange, Layout, Mapping, MemoryRegion } from '../../src/model/layout.js';

const PAGE = 4096n;
const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/);
const access = fc.constantFrom<Access>('r', 'w', 'rw');

/** Slot k of an IOAS: a disjoint, page-aligned IOVA window (k * 2^52), so fixed IOVAs never overlap. */
const slotIova = (k: number, pageOffset: number) => (BigInt(k) << 52n) + BigInt(pageOffset) * PAGE;

const regionArb: fc.Arbitrary<Omit<MemoryRegion, 'name'>> = fc
  .tuple(fc.integer({ min: 1, max: 64 }), fc.constantFrom('anonymous', 'memfd', 'hugetlb', 'file'), fc.boolean())
  .map(([units, kind, bigUnits]) => {
    if (kind === 'hugetlb') return { size: BigInt(units) * 0x200000n, backing: { kind: 'hugetlb', pageSize: 0x200000n } as Backing };
    const size = BigInt(units) * (bigUnits ? 0x100000n : PAGE);
    const backing: Backing = kind === 'file' ? { kind: 'file', path: `/dev/shm/region-${units}` } : { kind: kind as 'anonymous' | 'memfd' };
    return { size, backing };
  });

/** A semantically valid Layout: page-aligned everything, fixed IOVAs in disjoint slots. */
const layoutArb: fc.Arbitrary<Layout> = fc
  .record({
    rlimitMode: fc.constantFrom('user' as const, 'process' as const),
    regionNames: fc.uniqueArray(name, { minLength: 1, maxLength: 4 }),
    regions: fc.array(regionArb, { minLength: 4, maxLength: 4 }),
    ioasNames: fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
    seeds: fc.array(
      fc.record({
        hugePages: fc.boolean(),
        allowed: fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 1000 })), { maxLength: 3 }),
        mappings: fc.array(
          fc.record({ region: fc.nat(), offsetPages: fc.nat(), lengthPages: fc.option(fc.nat()), fixed: fc.option(fc.nat(1000)), access }),
          { maxLength: 4 },
        ),
        copies: fc.array(
          fc.record({ source: fc.nat(), kind: fc.constantFrom('whole', 'part', 'iova'), fixed: fc.option(fc.nat(1000)), writable: fc.boolean() }),
          { maxLength: 3 },
        ),
      }),
      { minLength: 3, maxLength: 3 },
    ),
  })
  .map(({ rlimitMode, regionNames, regions, ioasNames, seeds }): Layout => {
    const memory: MemoryRegion[] = regionNames.map((n, i) => ({ name: n, ...(regions[i] as Omit<MemoryRegion, 'name'>) }));
    // Mappings of every IOAS first (copies may take from any of them).
    const all: { ioas: string; mapping: Mapping }[] = [];
    // Fixed IOVAs: mapping k takes slot 1 + k, copy k takes slot 100 + k, so none overlap.
    const ioas: Ioas[] = ioasNames.map((ioasName, i) => {
      const seed = seeds[i % seeds.length] as (typeof seeds)[number];
      // Allowed ranges: disjoint and sorted windows in the low 2^52 bytes, plus one near the top.
      const allowedIovas: IovaRange[] = seed.allowed.map(([startPage, pages], k) => {
        const start = (BigInt(k) << 40n) + BigInt(startPage) * PAGE;
        return { start, last: start + BigInt(pages) * PAGE - 1n };
      });
      const mappings = seed.mappings.map((m, k): Mapping => {
        const region = memory[m.region % memory.length] as MemoryRegion;
        const pages = region.size / PAGE;
        const offset = (BigInt(m.offsetPages) % pages) * PAGE;
        const maxLength = region.size - offset;
        const length = m.lengthPages === null ? maxLength : ((BigInt(m.lengthPages) % (maxLength / PAGE)) + 1n) * PAGE;
        const mapping: Mapping = { name: `m-${k}`, memory: region.name, offset, length, iova: m.fixed === null ? null : slotIova(1 + k, m.fixed), access: m.access };
        all.push({ ioas: ioasName, mapping });
        return mapping;
      });
      return { name: ioasName, allowedIovas, hugePages: seed.hugePages, mappings, copies: [] };
    });
    const withCopies = ioas.map((io, i): Ioas => {
      const seed = seeds[i % seeds.length] as (typeof seeds)[number];
      const copies: Copy[] = [];
      seed.copies.forEach((c, k) => {
        const fixedSources = all.filter((s) => s.mapping.iova !== null);
        const pool = c.kind === 'iova' ? fixedSources : all;
        const source = pool[c.source % Math.max(pool.length, 1)];
        if (!source) return;
        const m = source.mapping;
        const writable = c.writable && m.access !== 'r';
        const half = (m.length / PAGE / 2n) * PAGE;
        const from: Copy['from'] =
          c.kind === 'iova'
            ? { kind: 'iova', ioas: source.ioas, iova: m.iova as bigint, length: m.length }
            : c.kind === 'part' && half > 0n
              ? { kind: 'entry', ioas: source.ioas, entry: m.name, offset: half, length: m.length - half }
              : { kind: 'entry', ioas: source.ioas, entry: m.name, offset: 0n, length: m.length };
        copies.push({ name: `c-${k}`, from, iova: c.fixed === null ? null : slotIova(100 + k, c.fixed), access: writable ? 'rw' : 'r' });
      });
      return { name: io.name, allowedIovas: io.allowedIovas, hugePages: io.hugePages, mappings: io.mappings, copies };
    });
    return { version: 1, options: { rlimitMode }, memory, ioas: withCopies };
  });

describe('formatLayout round trip', () => {
  it('parse(formatLayout(layout)) is the same layout', () => {
    fc.assert(
      fc.property(layoutArb, (layout) => {
        const text = formatLayout(layout);
        const parsed = parseLayoutText(text, 'round-trip.yaml');
        expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(parsed.layout).toEqual(layout);
      }),
      { numRuns: 150 },
    );
  });

  it('writes text that fmt leaves unchanged', () => {
    fc.assert(
      fc.property(layoutArb, (layout) => {
        const text = formatLayout(layout);
        expect(formatLayoutText(text).text).toBe(text);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps the top IOVA exact', () => {
    const layout: Layout = {
      version: 1,
      options: { rlimitMode: 'user' },
      memory: [{ name: 'buf', size: PAGE, backing: { kind: 'anonymous' } }],
      ioas: [{ name: 'io', allowedIovas: [], hugePages: true, mappings: [{ name: 'top', memory: 'buf', offset: 0n, length: PAGE, iova: 0xffff_ffff_ffff_e000n, access: 'rw' }], copies: [] }],
    };
    const text = formatLayout(layout);
    expect(text).toContain('iova: 0xffffffffffffe000');
    expect(parseLayoutText(text).layout).toEqual(layout);
  });
});

describe('fmt (formatLayoutText)', () => {
  const messy = [
    '# yaml-language-server: $schema=../schema/layout.schema.json',
    '# the layout of a test',
    'ioas:',
    '    io:   # the only IOAS',
    '        mappings:',
    '            m:',
    '                access: r   # read-only',
    '                iova: 0x10_0000',
    '                memory: buf',
    '        huge_pages: false',
    '',
    '# memory comes first after fmt',
    'memory:',
    '    buf:',
    '        backing: {kind: memfd}',
    '        size: 2MiB',
    'version: 1',
    '',
  ].join('\n');

  it('orders keys canonically, re-indents, and keeps comments and value spellings', () => {
    const result = formatLayoutText(messy, 'messy.yaml');
    expect(result.diagnostics).toEqual([]);
    const text = result.text ?? '';
    const order = ['version: 1', 'memory:', 'size: 2MiB', 'backing: {kind: memfd}', 'ioas:', 'huge_pages: false', 'mappings:', 'memory: buf', 'iova: 0x10_0000', 'access: r'];
    const positions = order.map((needle) => text.indexOf(needle));
    expect(positions.every((p) => p >= 0), text).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (const comment of ['# yaml-language-server', '# the layout of a test', '# the only IOAS', '# read-only', '# memory comes first after fmt']) {
      expect(text).toContain(comment);
    }
    expect(text.startsWith('# yaml-language-server: $schema=../schema/layout.schema.json\n# the layout of a test\nversion: 1\n')).toBe(true);
    // yaml keeps a comment after `key:` of a block map as the first line inside that map.
    expect(text).toContain('\n  io:\n    # the only IOAS\n');
    expect(parseLayoutText(text).layout).toEqual(parseLayoutText(messy).layout);
  });

  it('is idempotent', () => {
    const once = formatLayoutText(messy).text ?? '';
    expect(formatLayoutText(once).text).toBe(once);
  });

  it('refuses text that is not YAML, with positioned diagnostics', () => {
    const result = formatLayoutText('version: 1\nmemory: {a: [\n', 'bad.yaml');
    expect(result.text).toBeUndefined();
    expect(result.diagnostics[0]?.code).toBe('yaml-syntax');
    expect(result.diagnostics[0]?.file).toBe('bad.yaml');
  });
});

describe('examples', () => {
  const dir = new URL('../../examples/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('has the three required examples', () => {
    expect(files).toEqual(expect.arrayContaining(['dpdk-appliance.yaml', 'vmm-guest-ram.yaml', 'test-lab.yaml']));
  });

  for (const file of files) {
    it(`${file} validates without any diagnostic, points editors at the schema and is in canonical form`, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      expect(text.startsWith('# yaml-language-server: $schema=../schema/layout.schema.json\n')).toBe(true);
      const result = parseLayoutText(text, file);
      expect(result.diagnostics).toEqual([]);
      expect(result.layout?.ioas.length).toBeGreaterThan(0);
      expect(formatLayoutText(text).text).toBe(text);
    });
  }

  it('keeps test-lab small enough for the 2 GiB kernel VM, and hugetlb only in the dpdk example', () => {
    const lab = parseLayoutText(readFileSync(new URL('test-lab.yaml', dir), 'utf8')).layout;
    expect(lab?.memory.reduce((sum, m) => sum + m.size, 0n)).toBeLessThan(256n << 20n);
    for (const file of files.filter((f) => f !== 'dpdk-appliance.yaml')) {
      const layout = parseLayoutText(readFileSync(new URL(file, dir), 'utf8')).layout;
      expect(layout?.memory.some((m) => m.backing.kind === 'hugetlb')).toBe(false);
    }
  });
});
