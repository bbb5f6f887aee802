// A deterministic, seeded generator of large layouts in the real written YAML format, shaped
// like the issue describes: `count` entries spread over 16 IOASes; of the entries, 5% are copies
// (of a mapping in another IOAS) and the mappings are half fixed, half automatic IOVA; every
// fourth IOAS has allowed ranges. Sizes are multiples of 4 KiB so every IOAS is valid with or
// without huge pages. The same (count, seed) gives the same text byte for byte.

export const IOAS_COUNT = 16;
/** Every 4th IOAS (0, 4, 8, 12) restricts IOVAs to ALLOWED_START..ALLOWED_START+ALLOWED_SIZE. */
export const ALLOWED_EVERY = 4;
export const ALLOWED_START = 0x1_0000_0000n;
export const ALLOWED_SIZE = 0x100_0000_0000n; // 1 TiB: room for the fixed and the automatic half
/** Fixed IOVAs are laid out upwards from here (inside the allowed window where there is one). */
const FIXED_BASE = 0x10_0000_0000n;
const PAGE = 0x1000n;
/** Every region holds this many mappings' slices (a "buffer pool" or "RAM slot" group). */
const MAPPINGS_PER_REGION = 64;

export interface GeneratedEntryCounts {
  readonly mappings: number;
  readonly fixed: number;
  readonly automatic: number;
  readonly copies: number;
  readonly regions: number;
}

export interface GeneratedLayout {
  readonly text: string;
  readonly counts: GeneratedEntryCounts;
  /** Names of mappings, as `ioas.entry`, in generation order (used to derive changed layouts). */
  readonly mappingAddresses: readonly string[];
}

export interface GenerateOptions {
  /** Total entries (mappings + copies). */
  readonly count: number;
  readonly seed?: number;
  /**
   * Fraction of mappings (0..1) whose length is changed by one page: the "1% changed" layout.
   * The changed set is chosen by a second seeded stream, so it is the same for the same inputs.
   */
  readonly changedFraction?: number;
}

/** mulberry32: tiny, fast, good enough for shaping test data; deterministic across platforms. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

interface PlannedMapping {
  readonly name: string;
  readonly ioas: number;
  readonly region: number;
  readonly offset: bigint;
  length: bigint;
  readonly iova: bigint | null;
  readonly access: 'rw' | 'r';
}

interface PlannedCopy {
  readonly name: string;
  readonly ioas: number;
  readonly source: PlannedMapping;
  readonly iova: bigint | null;
}

export function generateLayout(options: GenerateOptions): GeneratedLayout {
  const { count } = options;
  const random = seededRandom(options.seed ?? 1);
  const copyCount = Math.round(count * 0.05);
  const mappingCount = count - copyCount;

  // Mappings: round-robin over the IOASes, even index fixed, odd automatic (exactly half each).
  const mappings: PlannedMapping[] = [];
  const fixedCursor: bigint[] = Array.from({ length: IOAS_COUNT }, () => FIXED_BASE);
  const regionSizes: bigint[] = [];
  for (let i = 0; i < mappingCount; i++) {
    const ioas = i % IOAS_COUNT;
    const region = Math.floor(i / MAPPINGS_PER_REGION);
    const offset = regionSizes[region] ?? 0n;
    const length = PAGE * BigInt(1 + Math.floor(random() * 4));
    regionSizes[region] = offset + length;
    let iova: bigint | null = null;
    if (i % 2 === 0) {
      iova = fixedCursor[ioas]!;
      // A gap of 0..3 pages after each fixed mapping leaves holes of varied sizes.
      fixedCursor[ioas] = iova + length + PAGE * BigInt(Math.floor(random() * 4));
    }
    mappings.push({ name: `m${i}`, ioas, region, offset, length, iova, access: random() < 0.1 ? 'r' : 'rw' });
  }

  // Copies: each takes a whole mapping of another IOAS; half fixed (placed after that IOAS's
  // fixed mappings), half automatic. A read-only source gives a read-only copy.
  const copies: PlannedCopy[] = [];
  for (let i = 0; i < copyCount; i++) {
    const source = mappings[Math.floor(random() * mappings.length)]!;
    const ioas = (source.ioas + 1 + Math.floor(random() * (IOAS_COUNT - 1))) % IOAS_COUNT;
    let iova: bigint | null = null;
    if (i % 2 === 0) {
      iova = fixedCursor[ioas]!;
      fixedCursor[ioas] = iova + source.length + PAGE;
    }
    copies.push({ name: `c${i}`, ioas, source, iova });
  }

  // The changed variant: grow some automatic mappings by one page (fixed ones may sit back to
  // back, so growing them could overlap a neighbour). Every region has one spare page at its end,
  // so the last slice can grow too; other slices grow into their neighbour's bytes, which is
  // allowed (mappings may share pages). Copies of a grown mapping follow it (they take the whole
  // mapping); fixed copies are followed by a one-page gap, so they stay clear of each other.
  const changed = new Set<PlannedMapping>();
  if (options.changedFraction) {
    const pick = seededRandom((options.seed ?? 1) ^ 0x5eed);
    const automatic = mappings.filter((m) => m.iova === null);
    const want = Math.round(mappingCount * options.changedFraction);
    while (changed.size < Math.min(want, automatic.length)) changed.add(automatic[Math.floor(pick() * automatic.length)]!);
  }

  const lines: string[] = ['# Generated by bench/generate.ts: do not edit.', 'version: 1', '', 'memory:'];
  regionSizes.forEach((size, r) => {
    lines.push(`  r${r}:`, `    size: ${hex(size + PAGE)}`); // one spare page so a changed mapping may grow
  });
  lines.push('', 'ioas:');
  for (let k = 0; k < IOAS_COUNT; k++) {
    lines.push(`  io${k}:`);
    if (k % ALLOWED_EVERY === 0) lines.push('    allowed_iovas:', `      - {start: ${hex(ALLOWED_START)}, size: ${hex(ALLOWED_SIZE)}}`);
    lines.push('    mappings:');
    for (let i = k; i < mappings.length; i += IOAS_COUNT) {
      const m = mappings[i]!;
      const length = changed.has(m) ? m.length + PAGE : m.length;
      const iova = m.iova === null ? '' : `, iova: ${hex(m.iova)}`;
      const access = m.access === 'rw' ? '' : `, access: ${m.access}`;
      lines.push(`      ${m.name}: {memory: r${m.region}, offset: ${hex(m.offset)}, length: ${hex(length)}${iova}${access}}`);
    }
    const own = copies.filter((c) => c.ioas === k);
    if (own.length > 0) {
      lines.push('    copies:');
      for (const c of own) {
        const iova = c.iova === null ? '' : `, iova: ${hex(c.iova)}`;
        const access = c.source.access === 'rw' ? '' : `, access: ${c.source.access}`;
        lines.push(`      ${c.name}: {from: io${c.source.ioas}.${c.source.name}${iova}${access}}`);
      }
    }
  }
  lines.push('');

  const fixed = mappings.filter((m) => m.iova !== null).length;
  return {
    text: lines.join('\n'),
    counts: { mappings: mappingCount, fixed, automatic: mappingCount - fixed, copies: copyCount, regions: regionSizes.length },
    mappingAddresses: mappings.map((m) => `io${m.ioas}.${m.name}`),
  };
}
