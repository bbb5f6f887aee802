// Changes -> an ordered list of Steps. Pure. The ordering rules, each one tested in
// test/plan/order.test.ts:
//  1. Removals first: every entry that is deleted or replaced is unmapped before anything is
//     mapped, so maps that reuse the space never collide (EEXIST). Copies are removed before the
//     entries they were copied from when both go.
//  2. An RLIMIT_MODE change needs an empty context: after the unmaps, every IOAS is destroyed,
//     the option is set, and the IOASes are recreated (the diff says why).
//  3. Memory regions are (re)created before anything maps them.
//  4. IOAS allocation, then HUGE_PAGES and allowed ranges, before the IOAS's mappings.
//  5. Mappings, then copies after their sources (topological; copies of copies).
//  6. Destroys last: deleted IOASes (already emptied by rule 1), then deleted memory regions.
// Devices:
//  D1. Detaches come first of all: a device that goes or moves is detached (and unbound) before
//      any unmap, before its IOAS is destroyed (DESTROY of an attached IOAS is EBUSY) and before
//      an RLIMIT_MODE change (a bound device is an object, and the option needs an empty context).
//  D2. Attaches come after every IOAS's allocation, HUGE_PAGES and allowed ranges (rule 4) and
//      before any mapping (rule 5): the device's reserved windows then steer automatic placement
//      away from them, and each MAP pins (and fails) at its own step instead of at the attach.

import { devicesOf, type Copy, type Device, type Ioas, type Layout, type Mapping } from '../model/layout.js';
import type { RecordedEntry, RecordedIoas, StateBody } from '../model/recorded.js';
import { sameRanges } from '../model/format.js';
import type { EntrySpec, Step } from '../model/step.js';
import type { Change } from './diff.js';
import { OPTIONS_ADDRESS, copySourceEntries, deviceAddress, entryAddress, ioasAddress, memoryAddress } from './diff.js';

export interface OrderError {
  readonly code: 'copy-cycle';
  readonly message: string;
}

export type OrderResult = { readonly ok: true; readonly steps: Step[] } | { readonly ok: false; readonly error: OrderError };

interface Removal { readonly ioas: RecordedIoas; readonly entry: RecordedEntry }
interface Creation { readonly ioas: Ioas; readonly name: string; readonly spec: EntrySpec }

export function order(desired: Layout, recorded: StateBody, changes: readonly Change[]): OrderResult {
  const action = new Map(changes.map((c) => [c.address, c.action]));
  const steps: Step[] = [];
  const rlimitChanges = action.get(OPTIONS_ADDRESS) === 'update';
  const desiredIoas = new Map(desired.ioas.map((i) => [i.name, i]));

  // Rule D1: detaches.
  for (const device of recorded.devices ?? []) {
    const a = action.get(deviceAddress(device.name));
    if (a === 'delete' || a === 'replace') steps.push(detachStep(device));
  }

  // Rule 1: removals, dependents (copies) before what they were copied from.
  const removals: Removal[] = [];
  for (const ioas of recorded.ioas) {
    for (const entry of ioas.entries) {
      const a = action.get(entryAddress(ioas.name, entry.spec.kind, entry.name));
      // An entry whose kind changed has its recorded address absent from the desired side: the
      // diff lists it as a delete under its recorded address.
      if (a === 'delete' || a === 'replace') removals.push({ ioas, entry });
    }
  }
  const depth = copyDepths(recorded);
  removals
    .map((r, index) => ({ r, index, d: depth.get(`${r.ioas.name}/${r.entry.name}`) ?? 0 }))
    .sort((x, y) => y.d - x.d || x.index - y.index)
    .forEach(({ r }) =>
      steps.push({ op: 'unmap', address: entryAddress(r.ioas.name, r.entry.spec.kind, r.entry.name), ioas: r.ioas.name, entry: r.entry.name, spec: r.entry.spec, areas: r.entry.areas }),
    );

  // Rule 2: empty the context for RLIMIT_MODE.
  if (rlimitChanges) {
    for (const ioas of recorded.ioas) steps.push(destroyStep(ioas));
    steps.push({ op: 'set-rlimit-mode', address: OPTIONS_ADDRESS, mode: desired.options.rlimitMode, previous: recorded.options.rlimitMode });
  }

  // Rule 3: memory.
  const recordedMemory = new Map(recorded.memory.map((m) => [m.name, m]));
  for (const m of desired.memory) {
    const a = action.get(memoryAddress(m.name));
    const old = recordedMemory.get(m.name);
    if (a === 'replace' && old) steps.push({ op: 'release-memory', address: memoryAddress(m.name), memory: { name: old.name, size: old.size, backing: old.backing }, userVa: old.userVa });
    if (a === 'replace' || a === 'create') steps.push({ op: 'create-memory', address: memoryAddress(m.name), memory: m });
  }

  // Rule 4: IOASes and their settings.
  const recordedIoas = new Map(recorded.ioas.map((i) => [i.name, i]));
  for (const ioas of desired.ioas) {
    const a = action.get(ioasAddress(ioas.name));
    const fresh = a === 'create' || a === 'replace';
    if (fresh) steps.push({ op: 'alloc-ioas', address: ioasAddress(ioas.name), ioas: ioas.name });
    const old = fresh ? undefined : recordedIoas.get(ioas.name);
    const hugePagesNow = old?.hugePages ?? true;
    const allowedNow = old?.allowedIovas ?? [];
    if (ioas.hugePages !== hugePagesNow) {
      steps.push({ op: 'set-huge-pages', address: ioasAddress(ioas.name), ioas: ioas.name, enabled: ioas.hugePages, previous: hugePagesNow });
    }
    if (!sameRanges(ioas.allowedIovas, allowedNow)) {
      steps.push({ op: 'allow-iovas', address: ioasAddress(ioas.name), ioas: ioas.name, ranges: ioas.allowedIovas, previous: allowedNow });
    }
  }

  // Rule D2: attaches.
  for (const device of devicesOf(desired)) {
    const a = action.get(deviceAddress(device.name));
    if (a === 'create' || a === 'replace') steps.push({ op: 'attach', address: deviceAddress(device.name), device: layoutDevice(device), ioas: device.ioas });
  }

  // Rule 5: entries, copies after their sources.
  const creations: Creation[] = [];
  for (const ioas of desired.ioas) {
    for (const m of ioas.mappings) {
      const a = action.get(entryAddress(ioas.name, 'mapping', m.name));
      if (a === 'create' || a === 'replace') creations.push({ ioas, name: m.name, spec: { kind: 'mapping', mapping: m } });
    }
    for (const c of ioas.copies) {
      const a = action.get(entryAddress(ioas.name, 'copy', c.name));
      if (a === 'create' || a === 'replace') creations.push({ ioas, name: c.name, spec: { kind: 'copy', copy: c } });
    }
  }
  const sorted = topologicalCreations(creations, desiredIoas);
  if (!sorted.ok) return sorted;
  for (const c of sorted.creations) steps.push(createStep(c));

  // Rule 6: destroys last.
  if (!rlimitChanges) {
    for (const ioas of recorded.ioas) if (action.get(ioasAddress(ioas.name)) === 'delete') steps.push(destroyStep(ioas));
  }
  for (const m of recorded.memory) {
    if (action.get(memoryAddress(m.name)) === 'delete') {
      steps.push({ op: 'release-memory', address: memoryAddress(m.name), memory: { name: m.name, size: m.size, backing: m.backing }, userVa: m.userVa });
    }
  }
  return { ok: true, steps };
}

/** The layout fields of a (possibly recorded) device, without kernel ids. */
function layoutDevice({ name, source, ioas, profile }: Device): Device {
  return { name, source, ioas, profile };
}

function detachStep(device: Device): Step {
  return { op: 'detach', address: deviceAddress(device.name), device: layoutDevice(device), ioas: device.ioas };
}

function destroyStep(ioas: RecordedIoas): Step {
  return { op: 'destroy-ioas', address: ioasAddress(ioas.name), ioas: ioas.name, allowedIovas: ioas.allowedIovas, hugePages: ioas.hugePages };
}

function createStep(c: Creation): Step {
  if (c.spec.kind === 'mapping') {
    const m: Mapping = c.spec.mapping;
    return { op: 'map', address: entryAddress(c.ioas.name, 'mapping', m.name), ioas: c.ioas.name, entry: m.name, spec: c.spec, memory: m.memory, offset: m.offset, length: m.length, iova: m.iova, access: m.access };
  }
  const copy: Copy = c.spec.copy;
  const from = copy.from.kind === 'entry'
    ? { kind: 'entry' as const, ioas: copy.from.ioas, entry: copy.from.entry, offset: copy.from.offset }
    : { kind: 'iova' as const, ioas: copy.from.ioas, iova: copy.from.iova };
  return { op: 'copy', address: entryAddress(c.ioas.name, 'copy', copy.name), ioas: c.ioas.name, entry: copy.name, spec: c.spec, from, length: copy.from.length, iova: copy.iova, access: copy.access };
}

/** How many copy hops separate each recorded entry from plain mappings (`ioas/name` keys). */
function copyDepths(recorded: StateBody): Map<string, number> {
  const depths = new Map<string, number>();
  const entries = new Map<string, RecordedEntry>(recorded.ioas.flatMap((i) => i.entries.map((e): [string, RecordedEntry] => [`${i.name}/${e.name}`, e])));
  const visit = (key: string, seen: Set<string>): number => {
    const known = depths.get(key);
    if (known !== undefined) return known;
    const e = entries.get(key);
    if (!e || e.spec.kind === 'mapping' || seen.has(key)) return 0;
    seen.add(key);
    const from = e.spec.copy.from;
    const d = 1 + Math.max(0, ...copySourceEntries(from, recorded).filter((s) => `${from.ioas}/${s}` !== key).map((s) => visit(`${from.ioas}/${s}`, seen)));
    depths.set(key, d);
    return d;
  };
  for (const key of entries.keys()) visit(key, new Set());
  return depths;
}

/**
 * Orders creations so every copy comes after the entries it reads. A copy from a named entry
 * waits for that entry; a copy from a raw IOVA range waits for every other created mapping or
 * entry copy of the source IOAS (which of them will cover the range is only known once placed).
 */
function topologicalCreations(creations: readonly Creation[], desiredIoas: ReadonlyMap<string, Ioas>): { ok: true; creations: Creation[] } | { ok: false; error: OrderError } {
  const key = (ioas: string, name: string): string => `${ioas}/${name}`;
  const dependsOn = (c: Creation): string[] => {
    if (c.spec.kind === 'mapping') return [];
    const from = c.spec.copy.from;
    if (from.kind === 'entry') return [key(from.ioas, from.entry)];
    const source = desiredIoas.get(from.ioas);
    if (!source) return [];
    return [
      ...source.mappings.map((m) => key(from.ioas, m.name)),
      ...source.copies.filter((x) => x.from.kind === 'entry').map((x) => key(from.ioas, x.name)),
    ].filter((k) => k !== key(c.ioas.name, c.name));
  };
  // Kahn's algorithm, always taking the ready creation declared first (a min-heap of indexes),
  // so declaration order is kept wherever dependencies allow. O((n + edges) log n): the plain
  // "re-scan for the first ready one" was O(n^2) and took seconds at 10k entries.
  const index = new Map(creations.map((c, i) => [key(c.ioas.name, c.name), i]));
  const waitingOn = creations.map(() => 0);
  const dependents: number[][] = creations.map(() => []);
  creations.forEach((c, i) => {
    for (const d of new Set(dependsOn(c))) {
      const j = index.get(d);
      if (j === undefined) continue; // not created by this plan: already there
      waitingOn[i]! += 1;
      dependents[j]!.push(i);
    }
  });
  const ready = new MinHeap();
  waitingOn.forEach((n, i) => n === 0 && ready.push(i));
  const out: Creation[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    out.push(creations[i]!);
    for (const j of dependents[i]!) if ((waitingOn[j]! -= 1) === 0) ready.push(j);
  }
  if (out.length < creations.length) {
    const remaining = creations.filter((_, i) => waitingOn[i]! > 0);
    return { ok: false, error: { code: 'copy-cycle', message: `copies depend on each other in a cycle: ${remaining.map((c) => entryAddress(c.ioas.name, c.spec.kind, c.name)).join(', ')}` } };
  }
  return { ok: true, creations: out };
}

/** A binary min-heap of non-negative integers. */
class MinHeap {
  private readonly items: number[] = [];

  push(value: number): void {
    const a = this.items;
    a.push(value);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= a[i]!) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }

  pop(): number | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l]! < a[m]!) m = l;
      if (r < a.length && a[r]! < a[m]!) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i]!, a[m]!];
      i = m;
    }
    return top;
  }
}
