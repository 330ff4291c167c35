import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CheckpointStore,
  type PartitionCheckpoint,
  createLakeCheckpointStore,
} from '@tributary/checkpoint';
import { type AdlsEmulator, startAdlsEmulator } from '@tributary/emulator-adls';
import { type MongoEmulator, startMongoEmulator } from '@tributary/emulator-mongodb';
import { type Lake, createLakeFromConfig } from '@tributary/lake';
import { MongoClient } from 'mongodb';
import { PATH_TEMPLATE } from '../pipeline.ts';
import { type Exit, ServiceProcess } from '../service-process.ts';
import { BullmqChaosQueue } from './queues/bullmq-chaos-queue.ts';
import type { ChaosQueue, ChaosTransport } from './queues/chaos-queue.ts';
import { ServiceBusChaosQueue } from './queues/servicebus-chaos-queue.ts';
import { Teardown } from './teardown.ts';

/** How the deployment under chaos is put together. */
export interface DeploymentOptions {
  /** Writer processes, named w1 … wN. */
  readonly writers: number;
  readonly partitionCount: number;
  /** The run's own directory: the ADLS emulator's data and every process's log. */
  readonly dataDir: string;
  /** Makes the ADLS emulator's random faults (503s) repeatable. */
  readonly seed: number;
  /** The durable queue between capture and the writers (default BullMQ). */
  readonly transport?: ChaosTransport;
}

/** The name of the capture process (writers are `w1` … `wN`). */
export const CAPTURE = 'capture';

/** The writers' lease, and the Service Bus queue's lock duration. */
const LEASE_TTL_MS = 2000;

/** How long a restarted capture may take to fix its start point. */
const CAPTURE_START_TIMEOUT_MS = 60_000;

/**
 * Everything the chaos harness runs: the MongoDB and ADLS emulators in this
 * process, the queue — a private redis-server, or the Service Bus emulator
 * in this process — which it can empty, and capture and the
 * writers as real processes, configured only through their environment as
 * the e2e pipeline configures them (8 partitions, 2 s leases, 500 ms
 * heartbeats). Processes the harness killed on purpose are told apart from
 * ones that ended on their own, which are restarted as a supervisor would
 * and reported.
 */
export class ChaosDeployment {
  readonly mongo: MongoEmulator;
  readonly adls: AdlsEmulator;
  readonly queue: ChaosQueue;
  readonly client: MongoClient;
  readonly env: Readonly<Record<string, string>>;
  readonly queueName: string;
  readonly partitionCount: number;
  readonly writerNames: readonly string[];
  readonly #lake: Lake;
  readonly #checkpoints: CheckpointStore;
  readonly #logDir: string;
  readonly #teardown: Teardown;
  readonly #running = new Map<string, ServiceProcess>();
  readonly #killedOnPurpose = new Set<ServiceProcess>();
  readonly #incarnations = new Map<string, number>();

  private constructor(init: {
    mongo: MongoEmulator;
    adls: AdlsEmulator;
    queue: ChaosQueue;
    client: MongoClient;
    env: Record<string, string>;
    queueName: string;
    options: DeploymentOptions;
    lake: Lake;
    checkpoints: CheckpointStore;
    teardown: Teardown;
  }) {
    this.mongo = init.mongo;
    this.adls = init.adls;
    this.queue = init.queue;
    this.client = init.client;
    this.env = init.env;
    this.queueName = init.queueName;
    this.partitionCount = init.options.partitionCount;
    this.writerNames = Array.from({ length: init.options.writers }, (_, i) => `w${i + 1}`);
    this.#lake = init.lake;
    this.#checkpoints = init.checkpoints;
    this.#logDir = join(init.options.dataDir, 'logs');
    this.#teardown = init.teardown;
  }

  /** Starts the emulators and the queue (no services yet); on failure closes what it opened. */
  static async start(options: DeploymentOptions): Promise<ChaosDeployment> {
    const teardown = new Teardown();
    try {
      await mkdir(join(options.dataDir, 'logs'), { recursive: true });
      const mongo = teardown.add('the MongoDB emulator', await startMongoEmulator(), (m) =>
        m.stop(),
      );
      const adls = teardown.add(
        'the ADLS emulator',
        await startAdlsEmulator({ dataDir: join(options.dataDir, 'adls') }),
        (a) => a.stop(),
      );
      adls.faults.seed(options.seed);
      const queueName = `chaos-${randomBytes(4).toString('hex')}`;
      const queue = teardown.add(
        `the ${options.transport ?? 'bullmq'} queue`,
        options.transport === 'servicebus'
          ? await ServiceBusChaosQueue.start(queueName, options.partitionCount, LEASE_TTL_MS)
          : await BullmqChaosQueue.start(queueName, options.partitionCount),
        (q) => q.close(),
      );
      const client = new MongoClient(mongo.uri);
      teardown.add('the load client', client, (c) => c.close());
      await client.connect();
      const env = {
        MONGODB_URI: mongo.uri,
        ...queue.env,
        TRIBUTARY_QUEUE_NAME: queueName,
        TRIBUTARY_PARTITION_COUNT: String(options.partitionCount),
        TRIBUTARY_PATH_TEMPLATE: PATH_TEMPLATE,
        TRIBUTARY_HEALTH_PORT: '0',
        TRIBUTARY_LOG_LEVEL: 'info',
        TRIBUTARY_BATCH_MAX_WAIT_MS: '50',
        TRIBUTARY_HEARTBEAT_INTERVAL_MS: '500',
        TRIBUTARY_LEASE_TTL_MS: String(LEASE_TTL_MS),
        // Small files: they roll every minute or so under the load, so rolling
        // is under fire too, and checking a partition's newest file stays cheap.
        TRIBUTARY_MAX_FILE_BYTES: String(1024 * 1024),
        TRIBUTARY_SHUTDOWN_TIMEOUT_MS: '20000',
        TRIBUTARY_LAKE: 'adls',
        ADLS_ACCOUNT_URL: adls.url,
        ADLS_ACCOUNT_KEY: adls.accountKey,
        ADLS_FILESYSTEM: 'lake',
      };
      const lake = teardown.add(
        'the harness lake client',
        await createLakeFromConfig({
          lake: 'adls',
          lakeDir: '',
          adlsAccountUrl: adls.url,
          adlsAccountKey: adls.accountKey,
          adlsFilesystem: 'lake',
        }),
        (l) => l.close(),
      );
      const checkpoints = teardown.add(
        'the harness checkpoint reader',
        createLakeCheckpointStore({ lake }),
        (c) => c.close(),
      );
      const deployment = new ChaosDeployment({
        mongo,
        adls,
        queue,
        client,
        env,
        queueName,
        options,
        lake,
        checkpoints,
        teardown,
      });
      // Services are killed first on close, before what they talk to goes away.
      teardown.add('the service processes', deployment, (d) => d.#stopServices());
      return deployment;
    } catch (error) {
      await teardown.run();
      throw error;
    }
  }

  /** A lake client of the harness's own, to read what the services wrote. */
  get lake(): Lake {
    return this.#lake;
  }

  /** Starts capture (waiting until it fixed its start point) and every writer. */
  async startAll(): Promise<void> {
    await this.startCapture();
    for (const name of this.writerNames) this.startWriter(name);
  }

  /** Starts capture and resolves once it logged its start point. */
  async startCapture(): Promise<void> {
    const capture = this.#start(CAPTURE, 'capture', {});
    await capture.waitForLog(/"msg":"capture starting"/, CAPTURE_START_TIMEOUT_MS);
  }

  /** Starts writer `name` (it claims partitions on its own). */
  startWriter(name: string): void {
    this.#start(name, 'writer', { TRIBUTARY_WRITER_ID: name });
  }

  /** Whether `name` runs now. */
  isRunning(name: string): boolean {
    return this.#running.get(name)?.running ?? false;
  }

  /** SIGKILL `name` (no chance to flush, checkpoint or acknowledge) and wait for its exit. */
  async kill(name: string): Promise<Exit | undefined> {
    const process = this.#running.get(name);
    if (!process) return undefined;
    this.#killedOnPurpose.add(process);
    const exit = await process.kill();
    await this.#saveLog(name, process);
    return exit;
  }

  /** Starts `name` again, the way it was first started. */
  async restart(name: string): Promise<void> {
    if (name === CAPTURE) await this.startCapture();
    else this.startWriter(name);
  }

  /**
   * Finds services that ended without being killed by the harness (a crash,
   * a fatal error), saves their logs and starts them again, as a supervisor
   * would. Returns what ended and how.
   */
  async restartCrashed(): Promise<string[]> {
    const crashed: string[] = [];
    for (const [name, process] of this.#running) {
      if (process.running || this.#killedOnPurpose.has(process)) continue;
      const exit = await process.exited;
      const lastLine = process.output().trim().split('\n').at(-1)?.slice(0, 300) ?? '';
      crashed.push(
        `${name} exited on its own (code ${exit.code}, signal ${exit.signal}): ${lastLine}`,
      );
      await this.#saveLog(name, process);
      await this.restart(name);
    }
    return crashed;
  }

  /** The writer that stored partition `p`'s checkpoint last: its owner, within a heartbeat or two. */
  async ownerOf(partition: number): Promise<string | undefined> {
    return (await this.#checkpoints.readPartition(partition))?.value.writerId;
  }

  /** Every partition's stored checkpoint (partitions without one are left out). */
  async checkpoints(): Promise<ReadonlyMap<number, PartitionCheckpoint>> {
    return this.#checkpoints.readAllPartitions(this.partitionCount);
  }

  /** Kills every service and closes everything; idempotent. */
  close(): Promise<void> {
    return this.#teardown.run();
  }

  #start(name: string, service: 'capture' | 'writer', env: Record<string, string>) {
    const process = ServiceProcess.start(service, name, { ...this.env, ...env });
    this.#running.set(name, process);
    this.#incarnations.set(name, (this.#incarnations.get(name) ?? 0) + 1);
    return process;
  }

  async #stopServices(): Promise<void> {
    await Promise.all(
      [...this.#running].map(async ([name, process]) => {
        this.#killedOnPurpose.add(process);
        await process.kill();
        await this.#saveLog(name, process);
      }),
    );
  }

  /** Keeps what a process printed (its last lines), for a run left with `--keep`. */
  async #saveLog(name: string, process: ServiceProcess): Promise<void> {
    const incarnation = this.#incarnations.get(name) ?? 0;
    await writeFile(join(this.#logDir, `${name}.${incarnation}.log`), process.output());
  }
}
