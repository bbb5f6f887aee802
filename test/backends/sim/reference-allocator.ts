// A naive, line-by-line port of the spec's reference model
// (../shared/spec/iommufd-alloc-model.py, the oracle for io_pagetable.c:iopt_alloc_iova in
// 6.12.117). Deliberately simple: sorted lists, every hole enumerated, no skipping. The
// simulator's tree-based allocator must agree with it on every input.

const PAGE = 4096n;
const HP = 2n * 1024n * 1024n;
const U = (1n << 64n) - 1n;

export type Iv = readonly [bigint, bigint];

function rup(x: bigint): bigint {
  let p = 1n;
  while (p < x) p <<= 1n;
  return p;
}

function lowbit(x: bigint): bigint {
  return x & -x;
}

function merged(iv: readonly Iv[], lo: bigint, hi: bigint): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  const sorted = [...iv].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  for (let [s, l] of sorted) {
    if (l < lo || s > hi) continue;
    s = s > lo ? s : lo;
    l = l < hi ? l : hi;
    const last = out[out.length - 1];
    if (last !== undefined && (last[1] >= s || last[1] + 1n === s)) {
      last[1] = last[1] > l ? last[1] : l;
    } else {
      out.push([s, l]);
    }
  }
  return out;
}

function holes(used: readonly Iv[], lo: bigint, hi: bigint): Iv[] {
  const u = merged(used, lo, hi);
  const h: Iv[] = [];
  let cur = lo;
  for (const [s, l] of u) {
    if (s > cur) h.push([cur, s - 1n]);
    cur = l + 1n;
  }
  const tail = u[u.length - 1];
  if (cur <= hi && (tail === undefined || tail[1] < hi)) h.push([cur, hi]);
  return h;
}

function fit(start: bigint, last: bigint, a: bigint, po: bigint, length: bigint): bigint | null {
  const t = start + a - 1n;
  if (t > U) return null;
  const x = (t & ~(a - 1n) & U) | po;
  if (x >= last || last - x < length - 1n) return null;
  return x;
}

/** alloc(allowed, reserved, areas, uptr, length, iova_alignment) -> iova or errno name. */
export function referenceAlloc(
  allowed: readonly Iv[],
  reserved: readonly Iv[],
  areas: readonly Iv[],
  uptr: bigint,
  length: bigint,
  ialign = 1n,
): bigint | 'EOVERFLOW' | 'EINVAL' | 'ENOSPC' {
  if (length === 0n || length >= U / 2n) return 'EOVERFLOW';
  const po = uptr % PAGE;
  let a = uptr === 0n ? rup(length) : rup(length) < lowbit(uptr) ? rup(length) : lowbit(uptr);
  if (a >= HP) a = HP;
  if (a < ialign) return 'EINVAL';
  const spans = allowed.length > 0 ? merged(allowed, PAGE, U - PAGE) : [[PAGE, U - PAGE] as [bigint, bigint]];
  for (const [s, l] of spans) {
    const s2 = fit(s, l, a, po, length);
    if (s2 === null) continue;
    for (const [hs, hl] of holes([...reserved, ...areas], s2, l)) {
      const x = fit(hs, hl, a, po, length);
      if (x !== null) return x;
    }
  }
  return 'ENOSPC';
}
