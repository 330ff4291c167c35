/**
 * The transport port between capture and writers. A partition is an ordered
 * line of batches with one owner at a time; nothing here names a vendor.
 */

/**
 * Header of a batch an operator put back from the dead letters (ISO 8601
 * time of the requeue). Every adapter sets it on requeue, so a writer can
 * tell a replay from a stale copy.
 */
export const REQUEUED_AT_HEADER = 'tributary-requeued-at';

/** A batch as capture publishes it. */
export interface OutgoingBatch {
  readonly partition: number;
  /**
   * Capture's rewind generation of the partition: it grows every time
   * capture re-reads the partition from its checkpoint. With `sequence` it
   * names the batch, so a re-sent batch is never taken for a stale copy of
   * an earlier one.
   */
  readonly generation: number;
  /**
   * Position of the batch in its generation's line (0, 1, 2, …). Publishing
   * the same batch twice (after a publish whose answer was lost) gives the
   * same name, and a transport that can tell enqueues it once.
   */
  readonly sequence: number;
  /** `encodeBatch` output from `@tributary/core`. */
  readonly body: Uint8Array;
  /** Propagated context (W3C `traceparent`, `tracestate`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Publishes batches; per partition, in the order `publish` is called. */
export interface BatchPublisher {
  /**
   * The largest batch body this transport carries. Capture cuts batches to
   * fit it and sends a larger single event by claim check.
   */
  readonly maxBatchBytes: number;
  /**
   * Connects and learns the transport's limits: {@link maxBatchBytes} is
   * final once it resolves (Service Bus reports a queue's message size only
   * over a connection). Idempotent; fails with `UNAVAILABLE` while the
   * broker cannot be reached.
   */
  ready(): Promise<void>;
  /** Resolves once the batch is durable in the queue. */
  publish(batch: OutgoingBatch): Promise<void>;
  /**
   * Batches waiting across all partitions, where the broker can count them
   * for this client (Service Bus needs `Manage` rights, which Tributary's
   * services never ask for). Operators' tools and tests only: capture's
   * backpressure counts what it published minus what the checkpoints cover.
   */
  backlog?(): Promise<number>;
  /**
   * An identity of what the queue holds that changes when the transport
   * lost all of it at once (Redis restarting empty), if the transport can
   * tell. A fast path only: capture then re-reads every partition at once,
   * but lost batches heal without it, through the writers' gap reports.
   */
  contentsEpoch?(): Promise<string>;
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
  /**
   * For a dead letter put back by an operator ({@link REQUEUED_AT_HEADER}):
   * what its dead letter recorded as in the lake, so a replay writes only
   * the others and a second dead letter records the same.
   */
  readonly eventsInLake?: readonly string[];
}

/**
 * Room a reader must hold before it takes a batch into memory; see
 * {@link FetchOptions.reserve}. `release` is idempotent.
 */
export interface FetchRoom {
  release(): void;
}

/** Options of {@link PartitionReader.next}. */
export interface FetchOptions {
  /** Ends the wait at once (with `undefined`). */
  readonly signal?: AbortSignal;
  /**
   * Called before each attempt to take a batch from the broker; resolves
   * once the writer has room for one more batch in memory. The reader
   * releases the room itself when the attempt brings nothing; with a batch,
   * the room passes to the caller, who releases it when done with the batch.
   * Without it, `next` takes batches whenever they come.
   */
  readonly reserve?: () => Promise<FetchRoom>;
}

/** What a writer records about a batch it moves to the dead letters. */
export interface DeadLetterNote {
  /** Why, in words an operator can act on. */
  readonly reason: string;
  /**
   * The ordering keys of the batch's events that did reach the lake (some
   * were written before the failure, or the failure was one event's).
   * Replay writes only the others.
   */
  readonly eventsInLake: readonly string[];
}

/** One partition owned by this writer, read strictly in order. */
export interface PartitionReader {
  readonly partition: number;
  /**
   * Aborted when ownership is gone (another writer may hold the partition
   * now, or the transport failed for good): stop at once, write nothing more.
   */
  readonly lost: AbortSignal;
  /**
   * Aborted when the partition should move to another writer (rebalancing,
   * or the transport can no longer vouch for the ownership for long): take
   * no new batch, finish or give back the batch in hand, then call
   * {@link release}. Ownership still holds until then — or until `lost`,
   * should the writer take too long.
   */
  readonly revoked: AbortSignal;

  /**
   * The next batch in order, or `undefined` when none arrives within
   * `waitMs`. A batch stays at the head of the line until it is acknowledged
   * or dead-lettered: after `fail`, or after this writer dies, the same batch
   * comes back first.
   */
  next(waitMs: number, options?: FetchOptions): Promise<DeliveredBatch | undefined>;
  /** Removes the batch: call only after its events are in the lake and checkpointed. */
  ack(batch: DeliveredBatch): Promise<void>;
  /** Records a failed attempt; the batch stays first in line. */
  fail(batch: DeliveredBatch, error: Error): Promise<void>;
  /** Moves the batch to the dead letters with `note`; the partition goes on. */
  deadLetter(batch: DeliveredBatch, note: DeadLetterNote): Promise<void>;
  /**
   * Gives the partition up so another writer can take it at once; a batch
   * still in hand goes back to the front of the line. Idempotent.
   */
  release(): Promise<void>;
}

/** What a writer is told about its share of partitions. */
export interface PartitionHandlers {
  gained(reader: PartitionReader): void;
  /** Ownership ended without the writer asking (lease lost, transport gone). */
  lost(partition: number): void;
}

/**
 * Spreads partitions over the live writers (each takes about K / writers)
 * and keeps ownership exclusive, moving a partition only after its owner
 * gave it back (or died).
 */
export interface PartitionClaims {
  start(handlers: PartitionHandlers): Promise<void>;
  /** Partitions owned now. */
  owned(): readonly number[];
  /** Releases every partition (batches in hand go back first); idempotent. */
  stop(): Promise<void>;
}

/** A batch that could not be written, kept with why. */
export interface DeadLetter {
  readonly id: string;
  readonly partition: number;
  readonly body: Uint8Array;
  readonly reason: string;
  /** Keys of the batch's events that reached the lake (see {@link DeadLetterNote}). */
  readonly eventsInLake: readonly string[];
  readonly failedAttempts: number;
  /**
   * When the batch first failed: the first failed attempt a writer recorded,
   * or the dead-lettering itself when that was its first failure. Absent
   * where nothing recorded it (a dead letter the broker made on its own, or
   * one written by an older release).
   */
  readonly firstFailedAt?: Date;
  readonly deadLetteredAt: Date;
  readonly headers: Readonly<Record<string, string>>;
}

/** Which dead letters {@link DeadLetterStore.list} returns. */
export interface DeadLetterFilter {
  /** Only this partition's. */
  readonly partition?: number;
  /** Only those dead-lettered at or after this instant. */
  readonly since?: Date;
  /** At most this many (the adapter's default when absent). */
  readonly limit?: number;
}

/** Inspection, requeue and removal of dead letters, for operators. */
export interface DeadLetterStore {
  count(): Promise<number>;
  /** Oldest first. */
  list(options?: DeadLetterFilter): Promise<DeadLetter[]>;
  /** One dead letter, or `undefined` when none has this id. */
  get(id: string): Promise<DeadLetter | undefined>;
  /**
   * Puts a dead letter back on its partition, with {@link REQUEUED_AT_HEADER},
   * and removes it from the dead letters.
   *
   * @throws QueueError `NOT_FOUND` when no dead letter has this id.
   */
  requeue(id: string): Promise<void>;
  /**
   * Removes one dead letter for good; its events are then nowhere but in
   * the source's history. Nothing else is touched.
   *
   * @throws QueueError `NOT_FOUND` when no dead letter has this id.
   */
  purge(id: string): Promise<void>;
}

/** Options of a writer's claims. */
export interface ClaimOptions {
  /** This writer's name in ownership records and logs. */
  readonly writerId: string;
}

/**
 * How telemetry names a transport, in the words of OpenTelemetry's
 * messaging conventions.
 *
 * @see https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/
 */
export interface MessagingNames {
  /** `messaging.system`. */
  readonly system: string;
  /** `messaging.destination.name` of the partition's batches. */
  destinationOf(partition: number): string;
}

/** The writer holding a partition, as the transport records it. */
export interface PartitionHolder {
  /** The writer's {@link ClaimOptions.writerId}. */
  readonly writerId: string;
  /**
   * When the hold runs out unless the writer renews it, by this process's
   * clock, where the transport can tell.
   */
  readonly until?: Date;
}

/** A configured transport: BullMQ on Redis, or Service Bus. */
export interface QueueTransport {
  readonly partitionCount: number;
  readonly messaging: MessagingNames;
  publisher(): BatchPublisher;
  claims(options: ClaimOptions): PartitionClaims;
  deadLetters(): DeadLetterStore;
  /**
   * Who holds each partition now, for operators (partitions nobody holds
   * are absent). Read-only: it takes nothing and renews nothing, and it may
   * be a renewal interval behind a hand-over. Ownership itself is decided
   * by the claims alone.
   *
   * @throws QueueError `UNAVAILABLE` when the broker cannot be reached.
   */
  owners(): Promise<Map<number, PartitionHolder>>;
  /** Closes everything this transport opened; idempotent. */
  close(): Promise<void>;
}
