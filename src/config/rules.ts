// Semantic rules on the normalized layout: one small function per rule, each returning
// diagnostics at the written node of the offending element. Rules skip elements that
// normalization marked malformed (the schema reported them) or unresolved (their length
// depends on a reference another rule reports), so every problem is reported exactly once.
//
// Kernel facts these rules encode are in /work/shared/spec/iommufd-ioas-semantics.md (§5 MAP,
// §7 COPY, §10 ALLOW_IOVAS, §11 HUGE_PAGES).

import type { Diagnostic } from '../diagnostics.js';
import { builtinProfile, HOST_PROFILE, profileReservedRanges, type DeviceProfile } from '../model/device-profile.js';
import { deviceSourceText, devicesOf, type Copy, type Ioas, type IovaRange, type Layout, type Mapping, type MemoryRegion } from '../model/layout.js';
import type { Element, NormalizeResult } from './normalize.js';
import { formatHex } from './sizes.js';
import { diagnosticAt, type DiagnosticSpec, type DocPath, type SourceLocator } from './source.js';

const PAGE_SIZE = 4096n;
const IOVA_SPACE_END = 1n << 64n;

interface RuleContext {
  readonly layout: Layout;
  /** The element can be checked (not malformed). */
  ok(element: Element): boolean;
  /** The element's length is known (not malformed, not unresolved). */
  sized(element: Element): boolean;
  path(element: Element, ...rest: (string | number)[]): DocPath;
}

type Rule = (ctx: RuleContext) => DiagnosticSpec[];

export function runRules(normalized: NormalizeResult, locator: SourceLocator): Diagnostic[] {
  const ctx: RuleContext = {
    layout: normalized.layout,
    ok: (element) => !normalized.malformed.has(element),
    sized: (element) => !normalized.malformed.has(element) && !normalized.unresolved.has(element),
    path: (element, ...rest) => [...(normalized.origin.get(element) ?? []), ...rest],
  };
  return RULES.flatMap((rule) => rule(ctx)).map((spec) => diagnosticAt(locator, spec));
}

// --- helpers ---

type Entry = { readonly kind: 'mapping'; readonly value: Mapping } | { readonly kind: 'copy'; readonly value: Copy };

function entriesOf(ioas: Ioas): Entry[] {
  return [
    ...ioas.mappings.map((value): Entry => ({ kind: 'mapping', value })),
    ...ioas.copies.map((value): Entry => ({ kind: 'copy', value })),
  ];
}

function lengthOf(entry: Entry): bigint {
  return entry.kind === 'mapping' ? entry.value.length : entry.value.from.length;
}

/** Per layout: IOAS name -> entry name -> entry (mappings win over copies, first of a name wins). */
const entryIndexes = new WeakMap<Layout, Map<string, Map<string, Entry>>>();

function entryIndex(layout: Layout): Map<string, Map<string, Entry>> {
  let index = entryIndexes.get(layout);
  if (!index) {
    index = new Map();
    for (const ioas of layout.ioas) {
      if (index.has(ioas.name)) continue; // like find(): the first IOAS of a name
      const entries = new Map<string, Entry>();
      for (const value of ioas.mappings) if (!entries.has(value.name)) entries.set(value.name, { kind: 'mapping', value });
      for (const value of ioas.copies) if (!entries.has(value.name)) entries.set(value.name, { kind: 'copy', value });
      index.set(ioas.name, entries);
    }
    entryIndexes.set(layout, index);
  }
  return index;
}

/** A hash lookup: the linear searches it replaces made the copy rules O(copies x mappings). */
function findEntry(layout: Layout, ioasName: string, name: string): Entry | undefined {
  return entryIndex(layout).get(ioasName)?.get(name);
}

/** Fixed-IOVA entries of an IOAS with known lengths, as [first, last] byte ranges. */
function fixedRanges(ctx: RuleContext, ioas: Ioas): { entry: Entry; first: bigint; last: bigint }[] {
  return entriesOf(ioas).flatMap((entry) => {
    const iova = entry.value.iova;
    const length = lengthOf(entry);
    if (iova === null || !ctx.sized(entry.value) || length === 0n || iova + length > IOVA_SPACE_END) return [];
    return [{ entry, first: iova, last: iova + length - 1n }];
  });
}

const hex = formatHex;
const label = (entry: Entry) => `${entry.kind} '${entry.value.name}'`;

/**
 * The entries of `ioas` that cover [first, last] back to back (the kernel's iopt_get_pages
 * rule), or the first uncovered IOVA. Only fixed-IOVA entries have an address known in advance.
 */
function coverage(ctx: RuleContext, ioas: Ioas, first: bigint, last: bigint): { pieces: Entry[] } | { gap: bigint } {
  const ranges = fixedRanges(ctx, ioas).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const pieces: Entry[] = [];
  let next = first;
  for (const range of ranges) {
    if (range.last < next) continue;
    if (range.first > next) break;
    pieces.push(range.entry);
    if (range.last >= last) return { pieces };
    next = range.last + 1n;
  }
  return { gap: next };
}

// --- rules ---

const duplicateNames: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) => {
    const mappingNames = new Set(ioas.mappings.map((m) => m.name));
    return ioas.copies
      .filter((copy) => mappingNames.has(copy.name))
      .map((copy) => ({
        code: 'duplicate-name' as const,
        message: `IOAS '${ioas.name}' has a mapping and a copy both named '${copy.name}'`,
        path: ctx.path(copy),
        target: 'key' as const,
        hint: 'mappings and copies of one IOAS share one namespace, because copies refer to either by name',
      }));
  });

const unknownMemory: Rule = (ctx) => {
  const names = new Set(ctx.layout.memory.map((m) => m.name));
  return ctx.layout.ioas.flatMap((ioas) =>
    ioas.mappings
      .filter((m) => ctx.ok(m) && !names.has(m.memory))
      .map((m) => ({
        code: 'unknown-memory' as const,
        message: `mapping '${m.name}' refers to memory region '${m.memory}', which is not defined`,
        path: ctx.path(m, 'memory'),
        hint: names.size > 0 ? `defined regions: ${[...names].join(', ')}` : 'define it under `memory:`',
      })),
  );
};

const unknownCopySource: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) =>
    ioas.copies.flatMap((copy): DiagnosticSpec[] => {
      if (!ctx.ok(copy)) return [];
      const from = copy.from;
      const source = ctx.layout.ioas.find((i) => i.name === from.ioas);
      const fromPath = ctx.path(copy, 'from');
      if (!source) {
        return [{
          code: 'unknown-ioas',
          message: `copy '${copy.name}' takes its pages from IOAS '${from.ioas}', which is not defined`,
          path: fromPath,
          hint: `defined IOASes: ${ctx.layout.ioas.map((i) => i.name).join(', ')}`,
        }];
      }
      if (from.kind === 'entry' && !findEntry(ctx.layout, from.ioas, from.entry)) {
        const known = entriesOf(source).map((e) => e.value.name);
        return [{
          code: 'unknown-entry',
          message: `copy '${copy.name}' takes its pages from '${from.ioas}.${from.entry}', but IOAS '${from.ioas}' has no mapping or copy '${from.entry}'`,
          path: fromPath,
          ...(known.length > 0 ? { hint: `entries of '${from.ioas}': ${known.join(', ')}` } : {}),
        }];
      }
      return [];
    }),
  );

const copyCycle: Rule = (ctx) => {
  const out: DiagnosticSpec[] = [];
  for (const ioas of ctx.layout.ioas) {
    for (const copy of ioas.copies) {
      if (!ctx.ok(copy)) continue;
      // Follow entry sources from this copy; the copy is in a cycle iff the walk returns to it.
      const chain = [`${ioas.name}.${copy.name}`];
      const seen = new Set<Copy>([copy]);
      let from = copy.from;
      while (from.kind === 'entry') {
        const entry = findEntry(ctx.layout, from.ioas, from.entry);
        if (!entry || entry.kind !== 'copy') break;
        chain.push(`${from.ioas}.${from.entry}`);
        if (entry.value === copy) {
          out.push({
            code: 'copy-cycle',
            message: `copy '${copy.name}' takes its pages from itself: ${chain.join(' <- ')}`,
            path: ctx.path(copy, 'from'),
          });
          break;
        }
        if (seen.has(entry.value)) break; // a cycle further up, reported at its own members
        seen.add(entry.value);
        from = entry.value.from;
      }
    }
  }
  return out;
};

const zeroLength: Rule = (ctx) => [
  ...ctx.layout.memory
    .filter((m) => ctx.ok(m) && m.size === 0n)
    .map((m) => ({ code: 'zero-length' as const, message: `memory region '${m.name}' has size 0`, path: ctx.path(m, 'size') })),
  ...ctx.layout.ioas.flatMap((ioas) =>
    entriesOf(ioas)
      .filter((e) => ctx.sized(e.value) && lengthOf(e) === 0n)
      .map((e) => ({
        code: 'zero-length' as const,
        message: `${label(e)} of IOAS '${ioas.name}' has length 0 (the kernel answers EINVAL)`,
        path: ctx.path(e.value, e.kind === 'mapping' ? 'length' : 'from'),
      })),
  ),
];

const hugetlbSizes: Rule = (ctx) =>
  ctx.layout.memory.flatMap((m): DiagnosticSpec[] => {
    if (!ctx.ok(m) || m.backing.kind !== 'hugetlb') return [];
    const page = m.backing.pageSize;
    if (page < PAGE_SIZE || (page & (page - 1n)) !== 0n) {
      return [{
        code: 'memory-size-misaligned',
        message: `hugetlb page size ${hex(page)} of region '${m.name}' is not a power of two of at least 4KiB`,
        path: ctx.path(m, 'backing', 'page_size'),
        hint: 'x86-64 huge pages are 2MiB or 1GiB',
      }];
    }
    if (m.size % page !== 0n) {
      return [{
        code: 'memory-size-misaligned',
        message: `size ${hex(m.size)} of hugetlb region '${m.name}' is not a multiple of its page size ${hex(page)}`,
        path: ctx.path(m, 'size'),
      }];
    }
    return [];
  });

const mappingInRegion: Rule = (ctx) => {
  const regions = new Map<string, MemoryRegion>(ctx.layout.memory.map((m) => [m.name, m]));
  return ctx.layout.ioas.flatMap((ioas) =>
    ioas.mappings.flatMap((m): DiagnosticSpec[] => {
      const region = regions.get(m.memory);
      if (!ctx.ok(m) || !region || !ctx.ok(region)) return [];
      if (m.offset > region.size) {
        return [{
          code: 'mapping-out-of-range',
          message: `mapping '${m.name}' starts at offset ${hex(m.offset)}, past the end of region '${region.name}' (size ${hex(region.size)})`,
          path: ctx.path(m, 'offset'),
        }];
      }
      if (ctx.sized(m) && m.offset + m.length > region.size) {
        return [{
          code: 'mapping-out-of-range',
          message: `mapping '${m.name}' covers [${hex(m.offset)}, ${hex(m.offset + m.length)}) of region '${region.name}', which has only ${hex(region.size)} bytes`,
          path: ctx.path(m, 'length'),
        }];
      }
      return [];
    }),
  );
};

const iovaOverflow: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) => [
    ...entriesOf(ioas).flatMap((e): DiagnosticSpec[] => {
      const iova = e.value.iova;
      // The kernel also refuses iova == 2^64 - 1 outright (`iova >= ULONG_MAX`), whatever the length.
      if (iova === null || !ctx.sized(e.value) || (iova + lengthOf(e) <= IOVA_SPACE_END && iova !== IOVA_SPACE_END - 1n)) return [];
      return [{
        code: 'iova-overflow',
        message:
          iova === IOVA_SPACE_END - 1n
            ? `${label(e)} has IOVA ${hex(iova)}, which the kernel refuses for any length (EOVERFLOW)`
            : `${label(e)} at ${hex(iova)} with length ${hex(lengthOf(e))} goes past the end of the 64-bit IOVA space (the kernel answers EOVERFLOW)`,
        path: ctx.path(e.value, 'iova'),
      }];
    }),
    ...ioas.copies.flatMap((copy): DiagnosticSpec[] => {
      const from = copy.from;
      if (!ctx.ok(copy) || from.kind !== 'iova' || from.iova + from.length <= IOVA_SPACE_END) return [];
      return [{
        code: 'iova-overflow',
        message: `the source range of copy '${copy.name}' at ${hex(from.iova)} with length ${hex(from.length)} goes past the end of the 64-bit IOVA space`,
        path: ctx.path(copy, 'from', 'iova'),
      }];
    }),
  ]);

const fixedOverlaps: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) => {
    const ranges = fixedRanges(ctx, ioas).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    const out: DiagnosticSpec[] = [];
    // After sorting by start, an entry overlaps an earlier one iff it starts at or before the
    // furthest end seen so far; report each overlapping entry once, against that earlier one.
    let furthest: (typeof ranges)[number] | undefined;
    for (const range of ranges) {
      if (furthest && range.first <= furthest.last) {
        out.push({
          code: 'iova-overlap',
          message: `${label(range.entry)} [${hex(range.first)}, ${hex(range.last)}] overlaps ${label(furthest.entry)} [${hex(furthest.first)}, ${hex(furthest.last)}] in IOAS '${ioas.name}' (the kernel answers EEXIST)`,
          path: ctx.path(range.entry.value, 'iova'),
        });
      }
      if (!furthest || range.last > furthest.last) furthest = range;
    }
    return out;
  });

/** The byte offset into its memory region of a copy source's first byte, when knowable. */
function backingOffset(ctx: RuleContext, ioasName: string, entryName: string, offset: bigint, depth = 0): bigint | undefined {
  const entry = findEntry(ctx.layout, ioasName, entryName);
  if (!entry || depth > 64) return undefined;
  if (entry.kind === 'mapping') return entry.value.offset + offset;
  const from = entry.value.from;
  if (from.kind === 'entry') return backingOffset(ctx, from.ioas, from.entry, from.offset + offset, depth + 1);
  const source = ctx.layout.ioas.find((i) => i.name === from.ioas);
  const hit = source && fixedRanges(ctx, source).find((r) => r.first <= from.iova + offset && from.iova + offset <= r.last);
  return hit ? backingOffset(ctx, from.ioas, hit.entry.value.name, from.iova + offset - hit.first, depth + 1) : undefined;
}

const alignment: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) => {
    // A plain IOAS has iova_alignment 1; HUGE_PAGES=0 raises it to PAGE_SIZE (spec §5.3, §11),
    // and so does an attached device: its domain's smallest IOMMU page (4 KiB on x86).
    if (!ctx.ok(ioas)) return [];
    const device = devicesOf(ctx.layout).find((d) => d.ioas === ioas.name && ctx.ok(d) && devicePageSize(d.profile) !== null);
    if (ioas.hugePages && device === undefined) return [];
    const why = ioas.hugePages
      ? `device '${device?.name}' attaches to IOAS '${ioas.name}', which raises its IOVA alignment to 4KiB`
      : `IOAS '${ioas.name}' has huge_pages: false, which requires 4KiB alignment`;
    const misaligned = (value: bigint) => value % PAGE_SIZE !== 0n;
    const out: DiagnosticSpec[] = [];
    for (const e of entriesOf(ioas)) {
      if (!ctx.ok(e.value)) continue;
      const iova = e.value.iova;
      if (iova !== null && misaligned(iova)) {
        out.push({ code: 'misaligned', message: `${label(e)} has IOVA ${hex(iova)}, not a multiple of 4KiB`, path: ctx.path(e.value, 'iova'), hint: why });
      }
      if (ctx.sized(e.value) && misaligned(lengthOf(e))) {
        out.push({
          code: 'misaligned',
          message: `${label(e)} has length ${hex(lengthOf(e))}, not a multiple of 4KiB`,
          path: ctx.path(e.value, e.kind === 'mapping' ? 'length' : 'from'),
          hint: why,
        });
      }
      // The user address's offset within its page must be aligned too; region addresses are
      // 2 MiB aligned, so that is the offset into the region.
      const offset =
        e.kind === 'mapping'
          ? e.value.offset
          : e.value.from.kind === 'entry'
            ? backingOffset(ctx, e.value.from.ioas, e.value.from.entry, e.value.from.offset)
            : iovaSourceOffset(ctx, e.value);
      if (offset !== undefined && misaligned(offset)) {
        out.push({
          code: 'misaligned',
          message: `${label(e)} starts ${hex(offset)} bytes into its memory region, not on a 4KiB page boundary`,
          path: ctx.path(e.value, e.kind === 'mapping' ? 'offset' : 'from'),
          hint: why,
        });
      }
    }
    return out;
  });

function iovaSourceOffset(ctx: RuleContext, copy: Copy): bigint | undefined {
  const from = copy.from;
  if (from.kind !== 'iova') return undefined;
  const source = ctx.layout.ioas.find((i) => i.name === from.ioas);
  const hit = source && fixedRanges(ctx, source).find((r) => r.first <= from.iova && from.iova <= r.last);
  return hit ? backingOffset(ctx, from.ioas, hit.entry.value.name, from.iova - hit.first) : undefined;
}

const allowedRanges: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) => {
    const out: DiagnosticSpec[] = [];
    ioas.allowedIovas.forEach((range, index) => {
      if (range.start >= range.last) {
        out.push({
          code: 'allowed-range-inverted',
          message: `allowed range [${hex(range.start)}, ${hex(range.last)}] of IOAS '${ioas.name}' has start >= last (the kernel answers EINVAL)`,
          path: ctx.path(range),
          ...(range.start === range.last ? { hint: 'the kernel rejects single-byte ranges too' } : {}),
        });
        return;
      }
      const earlier = ioas.allowedIovas.slice(0, index).find((other) => other.start < other.last && other.start <= range.last && range.start <= other.last);
      if (earlier) {
        out.push({
          code: 'allowed-range-overlap',
          message: `allowed range [${hex(range.start)}, ${hex(range.last)}] overlaps [${hex(earlier.start)}, ${hex(earlier.last)}] in IOAS '${ioas.name}' (the kernel answers EINVAL)`,
          path: ctx.path(range),
          hint: 'adjacent ranges are fine; overlapping ones are not',
        });
      }
    });
    return out;
  });

function inside(ranges: readonly IovaRange[], first: bigint, last: bigint): boolean {
  // Allowed ranges that overlap or touch form one window (the kernel merges them too).
  const sorted = ranges.filter((r) => r.start < r.last).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let covered = first;
  for (const r of sorted) {
    if (r.start > covered) break;
    if (r.last >= covered) {
      if (r.last >= last) return true;
      covered = r.last + 1n;
    }
  }
  return false;
}

const outsideAllowed: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) => {
    if (ioas.allowedIovas.length === 0) return [];
    return fixedRanges(ctx, ioas)
      .filter((r) => !inside(ioas.allowedIovas, r.first, r.last))
      .map((r) => ({
        severity: 'warning' as const,
        code: 'outside-allowed' as const,
        message: `${label(r.entry)} [${hex(r.first)}, ${hex(r.last)}] is not inside the allowed ranges of IOAS '${ioas.name}'`,
        path: ctx.path(r.entry.value, 'iova'),
        hint: 'the kernel accepts fixed IOVAs outside the allowed ranges; only automatic placement is restricted to them',
      }));
  });

const copySources: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) =>
    ioas.copies.flatMap((copy): DiagnosticSpec[] => {
      const from = copy.from;
      if (!ctx.ok(copy)) return [];
      const source = ctx.layout.ioas.find((i) => i.name === from.ioas);
      if (!source) return [];
      if (from.kind === 'entry') {
        const entry = findEntry(ctx.layout, from.ioas, from.entry);
        if (!entry || !ctx.sized(entry.value)) return [];
        const whole = lengthOf(entry);
        if (from.offset > whole || (ctx.sized(copy) && from.offset + from.length > whole)) {
          return [{
            code: 'copy-out-of-entry',
            message: `copy '${copy.name}' takes [${hex(from.offset)}, ${hex(from.offset + from.length)}) of '${from.ioas}.${from.entry}', which is only ${hex(whole)} bytes long`,
            path: ctx.path(copy, 'from'),
          }];
        }
        return [];
      }
      if (from.length === 0n || from.iova + from.length > IOVA_SPACE_END) return [];
      const covered = coverage(ctx, source, from.iova, from.iova + from.length - 1n);
      if ('gap' in covered) {
        return [{
          code: 'copy-source-unmapped',
          message: `copy '${copy.name}' takes [${hex(from.iova)}, ${hex(from.iova + from.length - 1n)}] of IOAS '${from.ioas}', but nothing with a fixed IOVA is mapped at ${hex(covered.gap)} (the kernel answers ENOENT)`,
          path: ctx.path(copy, 'from'),
          hint: 'the source range must be covered back-to-back by fixed-IOVA mappings or copies; to copy a kernel-placed entry, write `from: ioas.entry`',
        }];
      }
      return [];
    }),
  );

/** Whether the pages behind a copy source were all mapped writable (copies share the pages). */
function writableSource(ctx: RuleContext, copy: Copy, seen: Set<Copy> = new Set()): boolean {
  if (seen.has(copy)) return true; // cycles are reported by copy-cycle
  seen.add(copy);
  const from = copy.from;
  const entries: Entry[] = [];
  if (from.kind === 'entry') {
    const entry = findEntry(ctx.layout, from.ioas, from.entry);
    if (entry) entries.push(entry);
  } else {
    const source = ctx.layout.ioas.find((i) => i.name === from.ioas);
    const covered = source && from.length > 0n ? coverage(ctx, source, from.iova, from.iova + from.length - 1n) : undefined;
    if (covered && 'pieces' in covered) entries.push(...covered.pieces);
  }
  return entries.every((e) => (e.kind === 'mapping' ? e.value.access !== 'r' : writableSource(ctx, e.value, seen)));
}

const copyAccess: Rule = (ctx) =>
  ctx.layout.ioas.flatMap((ioas) =>
    ioas.copies
      .filter((copy) => ctx.ok(copy) && copy.access !== 'r' && !writableSource(ctx, copy))
      .map((copy) => ({
        code: 'copy-access' as const,
        message: `copy '${copy.name}' asks for '${copy.access}' access, but its pages were mapped read-only (the kernel answers EPERM)`,
        path: ctx.path(copy, 'access'),
        hint: "use `access: r`, or map the source with `access: rw`",
      })),
  );

// --- devices ---

/** The IOVA alignment an attached device of this profile needs, when the profile is known now. */
function devicePageSize(profile: string): bigint | null {
  if (profile === HOST_PROFILE) return PAGE_SIZE; // x86 IOMMUs: 4 KiB smallest page
  return builtinProfile(profile)?.pageSize ?? null;
}

const deviceIoas: Rule = (ctx) => {
  const names = new Set(ctx.layout.ioas.map((i) => i.name));
  return devicesOf(ctx.layout)
    .filter((d) => ctx.ok(d) && !names.has(d.ioas))
    .map((d) => ({
      code: 'unknown-ioas' as const,
      message: `device '${d.name}' attaches to IOAS '${d.ioas}', which is not defined`,
      path: ctx.path(d, 'ioas'),
      hint: names.size > 0 ? `defined IOASes: ${[...names].join(', ')}` : 'define it under `ioas:`',
    }));
};

const unknownProfile: Rule = (ctx) =>
  devicesOf(ctx.layout)
    .filter((d) => ctx.ok(d) && d.profile !== HOST_PROFILE && builtinProfile(d.profile) === null)
    .map((d) => ({
      code: 'unknown-profile' as const,
      message: `device '${d.name}' has profile '${d.profile}', which does not exist`,
      path: ctx.path(d, 'profile'),
      hint: 'profiles: intel-vtd-39bit, intel-vtd-48bit, host',
    }));

const duplicateDevice: Rule = (ctx) => {
  const seen = new Map<string, string>();
  const out: DiagnosticSpec[] = [];
  for (const d of devicesOf(ctx.layout)) {
    if (!ctx.ok(d)) continue;
    const key = deviceSourceText(d.source);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, d.name);
    else {
      out.push({
        code: 'duplicate-device',
        message: `devices '${first}' and '${d.name}' both name ${key}`,
        path: ctx.path(d, d.source.kind),
        hint: 'a VFIO device binds to one iommufd context once and attaches to one IOAS',
      });
    }
  }
  return out;
};

/** The windows a profile makes unusable, with a word for each (for the message). */
function reservedWindows(profile: DeviceProfile): { range: IovaRange; what: string }[] {
  const ranges = profileReservedRanges(profile);
  const regions = profile.reserved.filter((r) => r.type !== 'direct-relaxable');
  return [
    ...ranges.device.map((range, i) => ({ range, what: `its ${regions[i]?.type ?? 'reserved'} window` })),
    ...ranges.aperture.map((range) => ({ range, what: `outside its aperture [${hex(profile.aperture.start)}, ${hex(profile.aperture.last)}]` })),
  ];
}

const reservedWindow: Rule = (ctx) =>
  devicesOf(ctx.layout).flatMap((d) => {
    const profile = ctx.ok(d) ? builtinProfile(d.profile) : null;
    const ioas = profile ? ctx.layout.ioas.find((i) => i.name === d.ioas) : undefined;
    if (!profile || !ioas) return [];
    const windows = reservedWindows(profile);
    return fixedRanges(ctx, ioas).flatMap((r) => {
      const hit = windows.find((w) => w.range.start <= r.last && r.first <= w.range.last);
      if (!hit) return [];
      return [{
        severity: 'warning' as const,
        code: 'reserved-window' as const,
        message: `${label(r.entry)} [${hex(r.first)}, ${hex(r.last)}] of IOAS '${ioas.name}' lies ${hit.what.startsWith('outside') ? hit.what : `in ${hit.what} [${hex(hit.range.start)}, ${hex(hit.range.last)}]`} of device '${d.name}' (profile ${profile.name})`,
        path: ctx.path(r.entry.value, 'iova'),
        hint: 'attaching the device fails EADDRINUSE while this mapping exists, and the MAP fails EINVAL once the device is attached; move the mapping',
      }];
    });
  });

const RULES: readonly Rule[] = [
  duplicateNames,
  unknownMemory,
  unknownCopySource,
  copyCycle,
  zeroLength,
  hugetlbSizes,
  mappingInRegion,
  iovaOverflow,
  fixedOverlaps,
  alignment,
  allowedRanges,
  outsideAllowed,
  copySources,
  copyAccess,
  deviceIoas,
  unknownProfile,
  duplicateDevice,
  reservedWindow,
];
