import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Points in a journal write where a test can freeze the emulator (see
 * {@link JournalOptions.onCrashPoint}), to kill it there and check what a
 * restart makes of it: before any byte of the record is written, with half of
 * the record written, or with all of it written but before the fsync and the
 * answer.
 */
export const CRASH_POINTS = [
  'before-journal-write',
  'mid-journal-write',
  'after-journal-write',
] as const;

/** One of {@link CRASH_POINTS}. */
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Options for {@link Journal}. */
export interface JournalOptions {
  /** fsync after each group of records (survive power loss, not only a crash). */
  sync: boolean;
  /** With `sync`: called right before each fsync (to sync the data files the records refer to). */
  beforeSync?: () => void;
  /**
   * Called when a record marked with a crash point reaches that point. It is
   * meant not to return (the emulator freezes until it is killed); if it
   * does, the write carries on normally.
   */
  onCrashPoint?: (point: CrashPoint) => void;
}

/**
 * An append-only log of JSON records plus a snapshot, the emulator's only
 * source of truth for metadata.
 *
 * Each line is `<crc32 hex> <json>\n`. A crash can leave at most one torn line
 * at the end; loading stops at the first line that is incomplete or whose
 * checksum does not match and cuts the log there, so a change is either
 * wholly in the log or not at all — which is what makes a flush atomic.
 * Compaction writes a snapshot to a temporary file and renames it (atomic on
 * POSIX), then starts a new generation of the log.
 *
 * Group commit: {@link append} only queues a record; the records queued while
 * the event loop handles one round of requests go to the file in a single
 * write (and, with `sync`, a single fsync running off the main thread while
 * the next group gathers). {@link durable} tells a caller when everything
 * queued so far is on disk, which is when its answer may be sent.
 */
export class Journal {
  private readonly dir: string;
  private readonly options: JournalOptions;
  private generation = 0;
  private fd: number | undefined;
  private bytes = 0;
  /** Encoded records (lines) not yet written. */
  private queued: string[] = [];
  private queuedBytes = 0;
  /** A record in `queued` that stops at a crash point when written: its byte range within the queue. */
  private armed: { point: CrashPoint; start: number; length: number } | undefined;
  /** Records appended, written to the file, and durable (written, and fsynced with `sync`). */
  private appendedCount = 0;
  private writtenCount = 0;
  private durableCount = 0;
  private waiters: Array<{ count: number; resolve: () => void; reject: (error: Error) => void }> =
    [];
  private writeScheduled = false;
  private syncInFlight = false;
  /** Set once a write or fsync failed: what is in memory may no longer be on disk. */
  private failure: Error | undefined;

  constructor(dir: string, options: JournalOptions) {
    this.dir = dir;
    this.options = options;
  }

  /** Reads the snapshot and the records logged after it. */
  load(): { snapshot: unknown; records: unknown[] } {
    fs.mkdirSync(this.dir, { recursive: true });
    let snapshot: unknown = undefined;
    const snapshotFile = path.join(this.dir, 'snapshot.json');
    if (fs.existsSync(snapshotFile)) {
      const parsed = JSON.parse(fs.readFileSync(snapshotFile, 'utf8')) as {
        generation: number;
        state: unknown;
      };
      this.generation = parsed.generation;
      snapshot = parsed.state;
    }
    const file = this.journalFile(this.generation);
    let records: unknown[] = [];
    let validBytes = 0;
    if (fs.existsSync(file)) {
      const content = fs.readFileSync(file);
      ({ records, validBytes } = decodeRecords(content));
      // Cut a torn or corrupt tail so new records never follow garbage.
      if (validBytes < content.length) fs.truncateSync(file, validBytes);
    }
    this.fd = fs.openSync(file, 'a');
    this.bytes = validBytes;
    return { snapshot, records };
  }

  /** Size of the current log generation (queued records included), to decide when to compact. */
  get size(): number {
    return this.bytes;
  }

  /** True while some appended record is not yet durable. */
  get hasUndurableRecords(): boolean {
    return this.durableCount < this.appendedCount;
  }

  /**
   * Queues one record. It reaches the file with the next group write; use
   * {@link durable} before telling anyone it happened.
   */
  append(record: unknown, crashPoint?: CrashPoint): void {
    if (this.fd === undefined) throw new Error('journal is not open');
    if (this.failure) throw this.failure;
    const line = encodeRecord(record);
    const length = Buffer.byteLength(line);
    if (crashPoint !== undefined)
      this.armed = { point: crashPoint, start: this.queuedBytes, length };
    this.queued.push(line);
    this.queuedBytes += length;
    this.bytes += length;
    this.appendedCount++;
  }

  /**
   * Resolves once every record appended so far is durable: written to the
   * file (a process crash can no longer lose it) and, with `sync`, fsynced.
   * Rejects when the journal failed to write.
   */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.hasUndurableRecords) return Promise.resolve();
    const count = this.appendedCount;
    const done = new Promise<void>((resolve, reject) =>
      this.waiters.push({ count, resolve, reject }),
    );
    if (!this.writeScheduled) {
      this.writeScheduled = true;
      // After the current round of I/O callbacks, so the requests it carried share one write.
      setImmediate(() => {
        this.writeScheduled = false;
        this.writeGroup();
      });
    }
    return done;
  }

  /** Writes (and with `sync` fsyncs) everything queued, now and synchronously. */
  writeNow(): void {
    if (this.failure) throw this.failure;
    try {
      this.writeQueued();
      if (this.options.sync && this.fd !== undefined) {
        this.options.beforeSync?.();
        fs.fsyncSync(this.fd);
      }
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
    this.markDurable(this.writtenCount);
  }

  /** Replaces the log with a snapshot of `state` (which includes every queued record) and starts an empty log. */
  compact(state: unknown): void {
    this.writeNow();
    const next = this.generation + 1;
    const tmp = path.join(this.dir, 'snapshot.json.tmp');
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify({ generation: next, state }));
      if (this.options.sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, 'snapshot.json'));
    const old = this.journalFile(this.generation);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.generation = next;
    this.fd = fs.openSync(this.journalFile(next), 'a');
    this.bytes = 0;
    fs.rmSync(old, { force: true });
  }

  /** Writes what is queued and closes the log file. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    if (!this.failure) this.writeNow();
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** One group: write everything queued, then fsync off the main thread when asked to. */
  private writeGroup(): void {
    if (this.failure || this.fd === undefined) return;
    // One fsync at a time; what queues meanwhile is written when it finishes.
    if (this.syncInFlight) return;
    try {
      this.writeQueued();
      if (this.options.sync) this.options.beforeSync?.();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (!this.options.sync) {
      this.markDurable(this.writtenCount);
      return;
    }
    const covered = this.writtenCount;
    this.syncInFlight = true;
    fs.fsync(this.fd, (error) => {
      this.syncInFlight = false;
      if (error) {
        this.fail(error);
        return;
      }
      this.markDurable(covered);
      if (this.hasUndurableRecords) this.writeGroup();
    });
  }

  private writeQueued(): void {
    if (this.queued.length === 0 || this.fd === undefined) return;
    // One encoding and one write for the whole group.
    const buffer = Buffer.from(this.queued.length === 1 ? this.queued[0]! : this.queued.join(''));
    const armed = this.armed;
    this.queued = [];
    this.queuedBytes = 0;
    this.armed = undefined;
    const count = this.appendedCount;
    if (armed === undefined) {
      writeAll(this.fd, buffer, 0, buffer.length);
    } else {
      // Stop at the armed point of the marked record, as a crash there would.
      const stopAt =
        armed.point === 'before-journal-write'
          ? armed.start
          : armed.point === 'mid-journal-write'
            ? armed.start + Math.floor(armed.length / 2)
            : buffer.length;
      writeAll(this.fd, buffer, 0, stopAt);
      this.options.onCrashPoint?.(armed.point);
      writeAll(this.fd, buffer, stopAt, buffer.length);
    }
    this.writtenCount = count;
  }

  private markDurable(count: number): void {
    if (count <= this.durableCount) return;
    this.durableCount = count;
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.count <= count) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) waiter.reject(this.failure);
  }

  private journalFile(generation: number): string {
    return path.join(this.dir, `journal-${generation}.log`);
  }
}

/** One journal line: `<crc32 of the JSON's UTF-8 bytes, 8 hex digits> <json>\n`. */
export function encodeRecord(record: unknown): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/**
 * The records of a log, up to the first line that is incomplete (no newline)
 * or fails its checksum; `validBytes` is where that line starts.
 */
export function decodeRecords(content: Buffer): { records: unknown[]; validBytes: number } {
  const records: unknown[] = [];
  let offset = 0;
  while (offset < content.length) {
    const newline = content.indexOf(0x0a, offset);
    if (newline === -1) break;
    const line = content.subarray(offset, newline);
    const space = line.indexOf(0x20);
    if (space === -1) break;
    const json = line.subarray(space + 1);
    const stored = Number.parseInt(line.subarray(0, space).toString('latin1'), 16);
    if (stored !== crc32(json)) break;
    records.push(JSON.parse(json.toString('utf8')));
    offset = newline + 1;
  }
  return { records, validBytes: offset };
}

function writeAll(fd: number, buffer: Buffer, from: number, to: number): void {
  let offset = from;
  while (offset < to) offset += fs.writeSync(fd, buffer, offset, to - offset);
}
