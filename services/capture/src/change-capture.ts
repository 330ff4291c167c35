import {
  type CheckpointStore,
  type PartitionCheckpoint,
  type RestartPoint,
  restartPoint,
  timeOfPosition,
  withResumeOverride,
} from '@tributary/checkpoint';
import {
  type CapturedEvent,
  type ChangeBatch,
  type Logger,
  type PartitionKeyMode,
  OrderingKeyAssigner,
  encodeBatch,
  eventTimeOfKey,
  partitionOf,
  sleep,
} from '@tributary/core';
import type { BatchPublisher } from '@tributary/queue';
import { DependencyWaiter, type Readiness } from '@tributary/telemetry';
import { BSON, type Document, type Timestamp } from 'bson';
import type { ChangeStream, ChangeStreamOptions } from 'mongodb';
import { captureOrigin } from './capture-origin.ts';
import { CapturePresence, newCaptureId } from './capture-presence.ts';
import { honourOverride } from './honour-override.ts';
import type { ClaimStager } from './claim-stager.ts';
import { CaptureTelemetry, type CaptureTelemetryOptions } from './capture-telemetry.ts';
import { namespaceFilter } from './namespace-filter.ts';
import { OplogWindow } from './oplog-window.ts';
import { type BatchLimits, PartitionLines, type TrackedPosition } from './partition-lines.ts';
import { PublishedBacklog } from './published-backlog.ts';
import { StallProbes, stallIntervalMs } from './stall-probes.ts';
import { classifyStreamError } from './stream-errors.ts';
import { type WatchScope, openChangeStream } from './watch-scope.ts';

/** What capture watches and how. */
export interface CaptureOptions extends BatchLimits, WatchScope {
  readonly publisher: BatchPublisher;
  readonly checkpoints: CheckpointStore;
  /** Stages events too large for one message in the lake. */
  readonly claims: ClaimStager;
  readonly readiness: Readiness;
  readonly logger: Logger;
  readonly includeNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
  readonly partitionCount: number;
  readonly partitionKey: PartitionKeyMode;
  readonly queueHighWaterMark: number;
  /** How often writers' gap reports are read (and answered). */
  readonly gapCheckIntervalMs: number;
  /** Told after each batch is on the queue (tests). */
  readonly onPublished?: (batch: ChangeBatch) => void;
  /** This capture's name in its presence record (default: host, process id and a suffix). */
  readonly captureId?: string;
  /** How often the presence record is refreshed (default `PRESENCE_INTERVAL_MS`; tests). */
  readonly presenceIntervalMs?: number;
  /** Where spans and metrics go (none without). */
  readonly telemetry?: Omit<CaptureTelemetryOptions, 'partitionCount' | 'timeOfKey'>;
}

/** The shortest time between two reads of every checkpoint (K reads each) for the backlog. */
const BACKLOG_CHECK_MS = 200;
/** How often capture asks whether the queue lost its contents (the fast path of healing). */
const EPOCH_CHECK_MS = 1000;
/**
 * How often at most, while batches are outstanding, capture reads the
 * checkpoints to learn what writers have covered (the backlog and lag
 * metrics; below the high-water mark nothing else needs it). Heartbeats keep
 * a batch outstanding nearly always, so on a quiet pipeline this is K reads
 * per interval: half a heartbeat interval, and at least this.
 */
const COVERAGE_REFRESH_MS = 2000;

/** Why capture re-reads the stream: the whole queue was lost, or some partitions' batches were. */
type Rewind = { readonly all: true } | { readonly partitions: readonly number[] };

/**
 * Capture: reads one change stream from the oldest point any partition
 * still needs, gives every event its ordering key, routes it to its
 * partition's line (see {@link PartitionLines}) and publishes batches —
 * reading nothing while the queue is above its high-water mark.
 *
 * Batches lost from the queue are healed, never skipped: when the queue
 * lost everything (its epoch changed) every partition is re-read from its
 * checkpoint; when a writer reports a gap in one partition, that partition
 * is. Both restart the stream from the oldest checkpoint needed (with
 * `startAfter`, which also takes an invalidate's token) and each line skips
 * what it has. While paused, a partition whose checkpoint stands still gets
 * a probe (see {@link StallProbes}), so that batches lost with nothing
 * behind them are reported too. An outage of MongoDB is waited out
 * (readiness says so) and reading goes on where it was; lost history, a
 * resume point the source no longer has, or refused rights stop capture
 * with a `CaptureError` that says what to do.
 */
export class ChangeCapture {
  readonly #o: CaptureOptions;
  readonly #stop = new AbortController();
  readonly #deps: DependencyWaiter;
  /** Where capture stands; undefined until the stream reported a first token. */
  #position: TrackedPosition | undefined;
  /** The key of the last event read (or the key before the start point). */
  #lastKey = '';
  #seq = 0;
  #stream: ChangeStream | undefined;
  #running: Promise<void> | undefined;
  #paused = false;
  /** What capture published that no checkpoint covers: the backlog (empty at start; see its TSDoc). */
  readonly #backlog: PublishedBacklog;
  /** Which partitions to probe while paused, for batches lost with nothing behind them. */
  readonly #stalls: StallProbes;
  #backlogCheckedAt = 0;
  /** Checkpoint reads applied so far (see `#refreshCoverage`). */
  #coverings = 0;
  #refreshing = false;
  #epoch: string | undefined;
  #epochCheckedAt = 0;
  #gapsCheckedAt = 0;
  #heartbeatAt = 0;
  /** The clusterTime (s) of the resume point as the checkpoints last read put it. */
  #resumePointTime: number | undefined;
  /** Capture's origin (s): where a partition without a checkpoint would be read from. */
  #originTime: number | undefined;
  readonly #telemetry: CaptureTelemetry | undefined;
  readonly #oplogWindow: OplogWindow | undefined;
  readonly #presence: CapturePresence;
  /** Run once the stream has answered its first read (clears an overlap the start honoured). */
  #onceReading: (() => Promise<void>) | undefined;

  constructor(options: CaptureOptions) {
    this.#o = options;
    this.#deps = new DependencyWaiter(options.readiness, options.logger, this.#stop.signal);
    this.#presence = new CapturePresence(options.checkpoints, options.logger, {
      captureId: options.captureId ?? newCaptureId(),
      ...(options.presenceIntervalMs ? { intervalMs: options.presenceIntervalMs } : {}),
    });
    this.#backlog = new PublishedBacklog(options.partitionCount);
    const stallMs = stallIntervalMs(options.heartbeatIntervalMs, BACKLOG_CHECK_MS);
    this.#stalls = new StallProbes(options.partitionCount, stallMs);
    const oplogWindow = options.telemetry && new OplogWindow(options.client, options.logger);
    this.#oplogWindow = oplogWindow;
    this.#telemetry =
      options.telemetry &&
      new CaptureTelemetry(
        {
          ...options.telemetry,
          partitionCount: options.partitionCount,
          timeOfKey: (key) => eventTimeOfKey(key).getTime() / 1000,
        },
        {
          backlog: () => this.#backlog.size,
          paused: () => this.#paused,
          oldestUnflushedKey: (p) => this.#backlog.oldestEventKey(p),
          resumePointTime: () => this.#resumePointTime,
          oplogWindow: () => oplogWindow?.bounds,
        },
      );
  }

  /** The last position read (key and resume token). */
  get position(): TrackedPosition | undefined {
    return this.#position;
  }

  /** True while reading is paused because the queue is above its high-water mark. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Runs until {@link stop} or a fatal error (which the promise rejects
   * with). Either way its presence record is removed at the end.
   */
  run(): Promise<void> {
    this.#running ??= this.#run().finally(() => this.#presence.stop());
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
    // Present before the resume point is read: an operator's move refused
    // from now on cannot slip in between.
    await this.#presence.start(this.#deps);
    const origin = await captureOrigin(o.client, o.checkpoints, this.#deps);
    this.#originTime = origin.startAtOperationTime.getHighBitsUnsigned();
    const all = Array.from({ length: o.partitionCount }, (_, p) => p);
    const stored = await this.#readCheckpoints();
    const lines = new PartitionLines(
      all.map((p) => stored.get(p)?.position?.key ?? ''),
      o,
      {
        publish: (batch) => this.#publish(batch),
        stage: (partition, captured) =>
          this.#deps.untilDone('lake', () => o.claims.stage(partition, captured)),
        clock: Date.now,
      },
    );
    this.#epoch = await this.#deps.untilDone('queue', async () => o.publisher.contentsEpoch?.());
    const override = await this.#deps.untilDone('checkpoint store', () =>
      o.checkpoints.readResumeOverride(),
    );
    const first = honourOverride(restartPoint(stored, all, origin), override, o.logger);
    // An overlap is honoured once: cleared when the stream has answered from
    // its point (a crash before that only re-reads again, which writers drop).
    // The clear is a tidy-up: should it fail, the overlap is passed anyway
    // once a checkpoint moves on from where it was set.
    if (first.clearOnceReading && override)
      this.#onceReading = async () => {
        await this.#deps.attempt('checkpoint store', () =>
          o.checkpoints.clearResumeOverride(override),
        );
      };
    let start = first.start;
    while (!this.#stop.signal.aborted) {
      const rewind = await this.#follow(start, lines);
      if (!rewind) break;
      const checkpoints = await this.#readCheckpoints();
      const partitions = 'all' in rewind ? all : rewind.partitions;
      this.#telemetry?.rewound(
        partitions.length,
        'all' in rewind ? 'queue_emptied' : 'gap_reported',
      );
      for (const p of partitions) {
        lines.rewind(p, checkpoints.get(p)?.position?.key ?? '');
        this.#backlog.rewound(p);
        this.#stalls.rewound(p);
      }
      this.#cover(checkpoints);
      // What the other partitions hold is sent now: the stream goes back
      // to before it, and their lines skip all they have sent.
      await lines.flushAll();
      // Never back into a gap the operator chose: the floor holds here too.
      start = withResumeOverride(restartPoint(checkpoints, partitions, origin), override, 'rewind');
      o.logger.warn(
        'all' in rewind
          ? { partitions: 'all' }
          : { partitions, generations: partitions.map((p) => lines.generation(p)) },
        'all' in rewind
          ? 'the queue lost what it held (Redis restarted empty?): re-reading every partition from its checkpoint'
          : 'writers report batches lost from the queue: re-reading those partitions from their checkpoints',
      );
    }
    await lines.flushAll();
  }

  /**
   * Reads the change stream from `start` until stopped (`undefined`) or
   * until batches must be sent again (the rewind).
   */
  async #follow(start: RestartPoint, lines: PartitionLines): Promise<Rewind | undefined> {
    const o = this.#o;
    this.#lastKey = 'after' in start ? start.after.key : start.keyBefore;
    const keys = new OrderingKeyAssigner(this.#lastKey);
    this.#position = 'after' in start ? { ...start.after, seq: ++this.#seq } : undefined;
    const keep = namespaceFilter(o.includeNamespaces, o.excludeNamespaces);
    o.logger.info(
      'after' in start
        ? { startAfterKey: start.after.key }
        : { startAtOperationTime: start.at.toString() },
      'capture starting',
    );
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      // Once the stream has given a token capture reads on after its own
      // position (startAfter takes an invalidate's token too); before, from
      // its origin.
      const options: ChangeStreamOptions = this.#position
        ? { startAfter: this.#position.token }
        : { startAtOperationTime: (start as { at: Timestamp }).at };
      const stream = openChangeStream(o, options);
      this.#stream = stream;
      try {
        while (!this.#stop.signal.aborted) {
          const lost = await this.#waitForRoom(lines);
          if (lost) return lost;
          const event = (await stream.tryNext()) as Document | null;
          const now = Date.now();
          this.#deps.working('mongodb');
          failures = 0;
          if (this.#onceReading) {
            const then = this.#onceReading;
            this.#onceReading = undefined;
            await then();
          }
          if (event) {
            const key = keys.next(event.clusterTime as Timestamp);
            const position = { key, token: event._id as Document, seq: ++this.#seq };
            this.#position = position;
            this.#lastKey = key;
            if (keep(event.ns)) {
              const captured: CapturedEvent = { key, capturedAt: new Date(now), event };
              const partition = partitionOf(event, o.partitionCount, o.partitionKey);
              this.#telemetry?.captured(partition, event.ns);
              await lines.add(partition, captured, BSON.calculateObjectSize(event), position, now);
            }
            // The watched collection or database was dropped or renamed:
            // keep watching the same name from just after the invalidate.
            if (event.operationType === 'invalidate') break;
          } else this.#advanceToResumeToken(stream);
          await lines.flushDue(now);
          await this.#heartbeat(lines, now);
          this.#refreshCoverage(now);
          this.#oplogWindow?.poll(now);
          const rewind = await this.#rewindNeeded(now, lines);
          if (rewind) return rewind;
        }
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        const failure = classifyStreamError(error);
        if (failure.kind === 'fatal') throw failure.error;
        failures += 1;
        this.#deps.failing(
          'mongodb',
          `${failure.reason}; reading on from the last position once it answers`,
          failures,
        );
        await this.#deps.pause(failures);
      } finally {
        await stream.close().catch(ignoreCloseError);
      }
    }
    return undefined;
  }

  /**
   * Between events the driver's resume token is the stream's
   * postBatchResumeToken: how far the oplog has been scanned. Capture's
   * position takes it (under the last event's key, so keys only grow), and
   * heartbeats carry it, so a quiet partition's resume point keeps moving.
   */
  #advanceToResumeToken(stream: ChangeStream): void {
    const token = stream.resumeToken as Document | null | undefined;
    if (!token) return;
    const position = this.#position;
    if (position && sameDocument(token, position.token)) return;
    this.#position = { key: this.#lastKey, token, seq: ++this.#seq };
  }

  /** Heartbeats on a timer, at most every quarter interval: per-event work does not grow with K. */
  async #heartbeat(lines: PartitionLines, now: number): Promise<void> {
    const position = this.#position;
    if (!position || this.#paused) return;
    if (now - this.#heartbeatAt < Math.min(1000, this.#o.heartbeatIntervalMs / 4)) return;
    this.#heartbeatAt = now;
    await lines.heartbeat(position, now);
  }

  /**
   * Whether batches must be sent again: the queue lost everything (its
   * epoch changed — checked every second), or writers report gaps in
   * partitions capture has not re-sent since (checked every
   * `gapCheckIntervalMs`). A report names the generation of the batch that
   * showed the gap; one of an older generation is already answered.
   */
  async #rewindNeeded(now: number, lines: PartitionLines): Promise<Rewind | undefined> {
    const o = this.#o;
    if (o.publisher.contentsEpoch && now - this.#epochCheckedAt >= EPOCH_CHECK_MS) {
      this.#epochCheckedAt = now;
      const epoch = await this.#deps.attempt('queue', () =>
        (o.publisher.contentsEpoch as () => Promise<string>)(),
      );
      if (epoch !== undefined && epoch !== this.#epoch) {
        this.#epoch = epoch;
        return { all: true };
      }
    }
    if (now - this.#gapsCheckedAt < o.gapCheckIntervalMs) return undefined;
    this.#gapsCheckedAt = now;
    const reports =
      (await this.#deps.attempt('checkpoint store', () => o.checkpoints.readGaps())) ?? [];
    const partitions = [
      ...new Set(
        reports
          .filter(
            (r) => r.partition < o.partitionCount && r.generation >= lines.generation(r.partition),
          )
          .map((r) => r.partition),
      ),
    ].sort((a, b) => a - b);
    return partitions.length > 0 ? { partitions } : undefined;
  }

  /**
   * Reads what the checkpoints cover every {@link COVERAGE_REFRESH_MS} or so
   * while batches are outstanding, so the backlog and lag metrics follow the
   * writers below the high-water mark too (at the mark, `#waitForRoom` reads
   * them). In the background: reading the stream never waits for it, and a
   * failure only leaves the metrics as they were (the paths that need the
   * checkpoints read them themselves). A result is applied only if no other
   * read was applied since this one started, so what capture knows of the
   * checkpoints never goes back.
   */
  #refreshCoverage(now: number): void {
    if (!this.#telemetry || this.#refreshing || this.#backlog.size === 0) return;
    const interval = Math.max(COVERAGE_REFRESH_MS, this.#o.heartbeatIntervalMs / 2);
    if (now - this.#backlogCheckedAt < interval) return;
    this.#backlogCheckedAt = now;
    this.#refreshing = true;
    const applied = this.#coverings;
    void this.#o.checkpoints
      .readAllPartitions(this.#o.partitionCount)
      .then(
        (checkpoints) => {
          if (this.#coverings === applied) this.#cover(checkpoints);
        },
        (error: unknown) =>
          this.#o.logger.debug(
            { err: error },
            'reading the checkpoints for the backlog and lag metrics failed; tried again later',
          ),
      )
      .finally(() => (this.#refreshing = false));
  }

  #readCheckpoints(): Promise<Map<number, PartitionCheckpoint>> {
    return this.#deps.untilDone('checkpoint store', () =>
      this.#o.checkpoints.readAllPartitions(this.#o.partitionCount),
    );
  }

  /**
   * Backpressure: reads nothing while `queueHighWaterMark` batches or more
   * wait in the queue — by capture's own count ({@link PublishedBacklog}),
   * since counting a queue may need rights capture must not have. Returns
   * the rewind to make when batches were lost from the queue meanwhile;
   * probes stalled partitions so that such a loss is reported.
   */
  async #waitForRoom(lines: PartitionLines): Promise<Rewind | undefined> {
    const mark = this.#o.queueHighWaterMark;
    // Reading the checkpoints costs K reads (an ADLS GET each on the lake
    // store), so between reads capture trusts its count: writers only take
    // batches away, so the backlog is at most what the last read left plus
    // what capture published since. Read only when that reaches the mark,
    // and then at most every BACKLOG_CHECK_MS.
    while (this.#backlog.size >= mark && !this.#stop.signal.aborted) {
      const wait = this.#backlogCheckedAt + BACKLOG_CHECK_MS - Date.now();
      if (wait > 0) {
        await lines.flushDue(Date.now());
        await sleep(wait, this.#stop.signal);
      }
      // Lost batches are never covered, and writers acknowledge nothing past
      // a gap: unless the loss is answered here, capture would wait for good.
      const rewind = await this.#rewindNeeded(Date.now(), lines);
      if (rewind) return rewind;
      this.#backlogCheckedAt = Date.now();
      this.#cover(await this.#readCheckpoints());
      this.#setPaused(this.#backlog.size >= mark);
      if (this.#paused) await this.#probeStalled(lines, Date.now());
    }
    if (this.#backlog.size < mark) this.#setPaused(false);
    return undefined;
  }

  /** Counts as taken what each partition's checkpoint covers, and notes which ones moved. */
  #cover(checkpoints: ReadonlyMap<number, PartitionCheckpoint>): void {
    this.#coverings += 1;
    const now = Date.now();
    let resumeTime: number | undefined;
    for (let p = 0; p < this.#o.partitionCount; p += 1) {
      const position = checkpoints.get(p)?.position;
      const key = position?.key;
      if (key !== undefined) this.#backlog.cover(p, key);
      this.#stalls.checkpointRead(p, key ?? '', now);
      // A partition with no checkpoint yet is read from the origin (see `restartPoint`).
      const fromOrigin = position ? undefined : this.#originTime;
      if (fromOrigin !== undefined)
        resumeTime = resumeTime === undefined ? fromOrigin : Math.min(resumeTime, fromOrigin);
      if (!position) continue;
      // A heartbeat moves the token (the stream's postBatchResumeToken) past the last event's key.
      const time = timeOfPosition(position);
      resumeTime = resumeTime === undefined ? time : Math.min(resumeTime, time);
    }
    this.#resumePointTime = resumeTime;
  }

  /**
   * Probes each partition whose checkpoint has stood still for the stall
   * interval while its batches wait: if they were lost from the queue, the
   * probe is the batch that shows the writer the gap. Paused, capture
   * publishes nothing else that could.
   */
  async #probeStalled(lines: PartitionLines, now: number): Promise<void> {
    const due = this.#stalls.probeNow(now, (p) => this.#backlog.outstandingSince(p));
    for (const p of due) await lines.probe(p, now);
    if (due.length === 0) return;
    this.#o.logger.warn(
      { partitions: due, stalledMs: this.#stalls.stallMs },
      'checkpoints stand still while batches wait: probing those partitions, so that a writer reports any batches the queue lost',
    );
  }

  #setPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    this.#o.logger.info(
      { backlog: this.#backlog.size, highWaterMark: this.#o.queueHighWaterMark },
      paused ? 'queue full: capture paused' : 'queue has room: capture resumed',
    );
  }

  async #publish(batch: ChangeBatch): Promise<void> {
    const body = encodeBatch(batch);
    const send = (headers: Record<string, string>) =>
      this.#deps.untilDone('queue', () =>
        this.#o.publisher.publish({
          partition: batch.partition,
          generation: batch.generation,
          sequence: batch.sequence,
          body,
          headers,
        }),
      );
    if (this.#telemetry) await this.#telemetry.published(batch, body.byteLength, send);
    else await send({});
    this.#o.logger.debug(
      {
        partition: batch.partition,
        events: batch.events.length,
        lastKey: batch.position.key,
        previousKey: batch.previousKey,
        generation: batch.generation,
      },
      batch.events.length === 0 ? 'heartbeat published' : 'batch published',
    );
    this.#backlog.published(batch.partition, batch.position.key, Date.now(), batch.events[0]?.key);
    this.#o.onPublished?.(batch);
  }
}

/** Whether two resume tokens are the same, compared as whole BSON documents (their format is the server's). */
function sameDocument(a: Document, b: Document): boolean {
  return Buffer.from(BSON.serialize(a)).equals(Buffer.from(BSON.serialize(b)));
}

/** Closing a stream that already failed or closed may throw; the stream is gone either way. */
function ignoreCloseError(): void {}

/** `stop` waits for the run to end; its failure was already reported by `run`'s promise. */
function ignoreAlreadyReported(): void {}
