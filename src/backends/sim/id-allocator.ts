// Object IDs of one iommufd context (main.c:_iommufd_object_alloc over an XA_FLAGS_ALLOC1
// xarray with xa_limit_31b): always the lowest free ID in [1, 0x7fffffff], never 0, shared by
// every object type. Freed IDs are reused lowest-first.
//
// Free IDs are `freed` (a min-heap of released IDs below `next`) plus every ID >= `next`, so
// allocation and release are O(log n).

export const MIN_OBJECT_ID = 1;
export const MAX_OBJECT_ID = 0x7fffffff;

export class IdAllocator {
  private next = MIN_OBJECT_ID;
  private readonly freed: number[] = [];
  private readonly used = new Set<number>();

  /** Rebuilds the allocator for exactly this set of live IDs. */
  static withUsed(ids: Iterable<number>): IdAllocator {
    const allocator = new IdAllocator();
    for (const id of ids) allocator.used.add(id);
    let max = 0;
    for (const id of allocator.used) if (id > max) max = id;
    allocator.next = max + 1;
    for (let id = MIN_OBJECT_ID; id < allocator.next; id++) {
      if (!allocator.used.has(id)) allocator.push(id);
    }
    return allocator;
  }

  has(id: number): boolean {
    return this.used.has(id);
  }

  get count(): number {
    return this.used.size;
  }

  /** The lowest free ID, or null when all 2^31-1 IDs are taken (the kernel's EBUSY). */
  allocate(): number | null {
    let id: number;
    if (this.freed.length > 0) {
      id = this.pop();
    } else {
      if (this.next > MAX_OBJECT_ID) return null;
      id = this.next++;
    }
    this.used.add(id);
    return id;
  }

  release(id: number): void {
    if (!this.used.delete(id)) return;
    this.push(id);
  }

  private push(id: number): void {
    const heap = this.freed;
    heap.push(id);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as number) <= id) break;
      heap[i] = heap[parent] as number;
      i = parent;
    }
    heap[i] = id;
  }

  private pop(): number {
    const heap = this.freed;
    const top = heap[0] as number;
    const lastItem = heap.pop() as number;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        let smallestValue = lastItem;
        if (l < heap.length && (heap[l] as number) < smallestValue) {
          smallest = l;
          smallestValue = heap[l] as number;
        }
        if (r < heap.length && (heap[r] as number) < smallestValue) {
          smallest = r;
          smallestValue = heap[r] as number;
        }
        if (smallest === i) break;
        heap[i] = smallestValue;
        i = smallest;
      }
      heap[i] = lastItem;
    }
    return top;
  }
}
