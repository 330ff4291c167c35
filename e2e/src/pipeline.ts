import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { type AdlsEmulator, startAdlsEmulator } from '@tributary/emulator-adls';
import { type MongoEmulator, startMongoEmulator } from '@tributary/emulator-mongodb';
import {
  type QueueProperties,
  type ServiceBusEmulator,
  startServiceBusEmulator,
} from '@tributary/emulator-servicebus';
import { type DecodedLine, decodeLine, partitionOf } from '@tributary/core';
import {
  STATE_PREFIX,
  type Lake,
  type LakeInventory,
  type SourceComparison,
  compareWithSource,
  createLakeFromConfig,
  inventoryLake,
} from '@tributary/lake';
import { type QueueTransport, createTransportFromConfig } from '@tributary/queue';
import { redisUrl as defaultRedisUrl } from '@tributary/testing';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { BackgroundLoad } from './background-load.ts';
import { misplacedEvents } from './misplaced-events.ts';
import { ServiceProcess } from './service-process.ts';
import type { TransportName } from './transports.ts';

export const PATH_TEMPLATE = '{db}/{coll}/year={YYYY}/month={MM}/day={DD}/hour={HH}';

/** How a test pipeline is put together. */
export interface PipelineOptions {
  /** The durable queue between capture and writers; default BullMQ on Redis. */
  readonly transport?: TransportName;
  /**
   * Service Bus: properties of the pipeline's queue that differ from what
   * Tributary requires by default (see {@link serviceBusQueueProperties}).
   */
  readonly serviceBusQueue?: Partial<QueueProperties>;
  readonly lake?: 'adls' | 'local';
  readonly partitionCount?: number;
  readonly redisUrl?: string;
  /** Settings added to every service's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly oplogMaxEntries?: number;
  /** Keep MongoDB's data on disk, so {@link Pipeline.restartMongo} brings the same replica set back. */
  readonly persistentMongo?: boolean;
}

/** The lake checked against the source's oplog. */
export interface Verification {
  readonly inventory: LakeInventory;
  readonly comparison: SourceComparison & {
    /**
     * Events whose line is not in the directory the oplog's own namespace
     * and clusterTime give (independent of the ordering key the writer used).
     */
    readonly misplaced: readonly string[];
  };
}

/** How long the lake must stay unchanged before a complete lake is counted for duplicates. */
const QUIET_MS = 3_000;

/**
 * The session-enabled queue Tributary requires on Service Bus: a session per
 * partition, a lock as long as a writer's lease (so a dead writer's
 * partitions move as fast as on BullMQ), duplicate detection for re-sent
 * batches, and expired messages kept in the dead-letter subqueue rather
 * than deleted — the settings an operator gives the real queue.
 */
export function serviceBusQueueProperties(
  env: Readonly<Record<string, string>>,
  overrides: Partial<QueueProperties> = {},
): Partial<QueueProperties> {
  return {
    requiresSession: true,
    lockDurationMs: Number(env.TRIBUTARY_LEASE_TTL_MS),
    maxDeliveryCount: 10,
    requiresDuplicateDetection: true,
    duplicateDetectionHistoryTimeWindowMs: 10 * 60_000,
    deadLetteringOnMessageExpiration: true,
    ...overrides,
  };
}

/** The Service Bus emulator of a pipeline, and how to start it again. */
interface ServiceBusSetup {
  emulator: ServiceBusEmulator;
  readonly dataDir: string;
  readonly queues: Record<string, Partial<QueueProperties>>;
}

/**
 * A whole Tributary deployment for one test: the MongoDB emulator, the ADLS
 * emulator (or a local lake), the queue — real Redis for BullMQ, or the
 * Service Bus emulator, durable under the test's directory so it can be
 * restarted with its messages or empty — and capture and writers as real
 * processes configured only through their environment. The emulator's oplog
 * is the independent record the lake is checked against.
 */
export class Pipeline {
  mongo: MongoEmulator;
  adls: AdlsEmulator | undefined;
  /** The queue between capture and writers. */
  readonly transportName: TransportName;
  /** The queue's name: a BullMQ prefix, or the Service Bus queue. */
  readonly queueName: string;
  readonly client: MongoClient;
  readonly env: Record<string, string>;
  readonly processes: ServiceProcess[] = [];
  readonly #loads: BackgroundLoad[] = [];
  readonly #dirs: string[];
  readonly #redisUrl: string;
  readonly #root: string;
  readonly #mongoDir: string | undefined;
  readonly #serviceBus: ServiceBusSetup | undefined;
  #reader: Lake | undefined;
  #transport: QueueTransport | undefined;

  private constructor(init: {
    mongo: MongoEmulator;
    adls: AdlsEmulator | undefined;
    transportName: TransportName;
    serviceBus: ServiceBusSetup | undefined;
    client: MongoClient;
    env: Record<string, string>;
    dirs: string[];
    queueName: string;
    redisUrl: string;
    mongoDir: string | undefined;
  }) {
    this.mongo = init.mongo;
    this.#root = init.dirs[0] ?? '';
    this.#mongoDir = init.mongoDir;
    this.adls = init.adls;
    this.transportName = init.transportName;
    this.#serviceBus = init.serviceBus;
    this.client = init.client;
    this.env = init.env;
    this.#dirs = init.dirs;
    this.queueName = init.queueName;
    this.#redisUrl = init.redisUrl;
  }

  static async start(options: PipelineOptions = {}): Promise<Pipeline> {
    const root = await mkdtemp(join(tmpdir(), 'tributary-e2e-'));
    const mongoDir = options.persistentMongo ? join(root, 'mongo') : undefined;
    const mongo = await startMongoEmulator({
      ...(options.oplogMaxEntries === undefined
        ? {}
        : { oplogMaxEntries: options.oplogMaxEntries }),
      ...(mongoDir ? { dataDir: mongoDir } : {}),
    });
    const useAdls = (options.lake ?? 'adls') === 'adls';
    const adls = useAdls ? await startAdlsEmulator({ dataDir: join(root, 'adls') }) : undefined;
    const queueName = `e2e-${randomBytes(4).toString('hex')}`;
    const transportName = options.transport ?? 'bullmq';
    const redisUrl = options.redisUrl ?? defaultRedisUrl();
    const lakeEnv: Record<string, string> = adls
      ? {
          TRIBUTARY_LAKE: 'adls',
          ADLS_ACCOUNT_URL: adls.url,
          ADLS_ACCOUNT_KEY: adls.accountKey,
          ADLS_FILESYSTEM: 'lake',
        }
      : { TRIBUTARY_LAKE: 'local', TRIBUTARY_LAKE_DIR: join(root, 'lake') };
    const env: Record<string, string> = {
      MONGODB_URI: mongo.uri,
      TRIBUTARY_TRANSPORT: transportName,
      REDIS_URL: redisUrl,
      TRIBUTARY_QUEUE_NAME: queueName,
      TRIBUTARY_PARTITION_COUNT: String(options.partitionCount ?? 8),
      TRIBUTARY_PATH_TEMPLATE: PATH_TEMPLATE,
      TRIBUTARY_HEALTH_PORT: '0',
      TRIBUTARY_LOG_LEVEL: 'info',
      TRIBUTARY_BATCH_MAX_WAIT_MS: '50',
      TRIBUTARY_HEARTBEAT_INTERVAL_MS: '500',
      TRIBUTARY_LEASE_TTL_MS: '2000',
      TRIBUTARY_SHUTDOWN_TIMEOUT_MS: '20000',
      ...lakeEnv,
      ...options.env,
    };
    let serviceBus: ServiceBusSetup | undefined;
    if (transportName === 'servicebus') {
      const dataDir = join(root, 'servicebus');
      const queues = { [queueName]: serviceBusQueueProperties(env, options.serviceBusQueue) };
      const emulator = await startServiceBusEmulator({ dataDir, queues });
      serviceBus = { emulator, dataDir, queues };
      env.SERVICEBUS_CONNECTION_STRING = emulator.connectionString;
      // Nothing of a Service Bus pipeline uses Redis.
      delete env.REDIS_URL;
    }
    const client = new MongoClient(mongo.uri);
    await client.connect();
    return new Pipeline({
      mongo,
      adls,
      transportName,
      serviceBus,
      client,
      env,
      dirs: [root],
      queueName,
      redisUrl,
      mongoDir,
    });
  }

  /** The Service Bus emulator, for tests that inject its faults; throws on BullMQ. */
  requireServiceBus(): ServiceBusEmulator {
    if (!this.#serviceBus) throw new Error('this test needs the Service Bus transport');
    return this.#serviceBus.emulator;
  }

  /** Stops the Service Bus emulator: the queue down until {@link restartServiceBus}. */
  async stopServiceBus(): Promise<void> {
    await this.requireServiceBus().stop();
  }

  /**
   * Starts the Service Bus emulator again on its port, with the messages it
   * held — or, with `empty`, as a queue deleted and created again: same
   * name and properties, nothing in it (dead-letter subqueue included).
   * Stops it first if it is running.
   */
  async restartServiceBus(options: { empty?: boolean } = {}): Promise<void> {
    const setup = this.#serviceBus;
    if (!setup) throw new Error('this test needs the Service Bus transport');
    await setup.emulator.stop();
    if (options.empty) await rm(setup.dataDir, { recursive: true, force: true });
    setup.emulator = await startServiceBusEmulator({
      port: setup.emulator.port,
      dataDir: setup.dataDir,
      queues: setup.queues,
    });
  }

  /**
   * Batches the queue holds for the writers, seen from the broker itself
   * rather than through the adapter under test: BullMQ's waiting jobs
   * (`backlog`, the Redis adapter's own count), or the Service Bus queue's
   * active and locked messages as the emulator holds them.
   */
  async queuedBatches(): Promise<number> {
    if (this.#serviceBus) {
      const queue = this.#serviceBus.emulator.inspectQueue(this.queueName);
      if (!queue) throw new Error(`the Service Bus emulator has no queue ${this.queueName}`);
      return queue.counts.active + queue.counts.locked;
    }
    const publisher = this.transport().publisher();
    if (!publisher.backlog) throw new Error('the BullMQ publisher cannot count its backlog');
    return publisher.backlog();
  }

  /**
   * Messages the Service Bus service itself moved to the queue's dead-letter
   * subqueue (expired, or delivered too often), whoever put them there;
   * throws on BullMQ.
   */
  serviceBusDeadLetters(): number {
    const queue = this.requireServiceBus().inspectQueue(this.queueName);
    if (!queue) throw new Error(`the Service Bus emulator has no queue ${this.queueName}`);
    return queue.counts.deadLetter;
  }

  /**
   * The `deadLetterReason` of every message in the Service Bus queue's
   * dead-letter subqueue, peeked (left in place) with the official SDK: what
   * an operator's Service Bus Explorer would show. Throws on BullMQ.
   */
  async serviceBusDeadLetterReasons(): Promise<string[]> {
    const client = new ServiceBusClient(this.requireServiceBus().connectionString);
    try {
      const receiver = client.createReceiver(this.queueName, { subQueueType: 'deadLetter' });
      const reasons: string[] = [];
      // A fresh receiver: each peek goes on after the last message it peeked.
      for (;;) {
        const page = await receiver.peekMessages(100);
        if (page.length === 0) break;
        reasons.push(...page.map((message) => message.deadLetterReason ?? '(none)'));
      }
      return reasons;
    } finally {
      await client.close();
    }
  }

  /** Stops the MongoDB emulator: MongoDB down until {@link restartMongo}. */
  async stopMongo(): Promise<void> {
    await this.mongo.stop();
  }

  /** Starts MongoDB again on its port with its data (needs `persistentMongo`). */
  async restartMongo(): Promise<void> {
    if (!this.#mongoDir)
      throw new Error('start the pipeline with persistentMongo to restart MongoDB');
    this.mongo = await startMongoEmulator({ port: this.mongo.port, dataDir: this.#mongoDir });
  }

  /** Stops the ADLS emulator: the lake down until {@link restartAdls}. */
  async stopAdls(): Promise<void> {
    await this.adls?.stop();
  }

  /** Starts the ADLS emulator again on its port with its data. */
  async restartAdls(): Promise<void> {
    const port = this.adls?.port;
    if (port === undefined) throw new Error('this pipeline has no ADLS emulator');
    this.adls = await startAdlsEmulator({ port, dataDir: join(this.#root, 'adls') });
  }

  /** The ADLS emulator, for tests that inject its faults; throws on a local lake. */
  requireAdls(): AdlsEmulator {
    if (!this.adls) throw new Error('this test needs the ADLS emulator (lake: adls)');
    return this.adls;
  }

  /** The partition a collection's events go to (routing by namespace). */
  partitionOfCollection(db: string, coll: string): number {
    return partitionOf(
      { ns: { db, coll } },
      Number(this.env.TRIBUTARY_PARTITION_COUNT),
      'namespace',
    );
  }

  /**
   * Starts capture and waits until it has fixed its start point. On a first
   * start that point is "now", so events produced before it are, rightly,
   * not captured: tests produce their load after this resolves.
   */
  async startCapture(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const process = ServiceProcess.start('capture', 'capture', { ...this.env, ...env });
    this.processes.push(process);
    await process.waitForLog(/"msg":"capture starting"/);
    return process;
  }

  /** Starts a writer named `name`; a setting given as '' is left out (unset). */
  startWriter(name: string, env: Record<string, string> = {}): ServiceProcess {
    const merged: Record<string, string> = { ...this.env, TRIBUTARY_WRITER_ID: name, ...env };
    for (const [key, value] of Object.entries(merged)) if (value === '') delete merged[key];
    const process = ServiceProcess.start('writer', name, merged);
    this.processes.push(process);
    return process;
  }

  /** Starts a mixed load of `rounds` rounds in the background; {@link close} stops it. */
  startLoad(rounds: number): BackgroundLoad {
    const load = new BackgroundLoad(this.client, rounds);
    this.#loads.push(load);
    return load;
  }

  /** A lake client of its own, to read what the services wrote. */
  async lake(): Promise<Lake> {
    this.#reader ??= await createLakeFromConfig({
      lake: this.env.TRIBUTARY_LAKE === 'adls' ? 'adls' : 'local',
      lakeDir: this.env.TRIBUTARY_LAKE_DIR ?? '',
      adlsAccountUrl: this.env.ADLS_ACCOUNT_URL,
      adlsAccountKey: this.env.ADLS_ACCOUNT_KEY,
      adlsFilesystem: this.env.ADLS_FILESYSTEM,
    });
    return this.#reader;
  }

  /**
   * A transport of the test's own over the pipeline's queue (as an operator
   * tool would open it), closed with the pipeline.
   */
  transport(): QueueTransport {
    // The settings the services read from the same environment.
    this.#transport ??= createTransportFromConfig({
      transport: this.transportName,
      redisUrl: this.#redisUrl,
      queueName: this.queueName,
      partitionCount: Number(this.env.TRIBUTARY_PARTITION_COUNT),
      serviceBusConnectionString: this.env.SERVICEBUS_CONNECTION_STRING,
    });
    return this.#transport;
  }

  /** The resume tokens of every event the source recorded: the independent record. */
  sourceTokens(): string[] {
    return this.mongo.oplogEntries().map((record) => record.resumeToken._data);
  }

  /** Reads the lake back and compares it with the source. */
  async verify(): Promise<Verification> {
    const template = this.env.TRIBUTARY_PATH_TEMPLATE ?? PATH_TEMPLATE;
    const inventory = await inventoryLake(await this.lake(), template);
    const records = this.mongo.oplogEntries();
    const comparison = compareWithSource(
      inventory,
      records.map((record) => record.resumeToken._data),
    );
    const misplaced = misplacedEvents(inventory, records, template);
    return { inventory, comparison: { ...comparison, misplaced } };
  }

  /**
   * Waits until every source event is in the lake (or `timeoutMs` passes),
   * then until the lake has stayed unchanged for a few seconds — longer than
   * a lease takes to expire — so a duplicate written late by a redelivery
   * is counted too; then returns the verification. On timeout, the
   * services' last log lines are attached to the error.
   */
  async waitUntilComplete(timeoutMs = 60_000): Promise<Verification> {
    const started = Date.now();
    let complete: { result: Verification; at: number } | undefined;
    for (;;) {
      const result = await this.verify();
      const { comparison, inventory } = result;
      if (comparison.produced > 0 && comparison.missing.length === 0) {
        if (complete?.result.inventory.lines !== inventory.lines)
          complete = { result, at: Date.now() };
        else if (Date.now() - complete.at >= QUIET_MS) return result;
      } else complete = undefined;
      if (Date.now() - started > timeoutMs + (complete ? QUIET_MS * 3 : 0)) {
        const logs = this.processes
          .map((p) => `--- ${p.name} (running: ${p.running})\n${p.output().slice(-3000)}`)
          .join('\n');
        throw new Error(
          `lake incomplete or still changing after ${timeoutMs} ms: ${comparison.missing.length} of ${comparison.produced} events missing, ${comparison.duplicated.length} duplicated\n${logs}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stops every process (SIGKILL if still running), the emulators, and removes the queue's Redis keys and the files. */
  async close(): Promise<void> {
    await Promise.all(this.#loads.map((load) => load.stop()));
    await Promise.all(this.processes.map((p) => p.kill()));
    await this.#transport?.close();
    await this.#reader?.close();
    await this.client.close();
    await this.mongo.stop();
    await this.adls?.stop();
    await this.#serviceBus?.emulator.stop();
    if (!this.#serviceBus) await removeQueueKeys(this.#redisUrl, this.queueName);
    for (const dir of this.#dirs) await rm(dir, { recursive: true, force: true });
  }
}

/** Deletes every Redis key that names this test's queue, so the shared Redis stays clean. */
async function removeQueueKeys(url: string, queueName: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${queueName}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Every data line in the lake, decoded, keyed by resume token (`_data`). */
export async function linesByToken(lake: Lake): Promise<Map<string, DecodedLine>> {
  const lines = new Map<string, DecodedLine>();
  for await (const entry of lake.list('')) {
    if (entry.path.startsWith(STATE_PREFIX)) continue;
    const text = Buffer.from(await lake.read(entry.path)).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const decoded = decodeLine(line);
      lines.set(String((decoded._tributary.resumeToken as { _data: string })._data), decoded);
    }
  }
  return lines;
}
