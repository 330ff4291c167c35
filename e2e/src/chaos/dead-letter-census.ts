import type { ChaosQueue } from './queues/chaos-queue.ts';

/** One batch found among the broker's dead letters. */
export interface DeadLetterSighting {
  /** Which broker lifetime it was seen in: a restart empties the dead letters, and ids may repeat after it. */
  readonly lifetime: number;
  readonly partition: number;
  readonly id: string;
  readonly reason: string;
  /** What the harness had just done when it first saw it (e.g. `round 17`). */
  readonly firstSeen: string;
}

/**
 * Counts dead letters across the whole run. They live in the broker (each
 * BullMQ partition queue's failed set; the Service Bus dead-letter
 * subqueue), which a restart empty wipes, so the census samples before
 * every restart, after every round and at the end, and keeps every batch it
 * ever saw. The chaos load has no poison input, so every dead letter it
 * finds is a false one — except the broker's own record of a batch a fault
 * made it lose (Service Bus dead-letters an expired message), which the
 * pipeline heals around and which is not counted.
 */
export class DeadLetterCensus {
  readonly #queue: ChaosQueue;
  readonly #seen = new Map<string, DeadLetterSighting>();
  #lifetime = 0;

  constructor(queue: ChaosQueue) {
    this.#queue = queue;
  }

  /** Every false dead letter seen so far. */
  get all(): readonly DeadLetterSighting[] {
    return [...this.#seen.values()];
  }

  /** Call right after the broker restarted empty: what follows is a new lifetime. */
  brokerRestarted(): void {
    this.#lifetime += 1;
  }

  /** Reads the broker's dead letters; returns the false ones not seen before. */
  async sample(label: string): Promise<DeadLetterSighting[]> {
    const fresh: DeadLetterSighting[] = [];
    for (const record of await this.#queue.deadLetters()) {
      if (this.#queue.isLostByFault(record)) continue;
      const key = `${this.#lifetime}/${record.partition}/${record.id}`;
      if (this.#seen.has(key)) continue;
      const sighting = { ...record, lifetime: this.#lifetime, firstSeen: label };
      this.#seen.set(key, sighting);
      fresh.push(sighting);
    }
    return fresh;
  }
}
