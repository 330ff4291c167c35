import { Redis } from 'ioredis';
import { CheckpointError } from '../checkpoint-error.ts';
import type {
  CaptureOrigin,
  CapturePresence,
  CheckpointStore,
  GapReport,
  PartitionCheckpoint,
  ResumeOverride,
  Versioned,
} from '../checkpoint-store.ts';
import {
  decodeCaptureOrigin,
  decodeCapturePresence,
  decodeGapReport,
  decodePartitionCheckpoint,
  decodeResumeOverride,
  encodeCaptureOrigin,
  encodeCapturePresence,
  encodeGapReport,
  encodePartitionCheckpoint,
  encodeResumeOverride,
} from '../codec/checkpoint-codec.ts';
import { COMPARE_AND_SET_SCRIPT } from './compare-and-set-script.ts';

/** Options of {@link createRedisCheckpointStore}. */
export interface RedisCheckpointStoreOptions {
  /** `redis://[user:password@]host:port[/db]`; never echoed in errors. */
  readonly redisUrl: string;
  /** Prepended to every key, e.g. `tributary:orders:`; keeps pipelines apart. */
  readonly keyPrefix: string;
  /** Give up connecting after this long (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Fail a command that gets no reply within this long (default 5 s). */
  readonly commandTimeoutMs?: number;
}

const VERSION_PATTERN = /^[1-9][0-9]*$/;

/** Deletes KEYS[1] if its hash field ARGV[1] holds ARGV[2], in one step. */
const DELETE_IF_FIELD_SCRIPT =
  "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('DEL', KEYS[1]) end return 0";

/** Deletes KEYS[1] if it holds ARGV[1], in one step. */
const DELETE_IF_VALUE_SCRIPT =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * Checkpoints in Redis: one hash per partition (`{ version, value }`), the
 * version a counter moved only by a Lua compare-and-set; the origin a plain
 * string set with `NX`. Fast, but only as durable as the Redis behind it:
 * prefer the lake store where Redis may restart empty.
 */
export class RedisCheckpointStore implements CheckpointStore {
  readonly #client: Redis;
  readonly #prefix: string;
  #closing: Promise<void> | undefined;

  constructor(options: RedisCheckpointStoreOptions) {
    this.#prefix = options.keyPrefix;
    this.#client = new Redis(options.redisUrl, {
      lazyConnect: false,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      commandTimeout: options.commandTimeoutMs ?? 5_000,
      // Callers retry with the core backoff; here a command fails fast and
      // visibly instead of queueing behind a reconnect loop.
      maxRetriesPerRequest: 1,
    });
    // Connection problems surface as failed commands (UNAVAILABLE); the
    // event itself only needs a listener so it cannot crash the process.
    this.#client.on('error', noteConnectionError);
  }

  #partitionKey(partition: number): string {
    return `${this.#prefix}partition:${partition}`;
  }

  #originKey(): string {
    return `${this.#prefix}origin`;
  }

  /** A hash: `captureId` (compared on removal) and `value`, the encoded record. */
  #presenceKey(): string {
    return `${this.#prefix}capture-presence`;
  }

  #resumeOverrideKey(): string {
    return `${this.#prefix}resume-override`;
  }

  /** One hash of every partition's gap report, field = partition number. */
  #gapsKey(): string {
    return `${this.#prefix}gaps`;
  }

  async reportGap(report: GapReport): Promise<void> {
    const text = encodeGapReport(report);
    await this.#call(`report a gap of partition ${report.partition}`, () =>
      this.#client.hset(this.#gapsKey(), String(report.partition), text),
    );
  }

  async clearGap(report: GapReport): Promise<void> {
    // Compare and delete in one step: a newer report written meanwhile stays.
    await this.#call(`clear the gap report of partition ${report.partition}`, () =>
      this.#client.eval(
        "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0",
        1,
        this.#gapsKey(),
        String(report.partition),
        encodeGapReport(report),
      ),
    );
  }

  async readGaps(): Promise<GapReport[]> {
    const stored = await this.#call('read the gap reports', () =>
      this.#client.hgetall(this.#gapsKey()),
    );
    return Object.entries(stored).map(([field, text]) => {
      const partition = Number(field);
      if (!Number.isSafeInteger(partition) || partition < 0)
        throw new CheckpointError('CORRUPT', `The gap reports hold a field '${field}'.`);
      return decodeGapReport(text, partition);
    });
  }

  async readPartition(partition: number): Promise<Versioned<PartitionCheckpoint> | undefined> {
    return (await this.#readStored([partition])).get(partition);
  }

  async writePartition(
    checkpoint: PartitionCheckpoint,
    expectedVersion: string | undefined,
  ): Promise<string> {
    const text = encodePartitionCheckpoint(checkpoint);
    const key = this.#partitionKey(checkpoint.partition);
    const reply = await this.#call(`write partition ${checkpoint.partition}`, () =>
      this.#client.eval(COMPARE_AND_SET_SCRIPT, 1, key, expectedVersion ?? '', text),
    );
    const [outcome, version] = Array.isArray(reply) ? reply : [];
    if (outcome === 1 && typeof version === 'string') return version;
    if (outcome === 0)
      throw new CheckpointError(
        'CONFLICT',
        `Partition ${checkpoint.partition} is at version ${String(version) || 'none'}, not ${expectedVersion ?? 'none'}: another writer stored a checkpoint since.`,
      );
    throw new CheckpointError(
      'CORRUPT',
      `The key of partition ${checkpoint.partition} does not hold a checkpoint (${String(version)}).`,
    );
  }

  async readAllPartitions(partitionCount: number): Promise<Map<number, PartitionCheckpoint>> {
    const partitions = Array.from({ length: partitionCount }, (_, p) => p);
    const stored = await this.#readStored(partitions);
    return new Map([...stored].map(([partition, { value }]) => [partition, value]));
  }

  /**
   * Reads checkpoints in one pipelined round trip, however many partitions:
   * per key its `TYPE` (so a key holding something else is reported as
   * `CORRUPT` rather than as a failed command) and its `HMGET`.
   */
  async #readStored(
    partitions: readonly number[],
  ): Promise<Map<number, Versioned<PartitionCheckpoint>>> {
    const pipeline = this.#client.pipeline();
    for (const p of partitions) {
      const key = this.#partitionKey(p);
      pipeline.type(key).hmget(key, 'version', 'value');
    }
    const replies = await this.#call('read checkpoints', async () => (await pipeline.exec()) ?? []);
    const result = new Map<number, Versioned<PartitionCheckpoint>>();
    partitions.forEach((partition, index) => {
      const [typeError, type] = replies[2 * index] ?? [];
      if (typeError) throw unavailable(`read partition ${partition}`, typeError);
      if (type === 'none') return;
      if (type !== 'hash')
        throw new CheckpointError(
          'CORRUPT',
          `The key of partition ${partition} holds a ${String(type)}, not a checkpoint.`,
        );
      const [error, reply] = replies[2 * index + 1] ?? [];
      if (error) throw unavailable(`read partition ${partition}`, error);
      const [version, value] = Array.isArray(reply) ? (reply as (string | null)[]) : [];
      const stored = decodeStored(partition, version ?? null, value ?? null);
      if (stored !== undefined) result.set(partition, stored);
    });
    return result;
  }

  async readOrigin(): Promise<CaptureOrigin | undefined> {
    const text = await this.#call('read the capture origin', () =>
      this.#client.get(this.#originKey()),
    );
    return text === null ? undefined : decodeCaptureOrigin(text);
  }

  async writeOriginIfAbsent(origin: CaptureOrigin): Promise<CaptureOrigin> {
    const text = encodeCaptureOrigin(origin);
    const set = await this.#call('write the capture origin', () =>
      this.#client.set(this.#originKey(), text, 'NX'),
    );
    if (set === 'OK') return decodeCaptureOrigin(text);
    // Another capture stored one first: that one is the origin.
    const stored = await this.readOrigin();
    if (stored === undefined)
      throw new CheckpointError('UNAVAILABLE', 'The capture origin vanished after SET NX refused.');
    return stored;
  }

  async writePresence(presence: CapturePresence): Promise<void> {
    const text = encodeCapturePresence(presence);
    await this.#call('report presence', () =>
      this.#client.hset(this.#presenceKey(), 'captureId', presence.captureId, 'value', text),
    );
  }

  async readPresence(): Promise<CapturePresence | undefined> {
    const text = await this.#call('read the presence record', () =>
      this.#client.hget(this.#presenceKey(), 'value'),
    );
    return text === null ? undefined : decodeCapturePresence(text);
  }

  async clearPresence(captureId: string): Promise<void> {
    await this.#call('clear the presence record', () =>
      this.#client.eval(DELETE_IF_FIELD_SCRIPT, 1, this.#presenceKey(), 'captureId', captureId),
    );
  }

  async readResumeOverride(): Promise<ResumeOverride | undefined> {
    const text = await this.#call('read the resume override', () =>
      this.#client.get(this.#resumeOverrideKey()),
    );
    return text === null ? undefined : decodeResumeOverride(text);
  }

  async writeResumeOverride(override: ResumeOverride): Promise<void> {
    const text = encodeResumeOverride(override);
    await this.#call('store the resume override', () =>
      this.#client.set(this.#resumeOverrideKey(), text),
    );
  }

  async clearResumeOverride(override: ResumeOverride): Promise<void> {
    await this.#call('clear the resume override', () =>
      this.#client.eval(
        DELETE_IF_VALUE_SCRIPT,
        1,
        this.#resumeOverrideKey(),
        encodeResumeOverride(override),
      ),
    );
  }

  /** Quits the connection (waiting for replies in flight); idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#quit();
    return this.#closing;
  }

  async #quit(): Promise<void> {
    if (this.#client.status === 'end') return;
    try {
      await this.#client.quit();
    } catch (_error) {
      // QUIT cannot reach a server that is gone; drop the socket instead.
      this.#client.disconnect();
    }
  }

  /** Runs a Redis call, translating every failure that is not ours into `UNAVAILABLE`. */
  async #call<T>(operation: string, command: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined)
      throw new CheckpointError('UNAVAILABLE', `Cannot ${operation}: the store is closed.`);
    try {
      return await command();
    } catch (error) {
      throw error instanceof CheckpointError ? error : unavailable(operation, error);
    }
  }
}

function decodeStored(
  partition: number,
  version: string | null,
  value: string | null,
): Versioned<PartitionCheckpoint> | undefined {
  if (version === null && value === null) return undefined;
  if (version === null || value === null || !VERSION_PATTERN.test(version))
    throw new CheckpointError(
      'CORRUPT',
      `The stored checkpoint of partition ${partition} has no valid version or value.`,
    );
  return { value: decodePartitionCheckpoint(value, partition), version };
}

/**
 * Redis failures are all retryable for a caller: a lost connection, a
 * timeout, a server that is loading or read-only. The cause keeps the
 * detail; the message never carries the URL (it may hold a password).
 */
function unavailable(operation: string, cause: unknown): CheckpointError {
  const name = cause instanceof Error ? cause.name : 'unknown error';
  return new CheckpointError('UNAVAILABLE', `Redis could not ${operation} (${name}).`, { cause });
}

/**
 * Listener for ioredis' `error` events. They repeat what a failed command
 * reports (and ioredis reconnects by itself), so they are not handled here.
 */
function noteConnectionError(_error: unknown): void {}

/** Creates a checkpoint store on Redis (see {@link RedisCheckpointStore}). */
export function createRedisCheckpointStore(options: RedisCheckpointStoreOptions): CheckpointStore {
  return new RedisCheckpointStore(options);
}
