import { MinHeap } from './min-heap.ts';
import type { StoredMessage } from './stored-message.ts';

interface Slot {
  message: StoredMessage;
  epoch: number;
}

/**
 * Messages ready for delivery, lowest sequence number first: an abandoned or
 * unlocked message goes back to its place rather than to the end, which keeps
 * a session FIFO and matches the service's redelivery order.
 */
export class AvailableQueue {
  private readonly heap = new MinHeap<Slot>(
    (a, b) => a.message.sequenceNumber < b.message.sequenceNumber,
    (slot) => slot.message.availableEpoch === slot.epoch && !slot.message.removed,
  );
  private count = 0;

  /** Messages ready now. */
  get length(): number {
    return this.count;
  }

  /** Makes `message` available (idempotent: a message is in the queue at most once). */
  add(message: StoredMessage): void {
    if (message.availableEpoch > 0 && this.isHere(message)) return;
    message.availableEpoch = nextEpoch();
    this.heap.push({ message, epoch: message.availableEpoch });
    this.count++;
    this.here.add(message);
  }

  /** Takes `message` out (it was locked, deleted or expired by another path). */
  delete(message: StoredMessage): void {
    if (!this.here.delete(message)) return;
    message.availableEpoch = 0;
    this.count--;
    this.heap.noteStale();
  }

  /** The lowest-numbered available message, without taking it. */
  peek(): StoredMessage | undefined {
    return this.heap.peek()?.message;
  }

  /** Takes the lowest-numbered available message. */
  take(): StoredMessage | undefined {
    const slot = this.heap.pop();
    if (!slot) return undefined;
    this.here.delete(slot.message);
    slot.message.availableEpoch = 0;
    this.count--;
    return slot.message;
  }

  /** True when `message` is in this queue. */
  has(message: StoredMessage): boolean {
    return this.isHere(message);
  }

  private readonly here = new Set<StoredMessage>();

  private isHere(message: StoredMessage): boolean {
    return this.here.has(message);
  }
}

let epochCounter = 0;
function nextEpoch(): number {
  return ++epochCounter;
}
