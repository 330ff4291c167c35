import type { CheckpointStore, PartitionCheckpoint } from '@tributary/checkpoint';
import {
  type CapturedEvent,
  type ChangeBatch,
  type JsonFormat,
  type Logger,
  type StreamPosition,
  encodeLine,
  eventTimeOfKey,
  renderPath,
} from '@tributary/core';
import { type Lake, LakeError } from '@tributary/lake';
import { type OpenFile, dirOf, fileNameFor, toRecord } from './open-file.ts';
import { type RollLimits, closeReason, wouldOverflow } from './rolling-plan.ts';
import { keysInLines } from './tail-keys.ts';

/** What a partition writer needs. */
export interface PartitionWriterOptions extends RollLimits {
  readonly partition: number;
  readonly fencingToken: number;
  readonly writerId: string;
  readonly lake: Lake;
  readonly checkpoints: CheckpointStore;
  readonly pathTemplate: string;
  readonly jsonFormat: JsonFormat;
  readonly logger: Logger;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now?: () => number;
}

/** What one batch did, for metrics and tests. */
export interface BatchOutcome {
  readonly written: number;
  readonly dropped: number;
  readonly filesOpened: number;
  readonly filesClosed: number;
}

/** Where events of a namespace without a collection (dropDatabase, invalidate) go. */
const NO_COLLECTION = '_database';
const NO_DATABASE = '_cluster';

/**
 * Writes one owned partition to the lake, exactly once.
 *
 * The order of every batch is fixed: drop what the lake already has, record
 * any new file in the checkpoint before its first append, append, store the
 * checkpoint, and only then may the caller acknowledge. Because every file
 * that can hold data past the checkpoint is listed in it, a new owner finds
 * all of it ({@link recover}) and writes nothing twice.
 *
 * A `LakeError` or `CheckpointError` with code `CONFLICT` means another
 * writer owns the partition now; the caller must stop using this instance.
 */
export class PartitionWriter {
  readonly #o: PartitionWriterOptions;
  readonly #now: () => number;
  readonly #open = new Map<string, OpenFile>();
  /** Keys past the checkpoint's position that are already committed in the lake. */
  readonly #inLake = new Set<string>();
  #position: StreamPosition | undefined;
  #version: string | undefined;
  /** A dead letter broke the batch chain: accept the next batch's previous key. */
  #chainBroken = false;
  /** Latest event hour written, for closing files of past hours. */
  #latestHour = 0;

  constructor(options: PartitionWriterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * True when batches before this one never arrived: it follows a position
   * beyond what the partition has written, so the queue lost batches (Redis
   * restarted empty). Writing it would skip their events; capture re-sends
   * everything after the checkpoint once it notices the loss.
   */
  followsGap(batch: ChangeBatch): boolean {
    // A partition without a checkpoint stands at the start of the chain:
    // a batch naming any predecessor follows batches that never arrived.
    return !this.#chainBroken && batch.previousKey > (this.#position?.key ?? '');
  }

  /**
   * Records, durably, that a batch of this partition went to the dead-letter
   * set, so the batch after it is not mistaken for one following a gap.
   */
  async markChainBroken(): Promise<void> {
    this.#chainBroken = true;
    if (this.#position) await this.#storeCheckpoint(this.#position);
  }

  /** The position of the last stored checkpoint. */
  get position(): StreamPosition | undefined {
    return this.#position;
  }

  /** Paths of the files open now. */
  openFiles(): string[] {
    return [...this.#open.values()].map((f) => f.path);
  }

  /**
   * Takes over from whoever wrote the partition before: reads the stored
   * checkpoint, and for each file it lists, what was committed past the
   * checkpointed length — those events are in the lake and must not be
   * written again.
   */
  async recover(): Promise<void> {
    const { partition, lake, checkpoints, logger } = this.#o;
    const stored = await checkpoints.readPartition(partition);
    this.#version = stored?.version;
    this.#position = stored?.value.position;
    this.#chainBroken = stored?.value.chainBroken ?? false;
    // The stored fencing token is informational: exclusivity comes from the
    // checkpoint's compare-and-set and the lake's version conditions, which
    // survive Redis restarting empty (lease counters do not).
    for (const record of stored?.value.openFiles ?? []) {
      const state = await lake.stat(record.path);
      if (!state) continue; // recorded, then never created: nothing in it
      if (state.length < record.length) {
        // Committed data vanished: the lake lost data we acknowledged. Never paper over that.
        throw new Error(
          `lake file ${record.path} is shorter (${state.length} bytes) than its checkpoint says (${record.length}); data was removed outside Tributary`,
        );
      }
      if (state.length > record.length) {
        const tail = await lake.read(record.path, record.length);
        const keys = keysInLines(tail);
        for (const key of keys) this.#inLake.add(key);
        logger.info(
          { partition, path: record.path, events: keys.length },
          'found events written after the last checkpoint; they will not be written again',
        );
      }
      this.#open.set(dirOf(record.path), {
        path: record.path,
        dir: dirOf(record.path),
        firstKey: record.firstKey,
        length: state.length,
        version: state.version,
        openedAt: record.openedAt,
        lastAppendAt: this.#now(),
        recorded: true,
      });
    }
    // Claim the partition: storing the checkpoint under this owner moves its
    // version, so a late write from the previous owner (a retry still in
    // flight when it lost the lease) fails instead of this owner's next one.
    if (this.#position) await this.#storeCheckpoint(this.#position);
  }

  /**
   * Writes a batch and stores the checkpoint that covers it. Safe to call
   * again with the same batch after a failure: what already reached the lake
   * is skipped.
   */
  async write(batch: ChangeBatch): Promise<BatchOutcome> {
    for (;;) {
      const outcome = await this.#tryWrite(batch);
      if (outcome) return outcome;
      // A file this batch needed already existed: its keys are now known to
      // be in the lake, so plan the batch again without them.
    }
  }

  /** One attempt; `undefined` when a new file turned out to exist and the batch must be re-planned. */
  async #tryWrite(batch: ChangeBatch): Promise<BatchOutcome | undefined> {
    const fresh = batch.events.filter((e) => this.#isNew(e.key));
    const dropped = batch.events.length - fresh.length;
    const segments = this.#plan(fresh);
    const newFiles = [...new Set(segments.map((s) => s.file))].filter((f) => !f.recorded);
    let filesClosed = await this.#closePastHours(new Set(segments.map((s) => s.file)));

    if (newFiles.length > 0) {
      // Intent first: a file is in the checkpoint before it holds anything,
      // so a new owner knows to look in it. Before the partition's first
      // checkpoint there is no position to record; then a crashed owner's
      // file is found by its deterministic name instead (see #adopt).
      for (const file of newFiles) file.recorded = true;
      if (this.#position) await this.#storeCheckpoint(this.#position);
      for (const file of newFiles) {
        try {
          const state = await this.#o.lake.create(file.path);
          file.version = state.version;
          file.length = state.length;
        } catch (error) {
          if (!(error instanceof LakeError) || error.code !== 'ALREADY_EXISTS') throw error;
          await this.#adopt(file);
          return undefined;
        }
      }
    }
    for (const segment of segments) {
      const data = Buffer.from(segment.lines.join(''), 'utf8');
      const state = await this.#o.lake.append(segment.file.path, segment.file.length, data, {
        ifVersion: segment.file.version,
      });
      segment.file.length = state.length;
      segment.file.version = state.version;
      segment.file.lastAppendAt = this.#now();
      for (const key of segment.keys) this.#inLake.add(key);
    }
    filesClosed += await this.#closeRolled();
    this.#chainBroken = false;
    await this.#storeCheckpoint(this.#later(batch.position));
    return { written: fresh.length, dropped, filesOpened: newFiles.length, filesClosed };
  }

  /**
   * A file this writer meant to create is already there: a previous owner
   * created it from this same batch (names come from the first key) and died
   * before its checkpoint. Everything in it is in the lake; continue after it.
   */
  async #adopt(file: OpenFile): Promise<void> {
    const state = await this.#o.lake.stat(file.path);
    if (!state)
      throw new LakeError('CONFLICT', `lake file ${file.path} vanished while being adopted`);
    const keys = keysInLines(await this.#o.lake.read(file.path));
    for (const key of keys) this.#inLake.add(key);
    file.length = state.length;
    file.version = state.version;
    this.#o.logger.info(
      { partition: this.#o.partition, path: file.path, events: keys.length },
      'adopted a file a previous owner created before its first checkpoint',
    );
  }

  /** Closes files that are idle, too old or full; call between batches. */
  async maintain(): Promise<number> {
    const closed = await this.#closeRolled();
    if (closed > 0 && this.#position) await this.#storeCheckpoint(this.#position);
    return closed;
  }

  #isNew(key: string): boolean {
    if (this.#position && key <= this.#position.key) return false;
    return !this.#inLake.has(key);
  }

  #later(position: StreamPosition): StreamPosition {
    return this.#position && this.#position.key >= position.key ? this.#position : position;
  }

  /** Groups lines by target file, rolling on size, in change order. */
  #plan(events: readonly CapturedEvent[]): Segment[] {
    const segments: Segment[] = [];
    const current = new Map<string, Segment>();
    for (const captured of events) {
      const time = eventTimeOfKey(captured.key);
      this.#latestHour = Math.max(this.#latestHour, hourOf(time.getTime()));
      const ns = captured.event.ns as { db?: string; coll?: string } | undefined;
      const dir = renderPath(this.#o.pathTemplate, {
        db: ns?.db ?? NO_DATABASE,
        coll: ns?.coll ?? NO_COLLECTION,
        eventTime: time,
      });
      const line = encodeLine(captured, this.#o.partition, this.#o.jsonFormat);
      const bytes = Buffer.byteLength(line);
      let segment = current.get(dir);
      const planned = segment ? segment.file.length + segment.bytes : 0;
      if (!segment || (planned > 0 && planned + bytes > this.#o.maxFileBytes)) {
        const file = this.#fileFor(dir, captured.key, segment, bytes);
        segment = { file, lines: [], keys: [], bytes: 0 };
        segments.push(segment);
        current.set(dir, segment);
      }
      segment.lines.push(line);
      segment.keys.push(captured.key);
      segment.bytes += bytes;
    }
    return segments;
  }

  /** The file the next line of `dir` goes to: the open one, or a new one when it is full. */
  #fileFor(dir: string, firstKey: string, full: Segment | undefined, bytes: number): OpenFile {
    const open = this.#open.get(dir);
    if (open && !full && !wouldOverflow(open, bytes, this.#o)) return open;
    const file: OpenFile = {
      path: `${dir}/${fileNameFor(this.#o.partition, firstKey)}`,
      dir,
      firstKey,
      length: 0,
      version: '',
      openedAt: new Date(this.#now()),
      lastAppendAt: this.#now(),
      recorded: false,
    };
    // The replaced file is full: it is closed after this batch's appends.
    if (open) this.#rolled.push(open);
    this.#open.set(dir, file);
    return file;
  }

  readonly #rolled: OpenFile[] = [];

  /** Closes files a batch rolled away from, and files idle, old or full. */
  async #closeRolled(): Promise<number> {
    const now = this.#now();
    const toClose = [...this.#rolled];
    this.#rolled.length = 0;
    for (const file of this.#open.values()) {
      if (closeReason(file, now, this.#o)) toClose.push(file);
    }
    const unique = [...new Set(toClose)];
    for (const file of unique) await this.#close(file);
    return unique.length;
  }

  /** Closes files of hours before the newest one written, unless this batch writes to them. */
  async #closePastHours(inUse: Set<OpenFile>): Promise<number> {
    const past = [...this.#open.values()].filter(
      (f) =>
        !inUse.has(f) &&
        f.length > 0 &&
        hourOf(eventTimeOfKey(f.firstKey).getTime()) < this.#latestHour,
    );
    for (const file of past) await this.#close(file);
    return past.length;
  }

  async #close(file: OpenFile): Promise<void> {
    if (file.length > 0) {
      const state = await this.#o.lake.append(file.path, file.length, new Uint8Array(0), {
        ifVersion: file.version,
        close: true,
      });
      file.version = state.version;
    }
    if (this.#open.get(file.dir) === file) this.#open.delete(file.dir);
  }

  async #storeCheckpoint(position: StreamPosition): Promise<void> {
    const checkpoint: PartitionCheckpoint = {
      partition: this.#o.partition,
      position,
      openFiles: [...this.#open.values()].filter((f) => f.recorded).map(toRecord),
      writerId: this.#o.writerId,
      fencingToken: this.#o.fencingToken,
      updatedAt: new Date(this.#now()),
      ...(this.#chainBroken ? { chainBroken: true } : {}),
    };
    this.#version = await this.#o.checkpoints.writePartition(checkpoint, this.#version);
    this.#position = position;
    for (const key of this.#inLake) if (key <= position.key) this.#inLake.delete(key);
  }
}

interface Segment {
  readonly file: OpenFile;
  readonly lines: string[];
  readonly keys: string[];
  bytes: number;
}

function hourOf(ms: number): number {
  return Math.floor(ms / 3_600_000);
}
