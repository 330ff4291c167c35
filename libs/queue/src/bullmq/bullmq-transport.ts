import type { Redis } from 'ioredis';
import type {
  BatchPublisher,
  ClaimOptions,
  DeadLetterStore,
  PartitionClaims,
  PartitionHolder,
  MessagingNames,
  QueueTransport,
} from '../transport.ts';
import {
  resolveBullmqOptions,
  type BullmqTransportOptions,
  type ResolvedBullmqOptions,
} from './bullmq-options.ts';
import { BullmqDeadLetters } from './bullmq-dead-letters.ts';
import { BullmqPartitionClaims } from './bullmq-partition-claims.ts';
import { BullmqPublisher } from './bullmq-publisher.ts';
import { LeaseStore } from './lease-store.ts';
import { PartitionLayout } from './partition-layout.ts';
import { PartitionQueues } from './partition-queues.ts';
import { readQueueEpoch } from './queue-epoch.ts';
import { closeRedisClient, createRedisClient } from './redis-client.ts';
import { translated } from './translate-error.ts';

/**
 * The transport on BullMQ (Redis): partition `n` is the queue
 * `${queueName}-p${n}` under the BullMQ prefix (default `tributary`), read by
 * the one writer holding its Redis lease. Opens one shared Redis connection
 * at once, plus one per partition a writer owns (BullMQ's worker connection).
 */
export function createBullmqTransport(options: BullmqTransportOptions): QueueTransport {
  return new BullmqTransport(resolveBullmqOptions(options));
}

class BullmqTransport implements QueueTransport {
  readonly partitionCount: number;
  readonly messaging: MessagingNames;
  readonly #options: ResolvedBullmqOptions;
  readonly #redis: Redis;
  readonly #layout: PartitionLayout;
  readonly #queues: PartitionQueues;
  readonly #leases: LeaseStore;
  readonly #publishers = new Set<BullmqPublisher>();
  readonly #claims = new Set<BullmqPartitionClaims>();
  #deadLetters: BullmqDeadLetters | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedBullmqOptions) {
    this.#options = options;
    this.partitionCount = options.partitionCount;
    this.#redis = createRedisClient(options);
    this.#layout = new PartitionLayout(options);
    const layout = this.#layout;
    this.messaging = { system: 'bullmq', destinationOf: (p) => layout.queueOf(p) };
    this.#queues = new PartitionQueues(this.#redis, this.#layout, options);
    this.#leases = new LeaseStore(this.#redis, this.#layout);
  }

  publisher(): BatchPublisher {
    this.#assertOpen();
    const publisher = new BullmqPublisher(this.#queues, this.#options, () =>
      readQueueEpoch(this.#redis, this.#layout.epochKey()),
    );
    this.#publishers.add(publisher);
    return publisher;
  }

  claims(options: ClaimOptions): PartitionClaims {
    this.#assertOpen();
    const claims = new BullmqPartitionClaims(
      { redis: this.#redis, layout: this.#layout, leases: this.#leases, options: this.#options },
      options,
    );
    this.#claims.add(claims);
    return claims;
  }

  deadLetters(): DeadLetterStore {
    this.#assertOpen();
    this.#deadLetters ??= new BullmqDeadLetters(this.#queues, this.#redis);
    return this.#deadLetters;
  }

  /** The holders of the partitions' Redis leases. */
  owners(): Promise<Map<number, PartitionHolder>> {
    this.#assertOpen();
    return translated('reading the partition leases', () =>
      this.#leases.holders(this.#layout.partitions()),
    );
  }

  /**
   * Stops every claims object (releasing its leases), waits for publishes in
   * flight, then closes queues, workers and the connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.all([...this.#claims].map((claims) => claims.stop()));
    await Promise.all([...this.#publishers].map((publisher) => publisher.close()));
    await this.#queues.close();
    await closeRedisClient(this.#redis);
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error('This transport is closed.');
  }
}
