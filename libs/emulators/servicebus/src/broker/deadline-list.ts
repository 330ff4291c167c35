/**
 * Items ordered by deadline, with one timer for the earliest. Locks of one
 * queue all last the same time, so a new or renewed lock almost always
 * belongs at the tail: insertion is O(1) in that case and removal (a
 * completed message) always is, which matters at thousands of locks a
 * second. Items that carry other deadlines are placed by walking back from
 * the tail.
 */
export interface DeadlineEntry {
  /** When the item is due (ms since 1970). */
  dueAtMs: number;
  /** @internal list links */
  prev: DeadlineEntry | undefined;
  /** @internal */
  next: DeadlineEntry | undefined;
  /** @internal which list holds the entry, if any */
  list: DeadlineList<DeadlineEntry> | undefined;
}

/** A fresh, unlisted entry. */
export function deadlineEntry(): DeadlineEntry {
  return { dueAtMs: 0, prev: undefined, next: undefined, list: undefined };
}

export class DeadlineList<T extends DeadlineEntry> {
  private head: T | undefined;
  private tail: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private size = 0;
  private readonly onDue: (item: T) => void;
  private closed = false;

  /** `onDue` runs for each item whose deadline has passed, after it left the list. */
  constructor(onDue: (item: T) => void) {
    this.onDue = onDue;
  }

  /** Items in the list. */
  get length(): number {
    return this.size;
  }

  /** Puts `item` in the list due at `dueAtMs` (moving it if it was already listed). */
  schedule(item: T, dueAtMs: number): void {
    if (item.list) this.remove(item);
    item.dueAtMs = dueAtMs;
    let after = this.tail;
    while (after && after.dueAtMs > dueAtMs) after = after.prev as T | undefined;
    item.prev = after;
    item.next = after ? after.next : this.head;
    if (item.next) item.next.prev = item;
    else this.tail = item;
    if (after) after.next = item;
    else this.head = item;
    item.list = this as unknown as DeadlineList<DeadlineEntry>;
    this.size++;
    this.arm();
  }

  /** Takes `item` out of the list (no-op when it is not in this list). */
  remove(item: T): void {
    if (item.list !== (this as unknown as DeadlineList<DeadlineEntry>)) return;
    if (item.prev) item.prev.next = item.next;
    else this.head = item.next as T | undefined;
    if (item.next) item.next.prev = item.prev;
    else this.tail = item.prev as T | undefined;
    item.prev = undefined;
    item.next = undefined;
    item.list = undefined;
    this.size--;
  }

  /** Every listed item, earliest first (a copy: safe to change the list while iterating). */
  items(): T[] {
    const out: T[] = [];
    for (let at = this.head; at; at = at.next as T | undefined) out.push(at);
    return out;
  }

  /** Runs `onDue` for every item due at or before `nowMs`. */
  fire(nowMs = Date.now()): void {
    while (this.head && this.head.dueAtMs <= nowMs) {
      const item = this.head;
      this.remove(item);
      this.onDue(item);
    }
    this.arm();
  }

  /** Stops the timer for good; the list stays as it is. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.closed) return;
    const next = this.head?.dueAtMs ?? Infinity;
    if (next === this.armedFor) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = next;
    if (next === Infinity) return;
    const delay = Math.min(Math.max(0, next - Date.now()), 2_147_483_647);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Infinity;
      this.fire();
    }, delay);
    this.timer.unref();
  }
}
