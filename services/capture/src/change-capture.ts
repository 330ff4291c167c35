import type { CheckpointStore } from '@tributary/checkpoint';
import {
  type CapturedEvent,
  type ChangeBatch,
  type Logger,
  type PartitionKeyMode,
  type StreamPosition,
  OrderingKeyAssigner,
  encodeBatch,
  partitionOf,
  DEFAULT_BACKOFF,
  retry,
  sleep,
} from '@tributary/core';
import type { BatchPublisher } from '@tributary/queue';
import { BSON, type Document, type Timestamp } from 'bson';
import type { ChangeStream, ChangeStreamOptions, MongoClient } from 'mongodb';
import { CaptureError } from './capture-error.ts';
import { namespaceFilter } from './namespace-filter.ts';
import { type BatchLimits, PartitionBatcher } from './partition-batcher.ts';
import { type ResumePoint, resumePoint } from './resume-point.ts';

/** What capture watches and how. */
export interface CaptureOptions extends BatchLimits {
  readonly client: MongoClient;
  readonly publisher: BatchPublisher;
  readonly checkpoints: CheckpointStore;
  readonly logger: Logger;
  readonly scope: 'collection' | 'database' | 'deployment';
  readonly database?: string;
  readonly collection?: string;
  readonly includeNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
  readonly fullDocument: 'default' | 'updateLookup' | 'whenAvailable' | 'required';
  readonly fullDocumentBeforeChange: 'off' | 'whenAvailable' | 'required';
  readonly partitionCount: number;
  readonly partitionKey: PartitionKeyMode;
  readonly queueHighWaterMark: number;
  /** How long one wait for events may last before timers run (getMore's maxAwaitTimeMS). */
  readonly maxAwaitTimeMs?: number;
  /** Told after each batch is on the queue (metrics, tests). */
  readonly onPublished?: (batch: ChangeBatch) => void;
}

/** MongoDB's error code when the oplog no longer holds the resume point. */
const CHANGE_STREAM_HISTORY_LOST = 286;
const BACKLOG_CHECK_MS = 200;
/** How often capture asks whether the queue lost its contents. */
const EPOCH_CHECK_MS = 1000;
/** Capture retries queue operations for as long as it runs. */
const QUEUE_BACKOFF = { ...DEFAULT_BACKOFF, maxRetries: Infinity, maxElapsedMs: Infinity };

/**
 * Capture: reads one change stream from the oldest point any partition still
 * needs, gives every event its ordering key, routes it to its partition,
 * cuts batches and publishes them — stopping reading while the queue is
 * above its high-water mark. Transient errors are resumed by the driver;
 * lost history stops capture with {@link CaptureError} `HISTORY_LOST`.
 */
export class ChangeCapture {
  readonly #o: CaptureOptions;
  readonly #stop = new AbortController();
  #position: StreamPosition | undefined;
  #stream: ChangeStream | undefined;
  #running: Promise<void> | undefined;
  #paused = false;
  #backlogCheckedAt = 0;
  #lastBacklog = 0;
  #publishedSinceCheck = 0;
  #epoch = '';
  #epochCheckedAt = 0;

  constructor(options: CaptureOptions) {
    this.#o = options;
  }

  /** The last event read (key and resume token). */
  get position(): StreamPosition | undefined {
    return this.#position;
  }

  /** True while reading is paused because the queue is above its high-water mark. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Runs until {@link stop} or a fatal error (which the promise rejects with). */
  run(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stops reading, publishes what is held, and closes the stream. Idempotent. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#stream?.close().catch(ignoreCloseError);
    await this.#running?.catch(ignoreAlreadyReported);
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const origin = await this.#origin();
    this.#epoch = await this.#retrying('reading the queue epoch', () => o.publisher.queueEpoch());
    while (!this.#stop.signal.aborted) {
      const start = resumePoint(
        await o.checkpoints.readAllPartitions(o.partitionCount),
        origin,
        o.partitionCount,
      );
      if ((await this.#follow(start)) === 'stopped') return;
      o.logger.warn(
        'the queue lost what it held (Redis restarted empty?): re-reading the change stream from the checkpoints',
      );
    }
  }

  /**
   * Reads the change stream from `start` until stopped, or until the queue
   * turns out to have lost its contents — then everything after the
   * checkpoints must be read again (`rewind`); what is held here is dropped,
   * as it will be read again too.
   */
  async #follow(start: ResumePoint): Promise<'stopped' | 'rewind'> {
    const o = this.#o;
    this.#position = start.after;
    const keys = new OrderingKeyAssigner(start.after?.key);
    const keep = namespaceFilter(o.includeNamespaces, o.excludeNamespaces);
    const batcher = new PartitionBatcher(o.partitionCount, o, start.previousKeys, (batch) =>
      this.#publish(batch),
    );
    o.logger.info(
      start.after
        ? { resumeAfterKey: start.after.key }
        : { startAtOperationTime: start.startAtOperationTime?.toString() },
      'capture starting',
    );
    let streamOptions: ChangeStreamOptions = start.after
      ? { resumeAfter: start.after.token }
      : { startAtOperationTime: start.startAtOperationTime };

    while (!this.#stop.signal.aborted) {
      const stream = this.#open(streamOptions);
      this.#stream = stream;
      let invalidatedBy: Document | undefined;
      try {
        while (!this.#stop.signal.aborted) {
          await this.#waitForRoom(batcher);
          const event = await stream.tryNext();
          const now = Date.now();
          if (event) {
            const raw = event as unknown as Document;
            const key = keys.next(raw.clusterTime as Timestamp);
            this.#position = { key, token: raw._id };
            if (keep(raw.ns)) {
              const captured: CapturedEvent = { key, capturedAt: new Date(now), event: raw };
              const partition = partitionOf(raw, o.partitionCount, o.partitionKey);
              await batcher.add(partition, captured, BSON.calculateObjectSize(raw), now);
            }
            if (raw.operationType === 'invalidate') {
              invalidatedBy = raw._id;
              break;
            }
          }
          await batcher.flushDue(now);
          if (this.#position && !this.#paused) await batcher.heartbeat(this.#position, now);
          if (await this.#queueLost(now)) return 'rewind';
        }
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        throw translate(error);
      } finally {
        await stream.close().catch(ignoreCloseError);
      }
      if (invalidatedBy) {
        // The watched collection or database was dropped or renamed: keep
        // watching the same name from just after the invalidate.
        o.logger.warn({ scope: o.scope }, 'change stream invalidated; continuing after it');
        streamOptions = { startAfter: invalidatedBy };
      }
    }
    await batcher.flushAll();
    return 'stopped';
  }

  /** Whether the queue's epoch changed since capture last looked (checked at most every EPOCH_CHECK_MS). */
  async #queueLost(now: number): Promise<boolean> {
    if (now - this.#epochCheckedAt < EPOCH_CHECK_MS) return false;
    this.#epochCheckedAt = now;
    const epoch = await this.#retrying('reading the queue epoch', () =>
      this.#o.publisher.queueEpoch(),
    );
    if (epoch === this.#epoch) return false;
    this.#epoch = epoch;
    return true;
  }

  /**
   * Runs a queue operation until it succeeds, waiting out errors that say
   * they are passing (Redis restarting), for as long as capture runs —
   * capture never gives up on a batch, because giving up would lose it.
   */
  async #retrying<T>(doing: string, operation: () => Promise<T>): Promise<T> {
    return retry(operation, {
      policy: QUEUE_BACKOFF,
      signal: this.#stop.signal,
      onRetry: (error, attempt, delayMs) =>
        this.#o.logger.warn({ err: error, attempt, delayMs }, `${doing} failed; retrying`),
    });
  }

  /** Capture's origin: stored at first start, so partitions without checkpoints start there. */
  async #origin() {
    const stored = await this.#o.checkpoints.readOrigin();
    if (stored) return stored;
    const hello = await this.#o.client.db('admin').command({ ping: 1 });
    const operationTime = hello.operationTime as Timestamp | undefined;
    if (!operationTime) {
      throw new CaptureError(
        'NOT_A_REPLICA_SET',
        'MongoDB did not report an operation time: change streams need a replica set or sharded cluster. Point MONGODB_URI at one (for a single server, start it with --replSet).',
      );
    }
    return this.#o.checkpoints.writeOriginIfAbsent({
      startAtOperationTime: operationTime,
      createdAt: new Date(),
    });
  }

  #open(position: ChangeStreamOptions): ChangeStream {
    const o = this.#o;
    const options: ChangeStreamOptions = {
      ...position,
      fullDocument: o.fullDocument,
      maxAwaitTimeMS: o.maxAwaitTimeMs ?? 500,
      ...(o.fullDocumentBeforeChange === 'off'
        ? {}
        : { fullDocumentBeforeChange: o.fullDocumentBeforeChange }),
    };
    if (o.scope === 'deployment') return o.client.watch([], options);
    const db = o.client.db(o.database);
    return o.scope === 'database'
      ? db.watch([], options)
      : db.collection(o.collection ?? '').watch([], options);
  }

  /** Backpressure: while the queue holds `queueHighWaterMark` batches or more, read nothing. */
  async #waitForRoom(batcher: PartitionBatcher): Promise<void> {
    // Asking the queue costs a round trip, so between asks capture counts what
    // it added itself: writers only take batches away, so the backlog is at
    // most the last answer plus that count. Ask when the count could reach
    // the mark, and at least every BACKLOG_CHECK_MS.
    const atMost = this.#lastBacklog + this.#publishedSinceCheck;
    const recent = Date.now() - this.#backlogCheckedAt < BACKLOG_CHECK_MS;
    if (!this.#paused && recent && atMost < this.#o.queueHighWaterMark) return;
    for (;;) {
      this.#backlogCheckedAt = Date.now();
      this.#publishedSinceCheck = 0;
      const backlog = await this.#retrying('reading the queue backlog', () =>
        this.#o.publisher.backlog(),
      );
      this.#lastBacklog = backlog;
      const full = backlog >= this.#o.queueHighWaterMark;
      if (full !== this.#paused) {
        this.#paused = full;
        this.#o.logger.info(
          { backlog, highWaterMark: this.#o.queueHighWaterMark },
          full ? 'queue full: capture paused' : 'queue has room: capture resumed',
        );
      }
      if (!full || this.#stop.signal.aborted) return;
      await batcher.flushDue(Date.now());
      await sleep(BACKLOG_CHECK_MS, this.#stop.signal);
    }
  }

  async #publish(batch: ChangeBatch): Promise<void> {
    const body = encodeBatch(batch);
    await this.#retrying(`publishing a batch of partition ${batch.partition}`, () =>
      this.#o.publisher.publish({
        partition: batch.partition,
        body,
        previousKey: batch.previousKey,
        lastKey: batch.position.key,
      }),
    );
    this.#o.logger.debug(
      {
        partition: batch.partition,
        events: batch.events.length,
        lastKey: batch.position.key,
        previousKey: batch.previousKey,
      },
      batch.events.length === 0 ? 'heartbeat published' : 'batch published',
    );
    this.#publishedSinceCheck += 1;
    this.#o.onPublished?.(batch);
  }
}

/** Turns the driver's errors that need an operator into capture's own. */
function translate(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === CHANGE_STREAM_HISTORY_LOST) {
    return new CaptureError(
      'HISTORY_LOST',
      'MongoDB no longer has the oplog history capture must resume from (ChangeStreamHistoryLost): events after the last checkpoint may have been dropped before they were read. ' +
        'Capture stopped rather than skip them. To recover: enlarge the oplog (replSetResizeOplog) so this does not recur, re-snapshot the affected collections into the lake, then clear the checkpoints to start from now.',
      { cause: error },
    );
  }
  return error;
}

/** Closing a stream that already failed or closed may throw; the stream is gone either way. */
function ignoreCloseError(): void {}

/** `stop` waits for the run to end; its failure was already reported by `run`'s promise. */
function ignoreAlreadyReported(): void {}
