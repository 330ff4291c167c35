import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Journal, JournalRecord } from '../broker/journal-port.ts';
import type { Namespace } from '../broker/namespace.ts';
import { EmulatorError } from '../emulator-error.ts';
import { decodeRecords, encodeRecord } from './journal-codec.ts';
import { foldRecords } from './journal-fold.ts';
import { restoreNamespace, snapshotRecords } from './snapshot.ts';

/** Options of the file journal. */
export interface FileJournalOptions {
  /** fdatasync after each group of records (survive power loss, not only a crash). */
  syncWrites: boolean;
  /** Compact once the journal file passes this size (and twice its last snapshot). Default 64 MiB. */
  compactAtBytes?: number;
  onError(error: unknown): void;
  onWarning(message: string): void;
}

const JOURNAL = 'journal.sbj';
const LOCK = 'lock';

interface Waiter {
  upTo: number;
  resolve(): void;
  reject(error: unknown): void;
}

function takeDirectoryLock(dir: string): string {
  const lockPath = path.join(dir, LOCK);
  if (existsSync(lockPath)) {
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    let alive = false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (error) {
        // ESRCH: the process that held the lock is gone (it crashed); take the directory over.
        alive = (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive)
      throw new EmulatorError(
        'storage-failure',
        `the data directory ${dir} is in use by process ${pid}`,
      );
  }
  writeFileSync(lockPath, String(process.pid));
  return lockPath;
}

/**
 * The durable journal: records appended in one turn of the event loop are
 * written together (group commit); `barrier()` resolves once they are in the
 * file (and on the disk with `syncWrites`). At start-up the file is read up
 * to the first torn or corrupt record, folded into the broker's state, and
 * replaced by a snapshot of that state (write to a temporary file, fsync,
 * rename); the same compaction runs when the file grows.
 */
export class FileJournal implements Journal {
  private readonly dir: string;
  private readonly file: string;
  private readonly options: FileJournalOptions;
  private readonly lockPath: string;
  private namespace: Namespace | undefined;
  private handle: FileHandle | undefined;
  private pending: Buffer[] = [];
  private appended = 0;
  private durable = 0;
  private waiters: Waiter[] = [];
  private writing = false;
  private ready = false;
  private flushScheduled = false;
  private compacting = false;
  private failure: unknown;
  private fileBytes = 0;
  private snapshotBytes = 0;
  private closed = false;

  private constructor(dir: string, options: FileJournalOptions) {
    this.dir = dir;
    this.file = path.join(dir, JOURNAL);
    this.options = options;
    mkdirSync(dir, { recursive: true });
    this.lockPath = takeDirectoryLock(dir);
  }

  /** Opens (or creates) the journal in `dir` and rebuilds the namespace `build` makes from it. */
  static async open(
    dir: string,
    options: FileJournalOptions,
    build: (journal: Journal) => Namespace,
  ): Promise<{ journal: FileJournal; namespace: Namespace }> {
    const journal = new FileJournal(dir, options);
    try {
      const bytes = existsSync(journal.file) ? readFileSync(journal.file) : Buffer.alloc(0);
      const { records, validLength } = decodeRecords(bytes);
      if (validLength < bytes.length)
        options.onWarning(
          `journal ${journal.file}: ignored ${bytes.length - validLength} bytes after the last complete record (a write cut short by a crash)`,
        );
      const namespace = build(journal);
      journal.namespace = namespace;
      const dropped = restoreNamespace(namespace, foldRecords(records));
      if (dropped.length > 0)
        options.onWarning(
          `queues in the journal but no longer configured were dropped: ${dropped.join(', ')}`,
        );
      await journal.writeSnapshot();
      journal.ready = true;
      journal.scheduleFlush();
      return { journal, namespace };
    } catch (error) {
      rmSync(journal.lockPath, { force: true });
      throw error;
    }
  }

  append(record: JournalRecord): void {
    if (this.failure !== undefined || this.closed) return;
    this.pending.push(encodeRecord(record));
    this.appended++;
    this.scheduleFlush();
  }

  barrier(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.durable >= this.appended) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.waiters.push({ upTo: this.appended, resolve, reject }),
    );
  }

  /** Writes what is pending, closes the file and releases the directory. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (
      (this.writing || this.pending.length > 0 || this.compacting) &&
      this.failure === undefined
    ) {
      if (!this.writing && !this.compacting) await this.flush();
      else await new Promise((r) => setTimeout(r, 5));
    }
    this.closed = true;
    await this.handle?.close();
    this.handle = undefined;
    rmSync(this.lockPath, { force: true });
  }

  private scheduleFlush(): void {
    if (!this.ready || this.flushScheduled || this.writing || this.compacting) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (
      this.writing ||
      this.compacting ||
      this.pending.length === 0 ||
      this.failure !== undefined ||
      !this.handle
    )
      return;
    this.writing = true;
    const batch = this.pending;
    const upTo = this.appended;
    this.pending = [];
    try {
      const bytes = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
      await this.handle.write(bytes);
      if (this.options.syncWrites) await this.handle.datasync();
      this.fileBytes += bytes.length;
      this.durable = upTo;
      this.resolveWaiters();
    } catch (error) {
      this.fail(error);
    } finally {
      this.writing = false;
    }
    if (this.failure !== undefined) return;
    const limit = this.options.compactAtBytes ?? 64 * 1024 * 1024;
    // A later turn: the answers released above (which make messages visible) run first.
    if (this.fileBytes > limit && this.fileBytes > 2 * this.snapshotBytes)
      setImmediate(() => void this.compact());
    else this.scheduleFlush();
  }

  private resolveWaiters(): void {
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.upTo <= this.durable) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  private fail(error: unknown): void {
    this.failure = new EmulatorError(
      'storage-failure',
      `the journal could not be written (${error instanceof Error ? error.message : String(error)}); restart the emulator`,
    );
    this.options.onError(error);
    for (const waiter of this.waiters) waiter.reject(this.failure);
    this.waiters = [];
  }

  private async compact(): Promise<void> {
    if (this.compacting || this.writing || this.closed || this.failure !== undefined) return;
    try {
      await this.writeSnapshot();
    } catch (error) {
      this.fail(error);
    }
    this.scheduleFlush();
  }

  /**
   * Replaces the file with a snapshot of the current state. The snapshot is
   * taken at once, so every record written before it is reflected in it; the
   * records still pending are written after it (replaying them again is
   * harmless: each describes a state, not a step).
   */
  private async writeSnapshot(): Promise<void> {
    this.compacting = true;
    try {
      const records: Buffer[] = [];
      for (const record of snapshotRecords(this.namespace!)) records.push(encodeRecord(record));
      const temporary = `${this.file}.tmp`;
      const out = await open(temporary, 'w');
      let bytes = 0;
      try {
        for (let i = 0; i < records.length; i += 1024) {
          const chunk = Buffer.concat(records.slice(i, i + 1024));
          await out.write(chunk);
          bytes += chunk.length;
        }
        await out.sync();
      } finally {
        await out.close();
      }
      await this.handle?.close();
      this.handle = undefined;
      await rename(temporary, this.file);
      await this.syncDirectory();
      this.handle = await open(this.file, 'a');
      this.fileBytes = statSync(this.file).size;
      this.snapshotBytes = bytes;
    } finally {
      this.compacting = false;
    }
  }

  private async syncDirectory(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
