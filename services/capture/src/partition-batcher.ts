import { type CapturedEvent, type ChangeBatch, type StreamPosition } from '@tributary/core';

/** How batches are cut. */
export interface BatchLimits {
  readonly batchMaxEvents: number;
  readonly batchMaxBytes: number;
  readonly batchMaxWaitMs: number;
  readonly heartbeatIntervalMs: number;
}

interface Pending {
  events: CapturedEvent[];
  bytes: number;
  startedAt: number;
}

/**
 * Cuts each partition's events into batches (by count, bytes and time) and
 * hands them to `publish` in order, each naming the batch before it. Idle
 * partitions get heartbeats that carry capture's position, so their
 * checkpoints — and so the resume point — keep moving.
 *
 * `publish` is awaited before the next batch of any partition is handed
 * over, which keeps each partition's batches in order on the queue.
 */
export class PartitionBatcher {
  readonly #limits: BatchLimits;
  readonly #publish: (batch: ChangeBatch) => Promise<void>;
  readonly #pending = new Map<number, Pending>();
  readonly #previousKey = new Map<number, string>();
  readonly #lastSentAt = new Map<number, number>();
  readonly #partitionCount: number;

  constructor(
    partitionCount: number,
    limits: BatchLimits,
    previousKeys: ReadonlyMap<number, string>,
    publish: (batch: ChangeBatch) => Promise<void>,
  ) {
    this.#partitionCount = partitionCount;
    this.#limits = limits;
    this.#publish = publish;
    for (const [p, key] of previousKeys) this.#previousKey.set(p, key);
  }

  /** Events held and not yet published, across partitions. */
  get pendingEvents(): number {
    let n = 0;
    for (const pending of this.#pending.values()) n += pending.events.length;
    return n;
  }

  /** Adds an event; publishes its partition's batch when full. */
  async add(partition: number, event: CapturedEvent, bytes: number, now: number): Promise<void> {
    let pending = this.#pending.get(partition);
    if (pending && pending.bytes + bytes > this.#limits.batchMaxBytes) {
      await this.#flush(partition, pending);
      pending = undefined;
    }
    if (!pending) {
      pending = { events: [], bytes: 0, startedAt: now };
      this.#pending.set(partition, pending);
    }
    pending.events.push(event);
    pending.bytes += bytes;
    if (pending.events.length >= this.#limits.batchMaxEvents) await this.#flush(partition, pending);
  }

  /** Publishes batches that have waited `batchMaxWaitMs`. */
  async flushDue(now: number): Promise<void> {
    for (const [partition, pending] of [...this.#pending]) {
      if (now - pending.startedAt >= this.#limits.batchMaxWaitMs)
        await this.#flush(partition, pending);
    }
  }

  /** Publishes everything held (graceful shutdown). */
  async flushAll(): Promise<void> {
    for (const [partition, pending] of [...this.#pending]) await this.#flush(partition, pending);
  }

  /**
   * Sends `position` to every partition that holds nothing unpublished and
   * has heard nothing for `heartbeatIntervalMs` — true for those partitions,
   * since all their events up to `position` are already on the queue.
   */
  async heartbeat(position: StreamPosition, now: number): Promise<number> {
    let sent = 0;
    for (let p = 0; p < this.#partitionCount; p += 1) {
      if (this.#pending.has(p)) continue;
      const previousKey = this.#previousKey.get(p) ?? '';
      if (previousKey >= position.key) continue;
      if (now - (this.#lastSentAt.get(p) ?? 0) < this.#limits.heartbeatIntervalMs) continue;
      await this.#send({ partition: p, events: [], position, previousKey }, now);
      sent += 1;
    }
    return sent;
  }

  async #flush(partition: number, pending: Pending): Promise<void> {
    this.#pending.delete(partition);
    const last = pending.events[pending.events.length - 1];
    if (!last) return;
    const batch: ChangeBatch = {
      partition,
      events: pending.events,
      position: { key: last.key, token: last.event._id },
      previousKey: this.#previousKey.get(partition) ?? '',
    };
    await this.#send(batch, pending.startedAt);
  }

  async #send(batch: ChangeBatch, now: number): Promise<void> {
    await this.#publish(batch);
    this.#previousKey.set(batch.partition, batch.position.key);
    this.#lastSentAt.set(batch.partition, now);
  }
}
