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
import { type OpenFile, coverage, dirOf, newOpenFile, toRecord } from './open-file.ts';
import { type RollLimits, closeReason, wouldOverflow } from './rolling-plan.ts';
import { linesWithKeys } from './tail-keys.ts';

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

/**
 * Writes one owned partition to the lake, exactly once.
 *
 * The order of every batch is fixed: drop what the lake already has, record
 * any new file in the checkpoint before its first append, append, store the
 * checkpoint, and only then may the caller acknowledge. Every file that can
 * hold data past the checkpoint is listed in it — open files, and rolled or
 * closed ones until a checkpoint covers their last line — each with the
 * length the checkpoint covers (not merely its length at the time), so a new
 * owner finds everything written after it ({@link recover}), however many
 * owners came and went in between, and writes nothing twice.
 *
 * A `LakeError` or `CheckpointError` with code `CONFLICT` means another
 * writer owns the partition now; the caller must stop using this instance.
 */
export class PartitionWriter {
  readonly #o: PartitionWriterOptions;
  readonly #now: () => number;
  /** The file each directory appends to now. */
  readonly #open = new Map<string, OpenFile>();
  /** Every file the checkpoint must list: open ones, and closed ones with lines it does not cover yet. */
  readonly #tracked = new Set<OpenFile>();
  /** Files rolled away from, to be closed once the batch that rolled is in the lake. */
  readonly #rolled: OpenFile[] = [];
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

  /** True when the checkpoint is past some of the batch's events: they would all be dropped. */
  isBehind(batch: ChangeBatch): boolean {
    const position = this.#position?.key;
    return position !== undefined && batch.events.some((e) => e.key <= position);
  }

  /**
   * Records, durably, that a batch of this partition went to the dead-letter
   * set, so the batch after it is not mistaken for one following a gap.
   */
  async markChainBroken(): Promise<void> {
    this.#chainBroken = true;
    // Stored even before the partition's first position: otherwise a new
    // owner would take every later batch for one following a gap.
    await this.#storeCheckpoint(this.#position);
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
    const found: OpenFile[] = [];
    for (const record of stored?.value.openFiles ?? []) {
      const state = await lake.stat(record.path);
      if (!state) continue; // recorded, then never created: nothing in it
      if (state.length < record.length) {
        // Committed data vanished: the lake lost data we acknowledged. Never paper over that.
        throw new Error(
          `lake file ${record.path} is shorter (${state.length} bytes) than its checkpoint says (${record.length}); data was removed outside Tributary`,
        );
      }
      const file: OpenFile = {
        ...newOpenFile(partition, dirOf(record.path), record.firstKey, this.#now()),
        path: record.path,
        length: state.length,
        version: state.version,
        openedAt: record.openedAt,
        recorded: true,
        created: true,
        checkpointedLength: record.length,
      };
      if (state.length > record.length) {
        const tail = linesWithKeys(await lake.read(record.path, record.length), record.length);
        file.tail.push(...tail);
        for (const line of tail) this.#inLake.add(line.key);
        logger.info(
          { partition, path: record.path, events: tail.length },
          'found events written after the last checkpoint; they will not be written again',
        );
      }
      found.push(file);
    }
    // The newest file of each directory is the one to go on appending to;
    // older ones were rolled away from and are closed (again, harmlessly).
    found.sort((a, b) => (a.firstKey < b.firstKey ? -1 : 1));
    for (const file of found) {
      this.#tracked.add(file);
      const previous = this.#open.get(file.dir);
      if (previous) this.#rolled.push(previous);
      this.#open.set(file.dir, file);
    }
    // Claim the partition: storing the checkpoint under this owner moves its
    // version, so a late write from the previous owner (a retry still in
    // flight when it lost the lease) fails instead of this owner's next one.
    // The files keep the covered lengths they had: the tail found above is
    // not covered, and the next owner must find it too should this one die.
    if (stored) await this.#storeCheckpoint(this.#position);
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
    const planned = [...new Set(segments.map((s) => s.file))];
    const unrecorded = planned.filter((f) => !f.recorded);
    const newFiles = planned.filter((f) => !f.created);
    let filesClosed = await this.#closePastHours(new Set(planned));

    if (unrecorded.length > 0) {
      // Intent first: a file is in the checkpoint before it holds anything,
      // so a new owner knows to look in it. Before the partition's first
      // checkpoint there is no position to record; then a crashed owner's
      // file is found by its deterministic name instead (see #adopt).
      for (const file of unrecorded) file.recorded = true;
      if (this.#position) {
        try {
          await this.#storeCheckpoint(this.#position);
        } catch (error) {
          // Not known to be stored: the next attempt records them again.
          for (const file of unrecorded) file.recorded = false;
          throw error;
        }
      }
    }
    // Created separately from recorded: an attempt that recorded a file and
    // then failed before (or while) creating it must create it next time.
    for (const file of newFiles) {
      try {
        const state = await this.#o.lake.create(file.path);
        file.version = state.version;
        file.length = state.length;
        file.created = true;
      } catch (error) {
        if (!(error instanceof LakeError) || error.code !== 'ALREADY_EXISTS') throw error;
        await this.#adopt(file);
        return undefined;
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
      let end = state.length - data.length;
      segment.keys.forEach((key, i) => {
        end += segment.byteLengths[i] ?? 0;
        segment.file.tail.push({ key, end });
        this.#inLake.add(key);
      });
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
    const tail = linesWithKeys(await this.#o.lake.read(file.path));
    for (const line of tail) this.#inLake.add(line.key);
    file.tail.push(...tail);
    file.length = state.length;
    file.version = state.version;
    file.created = true;
    this.#o.logger.info(
      { partition: this.#o.partition, path: file.path, events: tail.length },
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
      const dir = renderPath(this.#o.pathTemplate, { db: ns?.db, coll: ns?.coll, eventTime: time });
      const line = encodeLine(captured, this.#o.partition, this.#o.jsonFormat);
      const bytes = Buffer.byteLength(line);
      let segment = current.get(dir);
      const planned = segment ? segment.file.length + segment.bytes : 0;
      if (!segment || (planned > 0 && planned + bytes > this.#o.maxFileBytes)) {
        const file = this.#fileFor(dir, captured.key, segment, bytes);
        segment = { file, lines: [], keys: [], byteLengths: [], bytes: 0 };
        segments.push(segment);
        current.set(dir, segment);
      }
      segment.lines.push(line);
      segment.keys.push(captured.key);
      segment.byteLengths.push(bytes);
      segment.bytes += bytes;
    }
    return segments;
  }

  /** The file the next line of `dir` goes to: the open one, or a new one when it is full. */
  #fileFor(dir: string, firstKey: string, full: Segment | undefined, bytes: number): OpenFile {
    const open = this.#open.get(dir);
    if (open && !full && !wouldOverflow(open, bytes, this.#o)) return open;
    const file = newOpenFile(this.#o.partition, dir, firstKey, this.#now());
    // The replaced file is full: it is closed after this batch's appends,
    // and stays listed in checkpoints until one covers its last line.
    if (open) this.#rolled.push(open);
    this.#open.set(dir, file);
    this.#tracked.add(file);
    return file;
  }

  /** Closes files a batch rolled away from, and files idle, old or full. */
  async #closeRolled(): Promise<number> {
    const now = this.#now();
    const toClose = [...this.#rolled];
    for (const file of this.#open.values()) {
      if (closeReason(file, now, this.#o)) toClose.push(file);
    }
    const unique = [...new Set(toClose)];
    for (const file of unique) {
      await this.#close(file);
      const rolled = this.#rolled.indexOf(file);
      if (rolled >= 0) this.#rolled.splice(rolled, 1);
    }
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
    file.closed = true;
    if (this.#open.get(file.dir) === file) this.#open.delete(file.dir);
  }

  /**
   * Stores the checkpoint at `position`. Each listed file is recorded with
   * the length this position covers; a closed file is listed until a stored
   * checkpoint covers all of it, and only then forgotten.
   */
  async #storeCheckpoint(position: StreamPosition | undefined): Promise<void> {
    const key = position?.key ?? '';
    const covered = new Map([...this.#tracked].map((file) => [file, coverage(file, key)]));
    const listed = [...this.#tracked].filter(
      (file) =>
        file.recorded && (!file.closed || (covered.get(file)?.lines ?? 0) < file.tail.length),
    );
    const checkpoint: PartitionCheckpoint = {
      partition: this.#o.partition,
      ...(position ? { position } : {}),
      openFiles: listed.map((file) => toRecord(file, covered.get(file)?.length ?? 0)),
      writerId: this.#o.writerId,
      fencingToken: this.#o.fencingToken,
      updatedAt: new Date(this.#now()),
      ...(this.#chainBroken ? { chainBroken: true } : {}),
    };
    this.#version = await this.#o.checkpoints.writePartition(checkpoint, this.#version);
    this.#position = position;
    for (const [file, { length, lines }] of covered) {
      file.checkpointedLength = length;
      file.tail.splice(0, lines);
      if (file.closed && file.tail.length === 0) this.#tracked.delete(file);
    }
    for (const inLake of this.#inLake) if (inLake <= key) this.#inLake.delete(inLake);
  }
}

interface Segment {
  readonly file: OpenFile;
  readonly lines: string[];
  readonly keys: string[];
  readonly byteLengths: number[];
  bytes: number;
}

function hourOf(ms: number): number {
  return Math.floor(ms / 3_600_000);
}
