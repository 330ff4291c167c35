import { createServer, type Server, type Socket } from 'node:net';
import { DEFAULT_CURSOR_TIMEOUT_MS } from './cursors/cursor-registry.ts';
import { isRecorded, toOplogRecord, type OplogRecord } from './oplog/oplog-record.ts';
import { DataDirectory, DEFAULT_CHECKPOINT_INTERVAL_MS } from './persistence/data-directory.ts';
import { DEFAULT_TTL_MONITOR_INTERVAL_MS } from './storage/ttl-monitor.ts';
import { ReplicaNode } from './server/replica-node.ts';
import { DEFAULT_SESSION_LIMITS } from './transactions/session-store.ts';
import { WireConnection } from './wire/wire-connection.ts';

/** Options of {@link startMongoEmulator}. */
export interface MongoEmulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; defaults to 127.0.0.1. */
  host?: string;
  /** Keep at most this many oplog entries (older ones fall off; resuming before them fails with 286). */
  oplogMaxEntries?: number;
  /** Keep at most about this many bytes of oplog. */
  oplogMaxBytes?: number;
  /**
   * Persist data and oplog to this directory: every change is journalled
   * before it is acknowledged, the whole state is checkpointed now and then
   * and at stop, and both are loaded at start.
   */
  dataDir?: string;
  /** With `dataDir`: write a checkpoint (and drop the journal before it) this long after changes; default 10 s. */
  checkpointIntervalMs?: number;
  /** Close cursors idle this long (the server's cursorTimeoutMillis); default 10 minutes. */
  cursorTimeoutMs?: number;
  /**
   * Forget sessions unused this long (the server's logicalSessionTimeoutMinutes,
   * reported by hello in whole minutes); default 30 minutes.
   */
  logicalSessionTimeoutMs?: number;
  /** Abort transactions open this long (the server's transactionLifetimeLimitSeconds); default 60 s. */
  transactionLifetimeLimitMs?: number;
  /** Delete documents expired by TTL indexes this often (the server's ttlMonitorSleepSecs); default 60 s. */
  ttlMonitorIntervalMs?: number;
}

/** Checks a duration option: a positive, finite number of milliseconds. */
function durationOption(
  options: MongoEmulatorOptions,
  name:
    | 'cursorTimeoutMs'
    | 'logicalSessionTimeoutMs'
    | 'transactionLifetimeLimitMs'
    | 'ttlMonitorIntervalMs'
    | 'checkpointIntervalMs',
  fallback: number,
): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new RangeError(`startMongoEmulator: ${name} must be a positive number, got ${value}`);
  return value;
}

/** A running emulator of the single-node replica set `rs0`. */
export interface MongoEmulator {
  /** Connection string, e.g. `mongodb://127.0.0.1:27017/?replicaSet=rs0`. */
  readonly uri: string;
  readonly port: number;
  /**
   * The emulator's own oplog, oldest first, as change-event-shaped records:
   * the independent record of what happened, for tests to compare what a
   * change stream (or the lake) received against: one record per event a
   * stream without `showExpandedEvents` reports — the oplog's create,
   * createIndexes, dropIndexes and collMod entries are left out. Entries that
   * fell off a bounded oplog are not included.
   */
  oplogEntries(): OplogRecord[];
  /** Number of open server-side cursors (tests use it to prove nothing leaks). */
  openCursorCount(): number;
  /** Stops listening, closes every connection and cursor, saves data when persisting. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the emulator in-process.
 *
 * @example
 * const mongo = await startMongoEmulator();
 * const client = new MongoClient(mongo.uri);
 * // ...
 * await client.close();
 * await mongo.stop();
 */
export async function startMongoEmulator(
  options: MongoEmulatorOptions = {},
): Promise<MongoEmulator> {
  const host = options.host ?? '127.0.0.1';
  const node = new ReplicaNode({
    oplog: {
      ...(options.oplogMaxEntries !== undefined ? { maxEntries: options.oplogMaxEntries } : {}),
      ...(options.oplogMaxBytes !== undefined ? { maxBytes: options.oplogMaxBytes } : {}),
    },
    sessions: {
      logicalSessionTimeoutMs: durationOption(
        options,
        'logicalSessionTimeoutMs',
        DEFAULT_SESSION_LIMITS.logicalSessionTimeoutMs,
      ),
      transactionLifetimeLimitMs: durationOption(
        options,
        'transactionLifetimeLimitMs',
        DEFAULT_SESSION_LIMITS.transactionLifetimeLimitMs,
      ),
    },
    cursorTimeoutMs: durationOption(options, 'cursorTimeoutMs', DEFAULT_CURSOR_TIMEOUT_MS),
    ttlMonitorIntervalMs: durationOption(
      options,
      'ttlMonitorIntervalMs',
      DEFAULT_TTL_MONITOR_INTERVAL_MS,
    ),
  });
  const dataDir = options.dataDir
    ? new DataDirectory(
        options.dataDir,
        node,
        durationOption(options, 'checkpointIntervalMs', DEFAULT_CHECKPOINT_INTERVAL_MS),
      )
    : undefined;
  await dataDir?.open();
  const server = createServer((socket: Socket) => new WireConnection(socket, node));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A failed accept (EMFILE, …) concerns one client; it must not take the process down.
  server.on('error', (error) => console.error('[emulator-mongodb] server error:', error));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  // Clients must reach the advertised member name; a wildcard bind is advertised as loopback.
  const advertised = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  node.hostAndPort = `${advertised}:${port}`;
  return new RunningEmulator(
    server,
    node,
    port,
    `mongodb://${node.hostAndPort}/?replicaSet=rs0`,
    dataDir,
  );
}

class RunningEmulator implements MongoEmulator {
  readonly uri: string;
  readonly port: number;
  readonly #server: Server;
  readonly #node: ReplicaNode;
  readonly #dataDir: DataDirectory | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    server: Server,
    node: ReplicaNode,
    port: number,
    uri: string,
    dataDir: DataDirectory | undefined,
  ) {
    this.#server = server;
    this.#node = node;
    this.port = port;
    this.uri = uri;
    this.#dataDir = dataDir;
  }

  oplogEntries(): OplogRecord[] {
    return this.#node.oplog.entries().filter(isRecorded).map(toOplogRecord);
  }

  openCursorCount(): number {
    return this.#node.cursors.size;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of [...this.#node.connections]) connection.destroy();
    this.#node.close();
    await closed;
    await this.#dataDir?.close();
  }
}
