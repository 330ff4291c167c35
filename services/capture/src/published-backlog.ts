import type { OrderingKey } from '@tributary/core';

/** A published batch no checkpoint is known to cover. */
interface Outstanding {
  readonly key: OrderingKey;
  readonly publishedAt: number;
  /** The key of the batch's first event; none for a heartbeat or a probe. */
  readonly firstEventKey?: OrderingKey | undefined;
}

/**
 * Capture's own measure of the queue's backlog: the batches it published
 * that the partitions' checkpoints do not cover yet. It needs nothing from
 * the transport — no management rights to count a Service Bus queue — so it
 * works on every transport alike (see ARCHITECTURE.md, "Backpressure").
 *
 * Per partition it keeps the position key (and the time) of every batch
 * published and not yet known to be covered, in publish order. A partition's keys never go
 * down within a rewind generation (each batch stands at or after its
 * predecessor's key), and a rewind forgets the partition's list, so each
 * list is sorted and covering trims a prefix.
 *
 * What the record does not see, and why that is acceptable:
 * - After a restart it starts empty. Capture then re-publishes everything
 *   after each partition's checkpoint, so the count is rebuilt as it goes;
 *   the copies still queued from before the restart are not counted, but
 *   there are about a high-water mark of them at most (capture stopped there) and
 *   writers drop them as the checkpoints pass their keys.
 * - After a rewind of a partition the old generation's batches that did
 *   survive are not counted either, for the same reason: they are at or
 *   below what is being published anew, and writers drop them.
 *
 * Memory stays bounded: capture stops reading while the count is at the
 * high-water mark, so no list grows past it by more than a few batches.
 */
export class PublishedBacklog {
  /** Per partition: the published batches not known to be covered, ascending by key. */
  readonly #outstanding: Outstanding[][];
  #size = 0;

  /** @param partitionCount K, the number of partitions capture publishes to. */
  constructor(partitionCount: number) {
    this.#outstanding = Array.from({ length: partitionCount }, () => []);
  }

  /** Published batches that no checkpoint covers yet, across partitions. */
  get size(): number {
    return this.#size;
  }

  /**
   * When the partition's oldest batch that no checkpoint covers was
   * published (ms since the epoch), or undefined when it has none: how
   * long its writer has had work waiting.
   */
  outstandingSince(partition: number): number | undefined {
    return this.#list(partition)[0]?.publishedAt;
  }

  /**
   * The key of the oldest event published to the partition that no
   * checkpoint is known to cover (for the lag metric), or undefined.
   */
  oldestEventKey(partition: number): OrderingKey | undefined {
    return this.#list(partition).find((o) => o.firstEventKey !== undefined)?.firstEventKey;
  }

  /**
   * Records a batch put on the queue at `publishedAt`, standing at `key`
   * (its `position.key`), whose first event has `firstEventKey`. A
   * heartbeat counts like any batch: it holds a place in the queue until a
   * writer acknowledges it.
   */
  published(
    partition: number,
    key: OrderingKey,
    publishedAt: number,
    firstEventKey?: OrderingKey,
  ): void {
    this.#list(partition).push({ key, publishedAt, firstEventKey });
    this.#size += 1;
  }

  /**
   * Forgets every batch of the partition at or below `checkpointKey`, the
   * last key its writer stored (`''` for no checkpoint). At, not only
   * below: the checkpoint stands exactly at the last batch written, and a
   * heartbeat carries the same key as the batch before it when no event
   * came between (only its resume token is newer). Keys cannot tell whether
   * the writer has taken that heartbeat yet; counting it covered errs by
   * one batch per partition for a moment, where counting it outstanding
   * would keep it in the backlog until the partition's next event.
   */
  cover(partition: number, checkpointKey: OrderingKey): void {
    const list = this.#list(partition);
    let covered = 0;
    while (covered < list.length && (list[covered] as Outstanding).key <= checkpointKey)
      covered += 1;
    if (covered === 0) return;
    list.splice(0, covered);
    this.#size -= covered;
  }

  /**
   * Forgets everything outstanding in the partition: capture re-reads it
   * from its checkpoint in a new generation, publishing anew all the
   * checkpoint does not cover. The old generation's batches were lost from
   * the queue (or will be dropped by the writer), so counting them would
   * hold the backlog up forever.
   */
  rewound(partition: number): void {
    const list = this.#list(partition);
    this.#size -= list.length;
    list.length = 0;
  }

  #list(partition: number): Outstanding[] {
    const list = this.#outstanding[partition];
    if (!list)
      throw new RangeError(`partition ${partition} is outside 0…${this.#outstanding.length - 1}`);
    return list;
  }
}
