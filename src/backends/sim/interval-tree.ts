// A set of pairwise-disjoint inclusive intervals [start, last] with a payload, ordered by start:
// the area tree of one IOAS. Because the intervals never overlap, ordering by start also orders
// them by last, so every lookup is a plain O(log n) descent.
//
// Implementation: a treap (randomized balanced BST) built on split/merge. Each node carries
// subtree augmentation:
//   * size               – for "the n-th area" (TEST-kernel COPY bit 16) in O(log n);
//   * minStart / maxLast – the subtree's first start and last end;
//   * maxGap             – the largest free gap *between* two consecutive intervals of the
//                          subtree, so the automatic IOVA allocator can skip every subtree whose
//                          holes are all too small (lowest-first-fit in O(log n) per candidate).
// Priorities come from a fixed-seed PRNG, so a given sequence of operations always builds the
// same tree (reproducible runs; the shape never affects results).

export interface Interval<T> {
  readonly start: bigint;
  readonly last: bigint;
  readonly value: T;
}

class TreapNode<T> implements Interval<T> {
  left: TreapNode<T> | null = null;
  right: TreapNode<T> | null = null;
  size = 1;
  minStart: bigint;
  maxLast: bigint;
  /** Largest gap (in bytes) between consecutive intervals inside this subtree; -1n if none. */
  maxGap = -1n;

  readonly start: bigint;
  readonly last: bigint;
  readonly value: T;
  readonly priority: number;

  constructor(start: bigint, last: bigint, value: T, priority: number) {
    this.start = start;
    this.last = last;
    this.value = value;
    this.priority = priority;
    this.minStart = start;
    this.maxLast = last;
  }
}

/** A free gap between two consecutive intervals: (previous.last, next.start). */
export interface Gap {
  readonly previousLast: bigint;
  readonly nextStart: bigint;
}

function update<T>(node: TreapNode<T>): void {
  const { left, right } = node;
  let size = 1;
  let gap = -1n;
  if (left !== null) {
    size += left.size;
    node.minStart = left.minStart;
    gap = left.maxGap;
    const between = node.start - left.maxLast - 1n;
    if (between > gap) gap = between;
  } else {
    node.minStart = node.start;
  }
  if (right !== null) {
    size += right.size;
    node.maxLast = right.maxLast;
    if (right.maxGap > gap) gap = right.maxGap;
    const between = right.minStart - node.last - 1n;
    if (between > gap) gap = between;
  } else {
    node.maxLast = node.last;
  }
  node.size = size;
  node.maxGap = gap;
}

/** Splits into (start < key, start >= key). */
function split<T>(node: TreapNode<T> | null, key: bigint): [TreapNode<T> | null, TreapNode<T> | null] {
  if (node === null) return [null, null];
  if (node.start < key) {
    const [l, r] = split(node.right, key);
    node.right = l;
    update(node);
    return [node, r];
  }
  const [l, r] = split(node.left, key);
  node.left = r;
  update(node);
  return [l, node];
}

/** Merges two treaps where every start in `a` is below every start in `b`. */
function merge<T>(a: TreapNode<T> | null, b: TreapNode<T> | null): TreapNode<T> | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    update(a);
    return a;
  }
  b.left = merge(a, b.left);
  update(b);
  return b;
}

/** The lowest gap of at least `need` bytes inside the subtree (augmentation-guided descent). */
function firstGap<T>(root: TreapNode<T> | null, need: bigint): Gap | null {
  let node = root;
  while (node !== null && node.maxGap >= need) {
    const { left, right } = node;
    if (left !== null && left.maxGap >= need) {
      node = left;
      continue;
    }
    if (left !== null && node.start - left.maxLast - 1n >= need) {
      return { previousLast: left.maxLast, nextStart: node.start };
    }
    if (right !== null && right.minStart - node.last - 1n >= need) {
      return { previousLast: node.last, nextStart: right.minStart };
    }
    node = right;
  }
  return null;
}

export class IntervalTree<T> {
  private root: TreapNode<T> | null = null;
  private seed = 0x2545f491;

  get size(): number {
    return this.root === null ? 0 : this.root.size;
  }

  /** The highest `last` of any interval, or null when empty. */
  maxLast(): bigint | null {
    return this.root === null ? null : this.root.maxLast;
  }

  private nextPriority(): number {
    // xorshift32: deterministic, fast, good enough for treap balance.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  /** Inserts an interval; the caller guarantees it overlaps no existing interval. */
  insert(start: bigint, last: bigint, value: T): void {
    const node = new TreapNode(start, last, value, this.nextPriority());
    const [l, r] = split(this.root, start);
    this.root = merge(merge(l, node), r);
  }

  /** Removes the interval starting exactly at `start`; returns it, or null if there is none. */
  remove(start: bigint): Interval<T> | null {
    const [l, rest] = split(this.root, start);
    const [middle, r] = split(rest, start + 1n);
    this.root = merge(l, r);
    return middle;
  }

  clear(): void {
    this.root = null;
  }

  /** The lowest interval with last >= index (the first one at or after `index`). */
  firstEndingAtOrAfter(index: bigint): Interval<T> | null {
    let node = this.root;
    let found: TreapNode<T> | null = null;
    while (node !== null) {
      if (node.last >= index) {
        found = node;
        node = node.left;
      } else {
        node = node.right;
      }
    }
    return found;
  }

  /** The lowest interval intersecting [first, last] (interval_tree_iter_first). */
  firstIntersecting(first: bigint, last: bigint): Interval<T> | null {
    const candidate = this.firstEndingAtOrAfter(first);
    return candidate !== null && candidate.start <= last ? candidate : null;
  }

  /** The interval containing `index`, if any. */
  containing(index: bigint): Interval<T> | null {
    return this.firstIntersecting(index, index);
  }

  /** The n-th interval in ascending order (0-based), or null. */
  nth(n: number): Interval<T> | null {
    let node = this.root;
    let k = n;
    while (node !== null) {
      const leftSize = node.left === null ? 0 : node.left.size;
      if (k < leftSize) {
        node = node.left;
      } else if (k === leftSize) {
        return node;
      } else {
        k -= leftSize + 1;
        node = node.right;
      }
    }
    return null;
  }

  /**
   * The lowest gap of at least `need` free bytes between two consecutive intervals, considering
   * only intervals with start >= `from` (the gap's left neighbour starts at or after `from`).
   */
  firstGapFrom(from: bigint, need: bigint): Gap | null {
    const [l, r] = split(this.root, from);
    const gap = firstGap(r, need);
    this.root = merge(l, r);
    return gap;
  }

  /** All intervals in ascending order. */
  *[Symbol.iterator](): IterableIterator<Interval<T>> {
    const stack: TreapNode<T>[] = [];
    let node = this.root;
    while (node !== null || stack.length > 0) {
      while (node !== null) {
        stack.push(node);
        node = node.left;
      }
      const top = stack.pop() as TreapNode<T>;
      yield top;
      node = top.right;
    }
  }

  toArray(): Interval<T>[] {
    return [...this];
  }
}
