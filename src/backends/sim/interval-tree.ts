// A set of pairwise-disjoint inclusive intervals [start, last] with a payload, ordered by start:
// the area tree of one IOAS. Because the intervals never overlap, ordering by start also orders
// them by last, so every lookup is a plain O(log n) descent.
//
// Implementation: a treap (randomized balanced BST) with rotations. Each node carries
// subtree augmentation:
//   * size               – for "the n-th area" (TEST-kernel COPY bit 16) in O(log n);
//   * minStart / maxLast – the subtree's first start and last end;
//   * maxGapD            – the largest free gap *between* two consecutive intervals of the
//                          subtree (in doubles, with a proven error bound above 2^53), so the
//                          automatic IOVA allocator can skip every subtree whose holes are all
//                          too small (lowest-first-fit in O(log n) per candidate).
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
  /** Start of the subtree's last interval. */
  maxStart: bigint;
  /** start and last as doubles (exact below 2^53), for allocation-free augmentation. */
  readonly startD: number;
  readonly lastD: number;
  maxLastD: number;
  minStartD: number;
  /**
   * Largest gap between consecutive intervals inside this subtree, computed in doubles: exact
   * while the subtree's values stay below 2^53, otherwise within GAP_ERROR of the true value.
   * -1 if the subtree has a single interval.
   */
  maxGapD = -1;

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
    this.maxStart = start;
    this.startD = Number(start);
    this.lastD = Number(last);
    this.minStartD = this.startD;
    this.maxLastD = this.lastD;
  }
}

/** A free gap between two consecutive intervals: (previous.last, next.start). */
export interface Gap {
  readonly previousLast: bigint;
  readonly nextStart: bigint;
}

/**
 * Bound on |double gap - exact gap| once values reach 2^53: each of the two conversions and the
 * subtraction rounds by at most half an ulp (2^10 below 2^64); doubled for safety.
 */
const GAP_ERROR = 8192;
const EXACT_LIMIT = 2 ** 53;

/** The largest true gap in the subtree is at most this (so a subtree below `need` is skipped). */
function maxGapBound<T>(node: TreapNode<T>): number {
  return node.maxLastD >= EXACT_LIMIT ? node.maxGapD + GAP_ERROR : node.maxGapD;
}

// Recomputes the augmentation from the children without allocating (bigint arithmetic would
// allocate on every call, and this runs O(log n) times per insert and remove).
function update<T>(node: TreapNode<T>): void {
  const { left, right } = node;
  let size = 1;
  let gap = -1;
  if (left !== null) {
    size += left.size;
    node.minStart = left.minStart;
    node.minStartD = left.minStartD;
    gap = left.maxGapD;
    const between = node.startD - left.maxLastD - 1;
    if (between > gap) gap = between;
  } else {
    node.minStart = node.start;
    node.minStartD = node.startD;
  }
  if (right !== null) {
    size += right.size;
    node.maxLast = right.maxLast;
    node.maxStart = right.maxStart;
    node.maxLastD = right.maxLastD;
    if (right.maxGapD > gap) gap = right.maxGapD;
    const between = right.minStartD - node.lastD - 1;
    if (between > gap) gap = between;
  } else {
    node.maxLast = node.last;
    node.maxStart = node.start;
    node.maxLastD = node.lastD;
  }
  node.size = size;
  node.maxGapD = gap;
}

function rotateRight<T>(node: TreapNode<T>): TreapNode<T> {
  const pivot = node.left as TreapNode<T>;
  node.left = pivot.right;
  pivot.right = node;
  update(node);
  update(pivot);
  return pivot;
}

function rotateLeft<T>(node: TreapNode<T>): TreapNode<T> {
  const pivot = node.right as TreapNode<T>;
  node.right = pivot.left;
  pivot.left = node;
  update(node);
  update(pivot);
  return pivot;
}

/** Inserts `fresh` below `node` by start, rotating it up while its priority is higher. */
function insertNode<T>(node: TreapNode<T> | null, fresh: TreapNode<T>): TreapNode<T> {
  if (node === null) return fresh;
  if (fresh.start < node.start) {
    node.left = insertNode(node.left, fresh);
    if (node.left.priority > node.priority) return rotateRight(node);
  } else {
    node.right = insertNode(node.right, fresh);
    if (node.right.priority > node.priority) return rotateLeft(node);
  }
  update(node);
  return node;
}

/** Removes the node whose start is `start` (if any) from the subtree; `removed` receives it. */
function removeNode<T>(node: TreapNode<T> | null, start: bigint, removed: { node: TreapNode<T> | null }): TreapNode<T> | null {
  if (node === null) return null;
  if (start < node.start) {
    node.left = removeNode(node.left, start, removed);
  } else if (start > node.start) {
    node.right = removeNode(node.right, start, removed);
  } else {
    removed.node = node;
    return merge(node.left, node.right);
  }
  update(node);
  return node;
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

interface GapQuery {
  readonly from: bigint;
  readonly need: bigint;
  readonly needD: number;
}

/**
 * In-order search for the lowest gap of at least `need` bytes whose left neighbour starts at or
 * after `from`. `predStart`/`predLast` describe the interval just before this subtree (null if
 * none); `allAfter` says every start in this subtree is > from. Subtrees whose gap bound is
 * below `need` are skipped; every reported gap is checked exactly in bigint.
 */
function searchGap<T>(
  node: TreapNode<T> | null,
  query: GapQuery,
  predStart: bigint | null,
  predLast: bigint | null,
  allAfter: boolean,
): Gap | null {
  if (node === null) return null;
  if (!allAfter && node.start < query.from) {
    return searchGap(node.right, query, node.start, node.last, false);
  }
  const predOk = predLast !== null && predStart !== null && predStart >= query.from;
  if (allAfter) {
    if (predOk && node.minStart - (predLast as bigint) - 1n >= query.need) {
      return { previousLast: predLast as bigint, nextStart: node.minStart };
    }
    if (maxGapBound(node) < query.needD) return null;
  }
  const inLeft = searchGap(node.left, query, predStart, predLast, allAfter);
  if (inLeft !== null) return inLeft;
  if (node.left !== null) {
    // The left neighbour is the left subtree's maximum; it qualifies if it starts at/after from.
    const qualifies = allAfter || node.left.maxStart >= query.from;
    if (qualifies && node.start - node.left.maxLast - 1n >= query.need) {
      return { previousLast: node.left.maxLast, nextStart: node.start };
    }
  } else if (predOk && node.start - (predLast as bigint) - 1n >= query.need) {
    return { previousLast: predLast as bigint, nextStart: node.start };
  }
  return searchGap(node.right, query, node.start, node.last, true);
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
    this.root = insertNode(this.root, new TreapNode(start, last, value, this.nextPriority()));
  }

  /** Removes the interval starting exactly at `start`; returns it, or null if there is none. */
  remove(start: bigint): Interval<T> | null {
    const removed: { node: TreapNode<T> | null } = { node: null };
    this.root = removeNode(this.root, start, removed);
    return removed.node;
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
    return searchGap(this.root, { from, need, needD: Number(need) }, null, null, false);
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
