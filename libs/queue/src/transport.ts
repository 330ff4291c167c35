/**
 * The transport port between capture and writers. A partition is an ordered
 * line of batches with one owner at a time; nothing here names a vendor.
 */

/** A batch as capture publishes it. */
export interface OutgoingBatch {
  readonly partition: number;
  /**
   * The last key of the batch sent before this one on the partition ('' for
   * none). With the partition and `lastKey` it names the batch: two batches
   * that agree on all three carry the same events, so a second publish while
   * the first copy waits enqueues it once — and a batch re-sent after a
   * rewind never collides with a stale copy from before it.
   */
  readonly previousKey: string;
  /** `encodeBatch` output from `@tributary/core`. */
  readonly body: Uint8Array;
  /**
   * The batch's last ordering key (for a heartbeat, capture's position).
   */
  readonly lastKey: string;
  /** Propagated context (W3C `traceparent`, `tracestate`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Publishes batches; per partition, in the order `publish` is called. */
export interface BatchPublisher {
  /** Resolves once the batch is durable in the queue. */
  publish(batch: OutgoingBatch): Promise<void>;
  /** Batches waiting across all partitions, for capture's high-water mark. */
  backlog(): Promise<number>;
  /**
   * Identifies what the queue holds. It changes when the queue lost its
   * contents (Redis restarted empty): capture then re-reads the change
   * stream from the checkpoints, so nothing the lost batches carried is lost.
   */
  queueEpoch(): Promise<string>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** A batch handed to the partition's owner. */
export interface DeliveredBatch {
  /** Transport id, for logs and dead-letter requeue. */
  readonly id: string;
  readonly partition: number;
  readonly body: Uint8Array;
  /** Failed attempts so far, across owners and crashes (0 on the first delivery). */
  readonly failedAttempts: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** One partition owned by this writer, read strictly in order. */
export interface PartitionReader {
  readonly partition: number;
  /** Grows every time the partition changes owner; stored with checkpoints to fence stale owners. */
  readonly fencingToken: number;
  /** Aborted when ownership is lost (lease not renewed, taken over, transport gone). */
  readonly lost: AbortSignal;

  /**
   * The next batch in order, or `undefined` when none arrives within
   * `waitMs`. A batch stays at the head of the line until it is acknowledged
   * or dead-lettered: after `fail`, or after this writer dies, the same batch
   * comes back first. Aborting `signal` ends the wait at once (with
   * `undefined`), so a writer that is stopping does not sit out `waitMs`.
   */
  next(waitMs: number, signal?: AbortSignal): Promise<DeliveredBatch | undefined>;
  /** Removes the batch: call only after its events are in the lake and checkpointed. */
  ack(batch: DeliveredBatch): Promise<void>;
  /** Records a failed attempt; the batch stays first in line. */
  fail(batch: DeliveredBatch, error: Error): Promise<void>;
  /** Moves the batch to the dead-letter set with `reason`; the partition goes on. */
  deadLetter(batch: DeliveredBatch, reason: string): Promise<void>;
  /** Gives the partition up so another writer can take it at once. Idempotent. */
  release(): Promise<void>;
}

/** What a writer is told about its share of partitions. */
export interface PartitionHandlers {
  gained(reader: PartitionReader): void;
  lost(partition: number): void;
}

/**
 * Spreads partitions over the live writers (each takes about K / writers)
 * and keeps ownership exclusive: a lease per partition, renewed while alive,
 * taken over by another writer once it expires.
 */
export interface PartitionClaims {
  start(handlers: PartitionHandlers): Promise<void>;
  /** Partitions owned now. */
  owned(): readonly number[];
  /** Releases every lease; idempotent. */
  stop(): Promise<void>;
}

/** A batch that could not be written, kept with why. */
export interface DeadLetter {
  readonly id: string;
  readonly partition: number;
  readonly body: Uint8Array;
  readonly reason: string;
  readonly failedAttempts: number;
  readonly deadLetteredAt: Date;
  readonly headers: Readonly<Record<string, string>>;
}

/** Inspection and requeue of dead letters, for operators. */
export interface DeadLetterStore {
  count(): Promise<number>;
  list(options?: { partition?: number; limit?: number }): Promise<DeadLetter[]>;
  /** Puts a dead letter back on its partition and removes it from the set. */
  requeue(id: string): Promise<void>;
}

/** Options of a writer's claims. */
export interface ClaimOptions {
  readonly writerId: string;
  readonly leaseTtlMs: number;
}

/** A configured transport: BullMQ on Redis, or Service Bus. */
export interface QueueTransport {
  readonly partitionCount: number;
  publisher(): BatchPublisher;
  claims(options: ClaimOptions): PartitionClaims;
  deadLetters(): DeadLetterStore;
  /** Closes everything this transport opened; idempotent. */
  close(): Promise<void>;
}
