/**
 * A binary min-heap. Entries removed out of order are left in place and
 * skipped when they reach the top (`isLive`); once they outnumber the live
 * ones the heap is rebuilt, so memory stays proportional to what is live.
 */
export class MinHeap<T> {
  private items: T[] = [];
  private stale = 0;
  private readonly before: (a: T, b: T) => boolean;
  private readonly isLive: (item: T) => boolean;

  constructor(before: (a: T, b: T) => boolean, isLive: (item: T) => boolean) {
    this.before = before;
    this.isLive = isLive;
  }

  /** Entries held, stale ones included. */
  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  /** The first live entry, without removing it. */
  peek(): T | undefined {
    this.dropStaleTop();
    return this.items[0];
  }

  /** Removes and returns the first live entry. */
  pop(): T | undefined {
    this.dropStaleTop();
    return this.takeTop();
  }

  /**
   * Notes that one entry went stale (was removed elsewhere); rebuilds the
   * heap when stale entries are more than half of it.
   */
  noteStale(): void {
    this.stale++;
    if (this.stale > 64 && this.stale * 2 > this.items.length) this.rebuild();
  }

  private dropStaleTop(): void {
    while (this.items.length > 0 && !this.isLive(this.items[0]!)) {
      this.takeTop();
      if (this.stale > 0) this.stale--;
    }
  }

  private takeTop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.before(items[left]!, items[smallest]!)) smallest = left;
        if (right < items.length && this.before(items[right]!, items[smallest]!)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }

  private rebuild(): void {
    const live = this.items.filter(this.isLive);
    this.items = [];
    this.stale = 0;
    for (const item of live) this.push(item);
  }
}
