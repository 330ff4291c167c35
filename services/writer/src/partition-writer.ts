import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { CheckpointStore } from '@tributary/checkpoint';
import {
  type ChangeBatch,
  type JsonFormat,
  type Logger,
  type StreamPosition,
  eventTimeOfKey,
  isClaimed,
  isHeartbeat,
} from '@tributary/core';
import { type Lake, LakeError } from '@tributary/lake';
import { type NamespaceCounts, countByNamespace } from '@tributary/telemetry';
import { applyStoredCheckpoint, buildCheckpoint } from './checkpoint-builder.ts';
import { cleanUpClaims, keepDeadLetteredClaims } from './claim-cleanup.ts';
import { type LineContext, type RefusedEvents, eventLines } from './event-lines.ts';
import { SegmentFailure, classifyFailure, messageOf } from './failure-class.ts';
import { type RollLimits, RollingFileSet } from './rolling-file-set.ts';
import { type ReplayOutcome, removeKeptClaims, replayEvents } from './replay.ts';
import { type Segment, planSegments } from './segment-plan.ts';
import { linesWithKeys } from './tail-keys.ts';
import { takeOverPartition } from './takeover.ts';
import { newTrackedFile, type TrackedFile } from './tracked-file.ts';
import type { WriterTelemetry } from './writer-telemetry.ts';

/** What a partition writer needs. */
export interface PartitionWriterOptions extends RollLimits {
  readonly partition: number;
  readonly writerId: string;
  readonly lake: Lake;
  readonly checkpoints: CheckpointStore;
  readonly pathTemplate: string;
  readonly jsonFormat: JsonFormat;
  readonly logger: Logger;
  /** Aborted when ownership is lost: no lake request is started after that. */
  readonly lost?: AbortSignal;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now?: () => number;
  /** Spans and latencies of flushes (none without). */
  readonly telemetry?: WriterTelemetry;
}

/** How many batches' traces a file remembers for the links of its closing flush. */
const TRACES_PER_FILE = 32;

export type { RefusedEvents } from './event-lines.ts';

/** Plans of one batch before one must settle; more means the lake keeps changing under the writer. */
const MAX_PLANS = 10;

/** What appending one batch did. */
export interface AppendOutcome {
  readonly written: number;
  /** Events already in the lake (at or below the checkpoint, or found on takeover). */
  readonly dropped: number;
  readonly filesOpened: number;
  /** Events that cannot be written (their file's path refused, their staged copy gone, …). */
  readonly refused: readonly RefusedEvents[];
  /** The written events per namespace (`db.coll`), with the namespace's attributes. */
  readonly writtenByNamespace: NamespaceCounts;
  /** The events the lake already had, per namespace. */
  readonly duplicatesByNamespace: NamespaceCounts;
}

/** What writing one batch did, for metrics and tests. */
export interface BatchOutcome extends AppendOutcome {
  readonly filesClosed: number;
}

/**
 * Writes one owned partition to the lake, exactly once.
 *
 * A batch is written in two steps the caller puts the queue's settlement
 * between: {@link append} (the batch's new events go to their files) and
 * {@link commit} (the checkpoint covering them is stored). Every file this
 * writer creates holds its write lease from the start, and is recorded in a
 * stored checkpoint (a compare-and-set, which proves ownership after the
 * lease was taken) before anything is appended; every file that can hold
 * data past the checkpoint is listed in it with the length the checkpoint
 * covers, so a new owner finds everything written after it
 * ({@link recover}), however many owners came and went, and writes nothing
 * twice. A finished file is recorded as closed before its closing flush,
 * and is never appended to again.
 *
 * An error classified `ownership` (see `classifyFailure`) means another
 * writer owns the partition now; the caller must stop using this instance.
 */
export class PartitionWriter {
  /** The write lease of this ownership: a GUID, as ADLS leases need. */
  readonly leaseId = randomUUID();
  readonly #o: PartitionWriterOptions;
  readonly #now: () => number;
  readonly #files: RollingFileSet;
  /** Keys past the checkpoint's position that are already committed in the lake. */
  readonly #inLake = new Set<string>();
  /** Files the batch in progress appended to (they are not closed for their hour before the next). */
  readonly #appended = new Set<TrackedFile>();
  readonly #lineContext: LineContext;
  #position: StreamPosition | undefined;
  #version: string | undefined;
  #checkpointedAt: number | undefined;

  constructor(options: PartitionWriterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#files = new RollingFileSet(options);
    this.#lineContext = {
      ...options,
      isNew: (key) => this.#isNew(key),
      checkOwned: () => this.#checkOwned(),
    };
  }

  /** The position of the last stored checkpoint. */
  get position(): StreamPosition | undefined {
    return this.#position;
  }

  /** When this writer last stored the partition's checkpoint (ms since the epoch). */
  get checkpointedAt(): number | undefined {
    return this.#checkpointedAt;
  }

  /** Paths of the files open now. */
  openFiles(): string[] {
    return this.#files.openPaths();
  }

  /**
   * Takes the partition over (see `takeOverPartition`), then removes staged
   * claim-checked events its checkpoint already covers.
   */
  async recover(): Promise<void> {
    this.#checkOwned();
    const taken = await takeOverPartition(
      { ...this.#o, leaseId: this.leaseId, now: this.#now },
      this.#files,
    );
    this.#position = taken.position;
    this.#version = taken.version;
    for (const key of taken.inLake) this.#inLake.add(key);
    if (this.#position) await cleanUpClaims(this.#o, this.#position.key);
  }

  /** True when the checkpoint is past some of the batch's events: they would all be dropped. */
  isBehind(batch: ChangeBatch): boolean {
    const position = this.#position?.key;
    if (position === undefined) return false;
    // A heartbeat carries no events: its own position says whether the checkpoint passed it.
    if (isHeartbeat(batch)) return batch.position.key <= position;
    return batch.events.some((e) => e.key <= position);
  }

  /**
   * The events of a requeued dead letter that the checkpoint has moved
   * past and that are not in the lake (`eventsInLake` is its dead letter's
   * record), written as a replay (see `replayEvents`). The checkpoint stays.
   */
  async replay(batch: ChangeBatch, eventsInLake: readonly string[]): Promise<ReplayOutcome> {
    const position = this.#position?.key ?? '';
    const inLake = new Set(eventsInLake);
    const behind = batch.events.filter((e) => e.key <= position && !inLake.has(e.key));
    return replayEvents(behind, {
      ...this.#lineContext,
      leaseId: this.leaseId,
      logger: this.#o.logger,
    });
  }

  /** After a replay is settled: removes the kept copies of the claim-checked events it wrote. */
  removeKeptClaims(paths: readonly string[]): Promise<void> {
    return removeKeptClaims(paths, this.#o);
  }

  /** Keys of the batch's events that are in the lake already (or that the checkpoint covers). */
  keysInLake(batch: ChangeBatch): string[] {
    return batch.events.filter((e) => !this.#isNew(e.key)).map((e) => e.key);
  }

  /**
   * Appends the batch's new events. Safe to call again with the same batch
   * after a failure: what already reached the lake is skipped, and files an
   * earlier attempt created are used again (found by their deterministic
   * names). Events that cannot be written — their file's path refused by
   * the lake, their staged copy gone — are left out and reported; any other
   * failure is thrown.
   */
  async append(batch: ChangeBatch): Promise<AppendOutcome> {
    this.#appended.clear();
    const refused: RefusedEvents[] = [];
    const left = new Set<string>();
    let filesOpened = 0;
    for (let plan = 1; ; plan += 1) {
      if (plan > MAX_PLANS)
        throw new Error(
          `the batch's files kept changing under this writer through ${MAX_PLANS} plans`,
        );
      const prepared = await eventLines(batch.events, left, this.#lineContext);
      this.#leaveOut(prepared.refused, refused, left);
      for (const line of prepared.lines)
        this.#files.noteEventTime(eventTimeOfKey(line.key).getTime());
      const segments = planSegments(prepared.lines, (dir) => this.#files.openIn(dir), this.#o);
      const opened = await this.#openFiles(segments, refused, left);
      filesOpened += opened.created;
      if (opened.refusedSome) continue;
      await this.#recordNewFiles();
      if (await this.#readAdopted(opened.adopted)) continue;
      if (await this.#appendSegments(segments, opened.files, refused, left)) continue;
      const written = prepared.lines.length;
      const writtenKeys = new Set(prepared.lines.map((line) => line.key));
      // What was neither written now nor left out the lake had already.
      const duplicates = batch.events.filter((e) => !writtenKeys.has(e.key) && !left.has(e.key));
      return {
        written,
        dropped: batch.events.length - written - left.size,
        filesOpened,
        refused,
        writtenByNamespace: countByNamespace(prepared.lines, (line) => line.ns),
        duplicatesByNamespace: countByNamespace(duplicates, (e) =>
          isClaimed(e) ? undefined : e.event.ns,
        ),
      };
    }
  }

  /**
   * Stores the checkpoint at the batch's position (it may also cover
   * events that went to the dead letters), finishing files that are due,
   * then removes the batch's staged claim-checked events. Closing flushes
   * follow separately ({@link closeFinished}).
   */
  async commit(batch: ChangeBatch): Promise<void> {
    // Files due to close, and files a batch created but never used.
    const due = [...this.#files.due(this.#now(), this.#appended), ...this.#files.strays()];
    for (const file of due) this.#files.finish(file);
    const position = this.#later(batch.position);
    // A stale copy (everything in it is behind the checkpoint, nothing
    // appended or finished) changes nothing worth a checkpoint write.
    const changed =
      !isDeepStrictEqual(position, this.#position) || this.#appended.size > 0 || due.length > 0;
    if (changed) await this.#storeCheckpoint(position);
    const claims = batch.events.filter(isClaimed).map((entry) => entry.claim);
    if (claims.length > 0) await cleanUpClaims(this.#o, batch.position.key, claims);
  }

  /**
   * Before a batch goes to the dead letters: keeps the staged copies of its
   * claim-checked events that are not in the lake (see `keepDeadLetteredClaims`).
   */
  async keepClaimsOfDeadLetter(batch: ChangeBatch, eventsInLake: readonly string[]): Promise<void> {
    this.#checkOwned();
    await keepDeadLetteredClaims(this.#o, batch, new Set(eventsInLake));
  }

  /** {@link append}, {@link commit} and {@link closeFinished} in one, for a batch nobody refused. */
  async write(batch: ChangeBatch): Promise<BatchOutcome> {
    const appended = await this.append(batch);
    if (appended.refused.length > 0)
      throw new Error(`the lake refused events of the batch: ${appended.refused[0]?.reason}`);
    await this.commit(batch);
    return { ...appended, filesClosed: await this.closeFinished() };
  }

  /**
   * Between batches: finishes files that are idle, too old or full, records
   * them as closed, closes them, and stores a checkpoint that forgets them.
   */
  async maintain(): Promise<number> {
    const due = this.#files.due(this.#now());
    for (const file of due) this.#files.finish(file);
    const unrecorded = this.#files.tracked().some((f) => f.finished && !f.closeRecorded);
    if (unrecorded) await this.#storeCheckpoint(this.#position);
    const closed = await this.closeFinished();
    if (closed > 0) await this.#storeCheckpoint(this.#position);
    return closed;
  }

  /**
   * The closing flush of every finished file a stored checkpoint records as
   * closed, then the release of its lease. Returns how many were closed.
   */
  async closeFinished(): Promise<number> {
    const ready = this.#files.readyToClose();
    if (ready.length === 0) return 0;
    const links = ready.flatMap((file) => file.traces ?? []);
    const close = () => this.#close(ready);
    return this.#o.telemetry ? this.#o.telemetry.closing(this.#o.partition, links, close) : close();
  }

  async #close(ready: readonly TrackedFile[]): Promise<number> {
    for (const file of ready) {
      this.#checkOwned();
      const state = await this.#o.lake.append(file.path, file.length, new Uint8Array(0), {
        ifVersion: file.version,
        leaseId: this.leaseId,
        close: true,
      });
      file.version = state.version;
      await this.#o.lake.releaseLease(file.path, this.leaseId);
      file.closedInLake = true;
    }
    return ready.length;
  }

  /**
   * Gives up the write leases of the files still open, so the next owner
   * need not break them. Best effort: it takes them over anyway.
   */
  async releaseLeases(): Promise<void> {
    for (const file of this.#files.tracked()) {
      if (file.closedInLake) continue;
      try {
        await this.#o.lake.releaseLease(file.path, this.leaseId);
      } catch (error) {
        this.#o.logger.debug(
          { partition: this.#o.partition, path: file.path, err: messageOf(error) },
          'could not release a write lease; the next owner takes it over',
        );
      }
    }
  }

  #isNew(key: string): boolean {
    if (this.#position && key <= this.#position.key) return false;
    return !this.#inLake.has(key);
  }

  /**
   * A heartbeat may carry the key the partition stands at with a newer
   * resume token (the stream's postBatchResumeToken), so a position at the
   * same key replaces the stored one.
   */
  #later(position: StreamPosition): StreamPosition {
    return this.#position && this.#position.key > position.key ? this.#position : position;
  }

  /**
   * The file of each segment: the open one it continues, one an earlier
   * attempt of the batch created (found by path), or a new one created
   * under this writer's lease. A file that exists already but is not ours
   * (an owner died before recording it) is taken over — after a checkpoint
   * compare-and-set has shown this writer still owns the partition — and
   * read before use. New files are tracked, not opened: a file becomes its
   * directory's open one, finishing the one before, only once its first
   * lines are in. A directory whose file the lake refuses has all its
   * events left out.
   */
  async #openFiles(
    segments: readonly Segment[],
    refused: RefusedEvents[],
    left: Set<string>,
  ): Promise<{
    created: number;
    adopted: TrackedFile[];
    files: Map<Segment, TrackedFile>;
    refusedSome: boolean;
  }> {
    const adopted: TrackedFile[] = [];
    const files = new Map<Segment, TrackedFile>();
    let created = 0;
    for (const segment of segments) {
      const planned = newTrackedFile(this.#o.partition, segment.dir, segment.firstKey, this.#now());
      const known = segment.file ?? this.#files.byPath(planned.path);
      if (known) {
        files.set(segment, known);
        continue;
      }
      this.#checkOwned();
      try {
        const state = await this.#o.lake.create(planned.path, { leaseId: this.leaseId });
        planned.version = state.version;
        created += 1;
      } catch (error) {
        if (error instanceof LakeError && error.code === 'ALREADY_EXISTS') {
          await this.#storeCheckpoint(this.#position);
          await this.#o.lake.acquireLease(planned.path, this.leaseId, { takeOver: true });
          adopted.push(planned);
        } else {
          const keys = segments.filter((s) => s.dir === segment.dir).flatMap((s) => s.keys);
          const failure = new SegmentFailure(planned.path, keys, error);
          if (classifyFailure(failure).class !== 'event') throw failure;
          this.#leaveOut([{ keys, reason: failure.message }], refused, left);
          return { created, adopted, files, refusedSome: true };
        }
      }
      this.#files.track(planned);
      files.set(segment, planned);
    }
    return { created, adopted, files, refusedSome: false };
  }

  /**
   * Records files not yet in a stored checkpoint before anything is
   * appended to them: a new owner then knows to look in them, and the
   * compare-and-set proves this writer still owns the partition now that it
   * holds their leases.
   */
  async #recordNewFiles(): Promise<void> {
    if (this.#files.tracked().some((file) => !file.recorded))
      await this.#storeCheckpoint(this.#position);
  }

  /** Reads files taken over by name; true when they hold events of the batch (plan again). */
  async #readAdopted(adopted: readonly TrackedFile[]): Promise<boolean> {
    let found = false;
    for (const file of adopted) {
      this.#checkOwned();
      const state = await this.#o.lake.stat(file.path);
      if (!state)
        throw new LakeError('NOT_FOUND', `lake file ${file.path} vanished while being taken over`);
      const tail = linesWithKeys(await this.#o.lake.read(file.path));
      for (const line of tail) this.#inLake.add(line.key);
      file.tail.push(...tail);
      file.length = state.length;
      file.version = state.version;
      found ||= tail.length > 0;
      this.#o.logger.info(
        { partition: this.#o.partition, path: file.path, events: tail.length },
        'took over a file an earlier attempt or owner created before recording it',
      );
    }
    return found;
  }

  /**
   * Appends each segment under the lease. When the lake refuses one file,
   * that directory's remaining segments are left out too (its lines must
   * stay in order) and `true` asks for the batch to be planned again.
   */
  async #appendSegments(
    segments: readonly Segment[],
    files: ReadonlyMap<Segment, TrackedFile>,
    refused: RefusedEvents[],
    left: Set<string>,
  ): Promise<boolean> {
    for (const segment of segments) {
      const file = files.get(segment);
      if (!file) throw new Error(`no file planned for ${segment.dir}`);
      const data = Buffer.from(segment.lines.join(''), 'utf8');
      this.#checkOwned();
      let state;
      const append = () =>
        this.#o.lake.append(file.path, file.length, data, {
          ifVersion: file.version,
          leaseId: this.leaseId,
        });
      try {
        state = await (this.#o.telemetry
          ? this.#o.telemetry.flush(file.path, data.length, segment.keys.length, append)
          : append());
      } catch (error) {
        // This segment and the directory's later ones are not in the lake;
        // its earlier ones are, and stay.
        const keys = segments
          .filter((s) => s.dir === segment.dir)
          .flatMap((s) => s.keys)
          .filter((key) => !this.#inLake.has(key));
        const failure = new SegmentFailure(file.path, keys, error);
        if (classifyFailure(failure).class !== 'event') throw failure;
        this.#leaveOut([{ keys, reason: failure.message }], refused, left);
        return true;
      }
      file.length = state.length;
      file.version = state.version;
      file.lastAppendAt = this.#now();
      rememberTrace(file);
      this.#appended.add(file);
      if (this.#files.openIn(file.dir) !== file) this.#files.open(file);
      let end = state.length - data.length;
      segment.keys.forEach((key, i) => {
        end += segment.byteLengths[i] ?? 0;
        file.tail.push({ key, end });
        this.#inLake.add(key);
      });
    }
    return false;
  }

  /** Leaves events out of the batch: they go to the dead letters with it. */
  #leaveOut(news: readonly RefusedEvents[], refused: RefusedEvents[], left: Set<string>): void {
    for (const events of news) {
      for (const key of events.keys) left.add(key);
      refused.push(events);
      this.#o.logger.error(
        { partition: this.#o.partition, events: events.keys.length, reason: events.reason },
        'events of this batch cannot be written; they go to the dead letters with the batch',
      );
    }
  }

  /** Stores the checkpoint at `position` (see `buildCheckpoint`). */
  async #storeCheckpoint(position: StreamPosition | undefined): Promise<void> {
    this.#checkOwned();
    const plan = buildCheckpoint({
      partition: this.#o.partition,
      writerId: this.#o.writerId,
      position,
      files: this.#files.tracked(),
      now: new Date(this.#now()),
    });
    this.#version = await this.#o.checkpoints.writePartition(plan.checkpoint, this.#version);
    this.#checkpointedAt = this.#now();
    applyStoredCheckpoint(plan, this.#files);
    this.#position = position;
    const key = position?.key ?? '';
    for (const inLake of this.#inLake) if (inLake <= key) this.#inLake.delete(inLake);
  }

  #checkOwned(): void {
    this.#o.lost?.throwIfAborted();
  }
}

/** Notes the active trace (the batch being written) on the file, for its closing flush's links. */
function rememberTrace(file: TrackedFile): void {
  const active = trace.getActiveSpan()?.spanContext();
  if (!active || !isSpanContextValid(active)) return;
  const traces = (file.traces ??= []);
  if (traces.length >= TRACES_PER_FILE || traces.some((t) => t.traceId === active.traceId)) return;
  traces.push(active);
}
