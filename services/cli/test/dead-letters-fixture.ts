import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BatchEntry,
  type CapturedEvent,
  type ChangeBatch,
  claimPath,
  encodeBatch,
  formatOrderingKey,
} from '@tributary/core';
import { type ServiceBusEmulator, startServiceBusEmulator } from '@tributary/emulator-servicebus';
import {
  type DeliveredBatch,
  type PartitionReader,
  type QueueTransport,
  createTransportFromConfig,
} from '@tributary/queue';
import { type PrivateRedis, startPrivateRedis } from '@tributary/testing';
import { Decimal128, Long, Timestamp } from 'bson';

/** Partitions of every test pipeline. */
export const PARTITIONS = 3;
const T0 = 1_780_000_000;

/** One change event of `db.coll` at clusterTime (T0 + second, i), BSON types included. */
export function insertEvent(second: number, i: number, db: string, coll: string): CapturedEvent {
  const key = formatOrderingKey({ t: T0 + second, i, n: 0 });
  return {
    key,
    capturedAt: new Date((T0 + second) * 1000),
    event: {
      _id: { _data: `82${key.replaceAll('-', '')}` },
      operationType: 'insert',
      ns: { db, coll },
      documentKey: { _id: `${coll}-${second}-${i}` },
      fullDocument: {
        _id: `${coll}-${second}-${i}`,
        total: Decimal128.fromString('12.50'),
        big: Long.fromString('9007199254740993'),
        at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      },
      clusterTime: new Timestamp({ t: T0 + second, i }),
    },
  };
}

/** A batch of `events` on `partition`, named (generation 1, `sequence`). */
export function batchOf(
  partition: number,
  sequence: number,
  events: readonly BatchEntry[],
): ChangeBatch {
  const last = events.at(-1);
  return {
    partition,
    generation: 1,
    sequence,
    events,
    position: { key: last?.key ?? formatOrderingKey({ t: T0, i: 0, n: 0 }), token: { _data: 'p' } },
    previousKey: formatOrderingKey({ t: T0 - 1, i: 1, n: 0 }),
  };
}

/** A claim-checked entry of `partition` at (T0 + second, i). */
export function claimedEntry(partition: number, second: number, i: number): BatchEntry {
  const key = formatOrderingKey({ t: T0 + second, i, n: 0 });
  return { key, capturedAt: new Date(), claim: claimPath(partition, key), bytes: 300_000 };
}

/** A dead letter the test made, and what it knows of it independently of any listing. */
export interface MadeDeadLetter {
  readonly id: string;
  readonly partition: number;
  readonly body: Uint8Array;
  readonly batch: ChangeBatch | undefined;
  readonly reason: string;
  readonly eventsInLake: readonly string[];
  readonly failedAttempts: number;
  /** Clock readings around the first failure the writer recorded. */
  readonly failedBetween: readonly [number, number];
}

/** What a dead letter is made from. */
export interface DeadLetterRecipe {
  readonly partition: number;
  /** A batch, or raw bytes (a poison body). */
  readonly content: ChangeBatch | Uint8Array;
  readonly reason: string;
  readonly eventsInLake?: readonly string[];
  /** Failed attempts the writer records before giving up. */
  readonly failures?: number;
}

/** A broker of one kind, shared by a file's tests; each pipeline gets a queue of its own. */
export interface Broker {
  readonly name: 'BullMQ' | 'Service Bus';
  /** The environment of a pipeline on queue `queueName`. */
  envFor(queueName: string): Record<string, string>;
  /** An environment pointing at a broker that does not answer. */
  readonly unreachableEnv: Record<string, string>;
  /** The variable the unreachable-broker message must name. */
  readonly setting: string;
  close(): Promise<void>;
}

/** BullMQ on a Redis of the file's own (real Redis, stopped with everything in it). */
export async function openBullmqBroker(): Promise<Broker> {
  const redis: PrivateRedis = await startPrivateRedis();
  return {
    name: 'BullMQ',
    envFor: (queueName) => ({
      ...BASE_ENV,
      TRIBUTARY_TRANSPORT: 'bullmq',
      REDIS_URL: redis.url,
      TRIBUTARY_QUEUE_NAME: queueName,
    }),
    // Port 1 refuses connections at once; nothing listens there.
    unreachableEnv: {
      ...BASE_ENV,
      TRIBUTARY_TRANSPORT: 'bullmq',
      REDIS_URL: 'redis://127.0.0.1:1',
    },
    setting: 'REDIS_URL',
    close: () => redis.stop(),
  };
}

export async function openServiceBusBroker(): Promise<Broker> {
  const emulator: ServiceBusEmulator = await startServiceBusEmulator({
    autoCreateQueues: {
      requiresSession: true,
      lockDurationMs: 5000,
      maxDeliveryCount: 10,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindowMs: 60_000,
      deadLetteringOnMessageExpiration: true,
    },
  });
  const env = {
    ...BASE_ENV,
    TRIBUTARY_TRANSPORT: 'servicebus',
    SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
  };
  return {
    name: 'Service Bus',
    envFor: (queueName) => ({ ...env, TRIBUTARY_QUEUE_NAME: queueName }),
    unreachableEnv: {
      ...env,
      SERVICEBUS_CONNECTION_STRING: emulator.connectionString.replace(
        /Endpoint=sb:\/\/[^;]+/,
        'Endpoint=sb://127.0.0.1:1',
      ),
    },
    setting: 'SERVICEBUS_CONNECTION_STRING',
    close: () => emulator.stop(),
  };
}

const BASE_ENV = {
  TRIBUTARY_PARTITION_COUNT: String(PARTITIONS),
  TRIBUTARY_LAKE: 'local',
  // Never opened: the dead-letter commands read the queue alone.
  TRIBUTARY_LAKE_DIR: join(tmpdir(), 'tributary-dead-letter-tests'),
};

/**
 * A pipeline's queue with a writer that owns every partition, as the
 * writer service does: dead letters are made through its readers, and
 * requeued batches read back through them.
 */
export class WriterSide {
  readonly env: Record<string, string>;
  readonly transport: QueueTransport;
  readonly #readers = new Map<number, PartitionReader>();
  #sequence = 0;

  private constructor(env: Record<string, string>, transport: QueueTransport) {
    this.env = env;
    this.transport = transport;
  }

  static async open(broker: Broker): Promise<WriterSide> {
    const env = broker.envFor(`dl-${randomUUID().slice(0, 8)}`);
    const transport = createTransportFromConfig({
      transport: env.TRIBUTARY_TRANSPORT as 'bullmq' | 'servicebus',
      redisUrl: env.REDIS_URL ?? '',
      serviceBusConnectionString: env.SERVICEBUS_CONNECTION_STRING,
      queueName: env.TRIBUTARY_QUEUE_NAME ?? '',
      partitionCount: PARTITIONS,
      leaseTtlMs: 5000,
    });
    const side = new WriterSide(env, transport);
    const gained = new Promise<void>((resolve, reject) => {
      void transport
        .claims({ writerId: 'test-writer' })
        .start({
          gained: (reader) => {
            side.#readers.set(reader.partition, reader);
            if (side.#readers.size === PARTITIONS) resolve();
          },
          lost: (partition) => side.#readers.delete(partition),
        })
        .catch(reject);
    });
    await gained;
    return side;
  }

  /** Publishes the recipe's batch, fails it `failures` times, then dead-letters it. */
  async deadLetter(recipe: DeadLetterRecipe): Promise<MadeDeadLetter> {
    this.#sequence += 1;
    const content = recipe.content;
    const body = content instanceof Uint8Array ? content : encodeBatch(content);
    await this.transport.publisher().publish({
      partition: recipe.partition,
      generation: 1,
      sequence: this.#sequence,
      body,
      headers: { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` },
    });
    const reader = this.reader(recipe.partition);
    let delivered = await this.#next(reader);
    const before = Date.now();
    let after = before;
    for (let attempt = 0; attempt < (recipe.failures ?? 0); attempt += 1) {
      await reader.fail(delivered, new Error('lake throttled'));
      if (attempt === 0) after = Date.now();
      delivered = await this.#next(reader);
    }
    const eventsInLake = recipe.eventsInLake ?? [];
    await reader.deadLetter(delivered, { reason: recipe.reason, eventsInLake });
    return {
      id: delivered.id,
      partition: recipe.partition,
      body,
      batch: content instanceof Uint8Array ? undefined : content,
      reason: recipe.reason,
      eventsInLake,
      failedAttempts: recipe.failures ?? 0,
      failedBetween: [before, recipe.failures ? after : Date.now()],
    };
  }

  reader(partition: number): PartitionReader {
    const reader = this.#readers.get(partition);
    if (!reader) throw new Error(`the test writer does not own partition ${partition}`);
    return reader;
  }

  /** The next batch of `partition`, acknowledged, or undefined when none comes within `waitMs`. */
  async take(partition: number, waitMs = 3000): Promise<DeliveredBatch | undefined> {
    const reader = this.reader(partition);
    const batch = await reader.next(waitMs);
    if (batch) await reader.ack(batch);
    return batch;
  }

  async #next(reader: PartitionReader): Promise<DeliveredBatch> {
    const delivered = await reader.next(5000);
    if (!delivered) throw new Error(`no batch on partition ${reader.partition}`);
    return delivered;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/** The dead letters most tests start from: one per partition, each a different case. */
export interface StandardDeadLetters {
  /** Partition 0: three shop.orders events, one already in the lake, failed twice. */
  readonly orders: MadeDeadLetter;
  /** Partition 1: shop.users, a claim-checked event and shop.orders, dead-lettered at once. */
  readonly mixed: MadeDeadLetter;
  /** Partition 2: a body that is not a batch. */
  readonly poison: MadeDeadLetter;
}

export const ORDERS_REASON =
  'the lake refused shop/orders/year=2026/month=01: InvalidResourceName (400) on path.create, which no retry changes\nThe path has a segment the storage account does not accept; rename it in TRIBUTARY_PATH_TEMPLATE.';
export const MIXED_REASON =
  'event 1780000020-0000000001-0000000000: document nesting exceeds 100 levels';
export const POISON_REASON =
  'Undecodable change batch: not BSON (buffer length 4 must be >= 5). It cannot be retried; send it to the dead-letter set.';

export async function makeStandardDeadLetters(side: WriterSide): Promise<StandardDeadLetters> {
  const orderEvents = [1, 2, 3].map((i) => insertEvent(10, i, 'shop', 'orders'));
  const orders = await side.deadLetter({
    partition: 0,
    content: batchOf(0, 1, orderEvents),
    reason: ORDERS_REASON,
    eventsInLake: [orderEvents[0]?.key ?? ''],
    failures: 2,
  });
  const mixed = await side.deadLetter({
    partition: 1,
    content: batchOf(1, 1, [
      insertEvent(20, 1, 'shop', 'users'),
      claimedEntry(1, 20, 2),
      insertEvent(20, 3, 'shop', 'orders'),
    ]),
    reason: MIXED_REASON,
  });
  const poison = await side.deadLetter({
    partition: 2,
    content: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
    reason: POISON_REASON,
  });
  return { orders, mixed, poison };
}
