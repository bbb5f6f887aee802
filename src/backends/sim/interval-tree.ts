// A set of pairwise-disjoint inclusive intervals [start, last] with a payload, ordered by start:
// the area tree of one IOAS. Because the intervals never overlap, ordering by start also orders
// them by last, so every lookup is a plain O(log n) descent.
//
// Implementation: a treap (randomized balanced BST) with rotations. Each node carries
// subtree augmentation:
//   * size               – for "the n-th area" (TEST-kernel COPY bit 16) in O(log n);
//   * minNode / maxNode  – the subtree's first and last node (its first start, last end);
//   * maxGapD            – the largest free gap *between* two consecutive intervals of the
//                          subtree (in doubles, with a proven error bound above 2^53), so the
//                          automatic IOVA allocator can skip every subtree whose holes are all
//                          too small (lowest-first-fit in O(log n) per candidate).
// Priorities come from a fixed-seed PRNG, so a given sequence of operations always builds the
// same tree (reproducible runs; the shape never affects results).
//
// Layout: struct of arrays. A node is an index into typed arrays (links, sizes, priorities and
// the double-valued augmentation) plus three plain arrays holding the exact bigint start, last
// and the payload. An IOAS with 100k areas is then 100k payloads and 100k `last` bigints for
// the garbage collector to trace, instead of 100k node objects each with its own boxed doubles
// (a treap node object cost about six heap objects, all promoted to the old generation and
// marked on every major GC). Typed arrays are not traced at all.

export interface Interval<T> {
  readonly start: bigint;
  readonly last: bigint;
  readonly value: T;
}

/** A free gap between two consecutive intervals: (previous.last, next.start). */
export interface Gap {
  readonly previousLast: bigint;
  readonly nextStart: bigint;
}

/** "No node": the null link. */
export const NIL = -1;

/**
 * Bound on |double gap - exact gap| once values reach 2^53: each of the two conversions and the
 * subtraction rounds by at most half an ulp (2^10 below 2^64); doubled for safety.
 */
const GAP_ERROR = 8192;
const EXACT_LIMIT = 2 ** 53;
const INITIAL_CAPACITY = 16;

// Ordering by doubles first. Number() rounds monotonically, so a <= b implies
// Number(a) <= Number(b): distinct doubles order their bigints exactly, and equal doubles mean
// equal values below 2^53. Only a tie at or above 2^53 needs the exact bigint comparison (a
// bigint comparison is a builtin call, a double comparison one instruction, and a descent
// makes about 2 log2(n) of them).

// (So a < b is `aD !== bD ? aD < bD : aD >= 2^53 && a < b`, written out at each use: the
// bigint operand is then loaded from the `starts` array only on such a tie, not on every level
// of every descent, which an argument of a helper function would cost.)

export class IntervalTree<T> {
  private root = NIL;
  private seed = 0x2545f491;
  /** Slots below `used` have been handed out; freed ones wait in `free`. */
  private used = 0;
  private readonly free: number[] = [];

  private left = new Int32Array(INITIAL_CAPACITY);
  private right = new Int32Array(INITIAL_CAPACITY);
  private sizes = new Int32Array(INITIAL_CAPACITY);
  private priority = new Uint32Array(INITIAL_CAPACITY);
  /** The subtree's first (lowest start) and last (highest last) node. */
  private minNode = new Int32Array(INITIAL_CAPACITY);
  private maxNode = new Int32Array(INITIAL_CAPACITY);
  /** start and last as doubles (exact below 2^53), for allocation-free augmentation. */
  private startD = new Float64Array(INITIAL_CAPACITY);
  private lastD = new Float64Array(INITIAL_CAPACITY);
  /**
   * Largest gap between consecutive intervals inside the subtree, computed in doubles: exact
   * while the subtree's values stay below 2^53, otherwise within GAP_ERROR of the true value.
   * -1 if the subtree has a single interval.
   */
  private maxGapD = new Float64Array(INITIAL_CAPACITY);
  private readonly starts: bigint[] = [];
  /**
   * The exact `last`, or undefined when it is below 2^53 and the number fast path inserted it
   * (`insertSmall`): then `lastD` is exact and `lastAt` rebuilds the bigint on demand, so the
   * hot path retains one bigint fewer per area.
   */
  private readonly lasts: (bigint | undefined)[] = [];
  private readonly values: (T | undefined)[] = [];
  /** The insert path, reused across inserts. */
  private readonly path: number[] = [];
  /** The right neighbour of the gap searchGap last found (its left neighbour is returned). */
  private gapNext = NIL;
  /** The query object of firstGapFromD, reused (the fast path allocates nothing per search). */
  private readonly fastQuery: GapQuery = { from: 0n, fromD: 0, need: null, needD: 0 };

  get size(): number {
    return this.root === NIL ? 0 : (this.sizes[this.root] as number);
  }

  /** The highest `last` of any interval, or null when empty. */
  maxLast(): bigint | null {
    return this.root === NIL ? null : this.lastAt(this.maxNode[this.root] as number);
  }

  // ---- node accessors (indexes are valid until the next insert or remove) -----------------

  startAt(node: number): bigint {
    return this.starts[node] as bigint;
  }

  lastAt(node: number): bigint {
    const last = this.lasts[node];
    return last === undefined ? BigInt(this.lastD[node] as number) : last;
  }

  /** start and last as doubles: exact below 2^53, and rounded monotonically above. */
  startDAt(node: number): number {
    return this.startD[node] as number;
  }

  lastDAt(node: number): number {
    return this.lastD[node] as number;
  }

  /** The highest `last` as a double (see lastDAt), or -1 when empty. */
  maxLastD(): number {
    return this.root === NIL ? -1 : (this.lastD[this.maxNode[this.root] as number] as number);
  }

  valueAt(node: number): T {
    return this.values[node] as T;
  }

  private intervalAt(node: number): Interval<T> | null {
    return node === NIL ? null : { start: this.startAt(node), last: this.lastAt(node), value: this.valueAt(node) };
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

  private grow(): void {
    const capacity = this.left.length * 2;
    const widen = <A extends Int32Array | Uint32Array | Float64Array>(old: A, make: (n: number) => A): A => {
      const bigger = make(capacity);
      bigger.set(old);
      return bigger;
    };
    this.left = widen(this.left, (n) => new Int32Array(n));
    this.right = widen(this.right, (n) => new Int32Array(n));
    this.sizes = widen(this.sizes, (n) => new Int32Array(n));
    this.priority = widen(this.priority, (n) => new Uint32Array(n));
    this.minNode = widen(this.minNode, (n) => new Int32Array(n));
    this.maxNode = widen(this.maxNode, (n) => new Int32Array(n));
    this.startD = widen(this.startD, (n) => new Float64Array(n));
    this.lastD = widen(this.lastD, (n) => new Float64Array(n));
    this.maxGapD = widen(this.maxGapD, (n) => new Float64Array(n));
  }

  private newNode(start: bigint, startD: number, last: bigint | undefined, lastD: number, value: T): number {
    let node = this.free.pop();
    if (node === undefined) {
      if (this.used === this.left.length) this.grow();
      node = this.used++;
    }
    this.left[node] = NIL;
    this.right[node] = NIL;
    this.sizes[node] = 1;
    this.priority[node] = this.nextPriority();
    this.minNode[node] = node;
    this.maxNode[node] = node;
    this.startD[node] = startD;
    this.lastD[node] = lastD;
    this.maxGapD[node] = -1;
    this.starts[node] = start;
    this.lasts[node] = last;
    this.values[node] = value;
    return node;
  }

  private release(node: number): void {
    this.values[node] = undefined;
    this.free.push(node);
  }

  /** The largest true gap in the subtree is at most this (so a subtree below `need` is skipped). */
  private maxGapBound(node: number): number {
    const gap = this.maxGapD[node] as number;
    return (this.lastD[this.maxNode[node] as number] as number) >= EXACT_LIMIT ? gap + GAP_ERROR : gap;
  }

  // Recomputes the augmentation from the children without allocating (bigint arithmetic would
  // allocate on every call, and this runs O(log n) times per insert and remove).
  private update(node: number): void {
    const left = this.left[node] as number;
    const right = this.right[node] as number;
    let size = 1;
    let gap = -1;
    if (left !== NIL) {
      size += this.sizes[left] as number;
      this.minNode[node] = this.minNode[left] as number;
      gap = this.maxGapD[left] as number;
      const between = (this.startD[node] as number) - (this.lastD[this.maxNode[left] as number] as number) - 1;
      if (between > gap) gap = between;
    } else {
      this.minNode[node] = node;
    }
    if (right !== NIL) {
      size += this.sizes[right] as number;
      this.maxNode[node] = this.maxNode[right] as number;
      const rightGap = this.maxGapD[right] as number;
      if (rightGap > gap) gap = rightGap;
      const between = (this.startD[this.minNode[right] as number] as number) - (this.lastD[node] as number) - 1;
      if (between > gap) gap = between;
    } else {
      this.maxNode[node] = node;
    }
    this.sizes[node] = size;
    this.maxGapD[node] = gap;
  }

  /** The node whose start is exactly `start`, or NIL. */
  private find(start: bigint): number {
    let node = this.root;
    while (node !== NIL) {
      const s = this.startAt(node);
      if (start === s) return node;
      node = (start < s ? this.left[node] : this.right[node]) as number;
    }
    return NIL;
  }

  /** start < node.start, given startD = Number(start); reads the node's bigint only on a tie at 2^53+. */
  private startsBelow(startD: number, start: bigint, node: number): boolean {
    const nodeD = this.startD[node] as number;
    return startD !== nodeD ? startD < nodeD : startD >= EXACT_LIMIT && start < this.startAt(node);
  }

  /** Unlinks `target` (known to be in the subtree, found by its start) from the subtree. */
  private removeNode(node: number, start: bigint, target: number): number {
    if (node === target) return this.merge(this.left[node] as number, this.right[node] as number);
    if (this.startsBelow(this.startD[target] as number, start, node)) {
      this.left[node] = this.removeNode(this.left[node] as number, start, target);
    } else {
      this.right[node] = this.removeNode(this.right[node] as number, start, target);
    }
    this.update(node);
    return node;
  }

  /** Merges two treaps where every start in `a` is below every start in `b`. */
  private merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    if ((this.priority[a] as number) > (this.priority[b] as number)) {
      this.right[a] = this.merge(this.right[a] as number, b);
      this.update(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b] as number);
    this.update(b);
    return b;
  }

  /** Inserts an interval; the caller guarantees it overlaps no existing interval. */
  insert(start: bigint, last: bigint, value: T): void {
    this.insertNode(this.newNode(start, Number(start), last, Number(last), value));
  }

  /**
   * insert() for the number fast path: `startD` = Number(start) and `lastD` are exact integers
   * below 2^53, and the bigint `last` is not kept (lastAt rebuilds it).
   */
  insertSmall(start: bigint, startD: number, lastD: number, value: T): void {
    this.insertNode(this.newNode(start, startD, undefined, lastD, value));
  }

  private insertNode(fresh: number): void {
    const start = this.startAt(fresh);
    if (this.root === NIL) {
      this.root = fresh;
      return;
    }
    // Iterative treap insertion (a hot path: one per area): descend by start to a free link,
    // recording the path, then rotate `fresh` up while its priority is higher than its
    // parent's, then refresh the augmentation of the ancestors above it. Same rotations, hence
    // the same tree, as the textbook recursive insert.
    const freshD = this.startD[fresh] as number;
    const path = this.path;
    let depth = 0;
    let node = this.root;
    for (;;) {
      path[depth++] = node;
      const goLeft = this.startsBelow(freshD, start, node);
      const child = (goLeft ? this.left[node] : this.right[node]) as number;
      if (child === NIL) {
        if (goLeft) this.left[node] = fresh;
        else this.right[node] = fresh;
        break;
      }
      node = child;
    }
    const freshPriority = this.priority[fresh] as number;
    let i = depth - 1;
    while (i >= 0) {
      const parent = path[i] as number;
      if (freshPriority <= (this.priority[parent] as number)) break;
      if (this.left[parent] === fresh) {
        this.left[parent] = this.right[fresh] as number;
        this.right[fresh] = parent;
      } else {
        this.right[parent] = this.left[fresh] as number;
        this.left[fresh] = parent;
      }
      this.update(parent);
      if (i === 0) {
        this.root = fresh;
      } else {
        const grandparent = path[i - 1] as number;
        if (this.left[grandparent] === parent) this.left[grandparent] = fresh;
        else this.right[grandparent] = fresh;
      }
      i--;
    }
    this.update(fresh);
    for (; i >= 0; i--) this.update(path[i] as number);
  }

  /** Removes the interval starting exactly at `start`; returns it, or null if there is none. */
  remove(start: bigint): Interval<T> | null {
    const target = this.find(start);
    if (target === NIL) return null;
    const removed = this.intervalAt(target);
    this.root = this.removeNode(this.root, start, target);
    this.release(target);
    return removed;
  }

  clear(): void {
    this.root = NIL;
    this.used = 0;
    this.free.length = 0;
    this.starts.length = 0;
    this.lasts.length = 0;
    this.values.length = 0;
  }

  /** The node of the lowest interval with last >= index, or NIL. */
  nodeEndingAtOrAfter(index: bigint): number {
    const indexD = Number(index);
    let node = this.root;
    let found = NIL;
    while (node !== NIL) {
      // last >= index, i.e. !(last < index); the exact last is read only on a tie at 2^53 or above.
      const lastD = this.lastD[node] as number;
      const before = lastD !== indexD ? lastD < indexD : lastD >= EXACT_LIMIT && this.lastAt(node) < index;
      if (!before) {
        found = node;
        node = this.left[node] as number;
      } else {
        node = this.right[node] as number;
      }
    }
    return found;
  }

  /**
   * nodeEndingAtOrAfter for an exact integer `indexD` below 2^53: comparing it with a node's
   * rounded double is exact (Number() is monotonic and 2^53 is exact), so no bigint is read.
   */
  nodeEndingAtOrAfterD(indexD: number): number {
    let node = this.root;
    let found = NIL;
    while (node !== NIL) {
      if ((this.lastD[node] as number) >= indexD) {
        found = node;
        node = this.left[node] as number;
      } else {
        node = this.right[node] as number;
      }
    }
    return found;
  }

  /** nodeIntersecting for exact integers firstD <= lastD below 2^53 (see nodeEndingAtOrAfterD). */
  nodeIntersectingD(firstD: number, lastD: number): number {
    const candidate = this.nodeEndingAtOrAfterD(firstD);
    return candidate !== NIL && (this.startD[candidate] as number) <= lastD ? candidate : NIL;
  }

  /** The node of the lowest interval intersecting [first, last], or NIL. */
  nodeIntersecting(first: bigint, last: bigint): number {
    const candidate = this.nodeEndingAtOrAfter(first);
    return candidate !== NIL && this.startAt(candidate) <= last ? candidate : NIL;
  }

  /** The lowest interval with last >= index (the first one at or after `index`). */
  firstEndingAtOrAfter(index: bigint): Interval<T> | null {
    return this.intervalAt(this.nodeEndingAtOrAfter(index));
  }

  /** The lowest interval intersecting [first, last] (interval_tree_iter_first). */
  firstIntersecting(first: bigint, last: bigint): Interval<T> | null {
    return this.intervalAt(this.nodeIntersecting(first, last));
  }

  /** The interval containing `index`, if any. */
  containing(index: bigint): Interval<T> | null {
    return this.firstIntersecting(index, index);
  }

  /** The n-th interval in ascending order (0-based), or null. */
  nth(n: number): Interval<T> | null {
    let node = this.root;
    let k = n;
    while (node !== NIL) {
      const left = this.left[node] as number;
      const leftSize = left === NIL ? 0 : (this.sizes[left] as number);
      if (k < leftSize) {
        node = left;
      } else if (k === leftSize) {
        return this.intervalAt(node);
      } else {
        k -= leftSize + 1;
        node = this.right[node] as number;
      }
    }
    return null;
  }

  /**
   * The lowest gap of at least `need` free bytes between two consecutive intervals, considering
   * only intervals with start >= `from` (the gap's left neighbour starts at or after `from`).
   */
  firstGapFrom(from: bigint, need: bigint): Gap | null {
    const found = this.searchGap(this.root, { from, fromD: Number(from), need, needD: Number(need) }, NIL, false);
    return found === NIL ? null : { previousLast: this.lastAt(found), nextStart: this.startAt(this.gapNext) };
  }

  /**
   * firstGapFrom for the number fast path: `from` is the start of node `fromNode`, `needD` an
   * exact integer below 2^53. Returns the gap's left neighbour node (NIL if none); its right
   * neighbour is then `gapNextNode()`. Gaps whose right neighbour starts at 2^53 or above are
   * measured in doubles (within GAP_ERROR): the fast path gives up on any hole up there.
   */
  firstGapFromD(fromNode: number, needD: number): number {
    const query = this.fastQuery;
    query.from = this.startAt(fromNode);
    query.fromD = this.startD[fromNode] as number;
    query.need = null;
    query.needD = needD;
    return this.searchGap(this.root, query, NIL, false);
  }

  /** The right neighbour of the gap the last firstGapFromD found. */
  gapNextNode(): number {
    return this.gapNext;
  }

  /** next.start - prev.last - 1 >= need, in doubles when that is exact, else in bigint. */
  private gapFits(prev: number, next: number, query: GapQuery): boolean {
    const nextStartD = this.startD[next] as number;
    // prev.last < next.start, so both are exact doubles here and so is their difference;
    // a `need` of 2^53 or more is then larger than any such gap, as its double says too.
    const fits =
      nextStartD < EXACT_LIMIT || query.need === null
        ? nextStartD - (this.lastD[prev] as number) - 1 >= query.needD
        : this.startAt(next) - this.lastAt(prev) - 1n >= query.need;
    if (fits) this.gapNext = next;
    return fits;
  }

  /**
   * In-order search for the lowest gap of at least `need` bytes whose left neighbour starts at
   * or after `from`; returns that left neighbour, or NIL. `pred` is the interval just before
   * this subtree (NIL if none); `allAfter` says every start in this subtree is > from. Subtrees
   * whose gap bound is below `need` are skipped; every reported gap is checked exactly.
   */
  private searchGap(node: number, query: GapQuery, pred: number, allAfter: boolean): number {
    if (node === NIL) return NIL;
    if (!allAfter && this.startsBefore(node, query)) {
      return this.searchGap(this.right[node] as number, query, node, false);
    }
    const predOk = pred !== NIL && !this.startsBefore(pred, query);
    if (allAfter) {
      if (predOk && this.gapFits(pred, this.minNode[node] as number, query)) return pred;
      if (this.maxGapBound(node) < query.needD) return NIL;
    }
    const left = this.left[node] as number;
    const inLeft = this.searchGap(left, query, pred, allAfter);
    if (inLeft !== NIL) return inLeft;
    if (left !== NIL) {
      // The left neighbour is the left subtree's maximum; it qualifies if it starts at/after from.
      const before = this.maxNode[left] as number;
      const qualifies = allAfter || !this.startsBefore(before, query);
      if (qualifies && this.gapFits(before, node, query)) return before;
    } else if (predOk && this.gapFits(pred, node, query)) {
      return pred;
    }
    return this.searchGap(this.right[node] as number, query, node, true);
  }

  /** node.start < query.from */
  private startsBefore(node: number, query: GapQuery): boolean {
    const nodeD = this.startD[node] as number;
    return nodeD !== query.fromD ? nodeD < query.fromD : nodeD >= EXACT_LIMIT && this.startAt(node) < query.from;
  }

  /**
   * The sum of every interval's length (last - start + 1). Below 2^53 the intervals are
   * disjoint inside [0, 2^53), so every partial sum is an integer <= 2^53, exact in doubles:
   * one bigint at the end instead of three per interval (unmap-all and close run this).
   */
  totalLength(): bigint {
    if (this.root === NIL) return 0n;
    if (this.maxLastD() < EXACT_LIMIT) {
      let total = 0;
      this.forEachNode((node) => {
        total += (this.lastD[node] as number) - (this.startD[node] as number) + 1;
      });
      return BigInt(total);
    }
    let total = 0n;
    this.forEachNode((node) => {
      total += this.lastAt(node) - this.startAt(node) + 1n;
    });
    return total;
  }

  /** Calls `visit` with every interval's node in ascending order (no allocation per node). */
  forEachNode(visit: (node: number) => void): void {
    const stack: number[] = [];
    let node = this.root;
    while (node !== NIL || stack.length > 0) {
      while (node !== NIL) {
        stack.push(node);
        node = this.left[node] as number;
      }
      const top = stack.pop() as number;
      visit(top);
      node = this.right[top] as number;
    }
  }

  /** All intervals in ascending order. */
  *[Symbol.iterator](): IterableIterator<Interval<T>> {
    const stack: number[] = [];
    let node = this.root;
    while (node !== NIL || stack.length > 0) {
      while (node !== NIL) {
        stack.push(node);
        node = this.left[node] as number;
      }
      const top = stack.pop() as number;
      yield { start: this.startAt(top), last: this.lastAt(top), value: this.valueAt(top) };
      node = this.right[top] as number;
    }
  }

  toArray(): Interval<T>[] {
    return [...this];
  }
}

interface GapQuery {
  from: bigint;
  fromD: number;
  /** null: measure every gap in doubles (the number fast path, see firstGapFromD). */
  need: bigint | null;
  needD: number;
}
