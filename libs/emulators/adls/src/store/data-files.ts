import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** How many data files stay open between requests. */
const OPEN_FILE_LIMIT = 64;

/**
 * The bytes of every file, one data file per id under `<dataDir>/blobs`.
 * Appends write straight to their position; the committed length kept in the
 * journal says how much of it readers may see, so bytes beyond it (staged or
 * left by a crash) are never served.
 *
 * Ids are random hex generated here; nothing from a request ever becomes part
 * of a file name, so no request can address a file outside this directory.
 */
export class DataFiles {
  private readonly root: string;
  private readonly open = new Map<string, number>();
  private readonly madeDirs = new Set<string>();
  /** Ids written since the last {@link syncDirty} (tracked only when syncing). */
  private readonly dirty = new Set<string>();
  private readonly trackDirty: boolean;

  constructor(root: string, options: { sync?: boolean } = {}) {
    this.root = root;
    this.trackDirty = options.sync ?? false;
    fs.mkdirSync(root, { recursive: true });
  }

  /** A new id for a file's data. */
  static newId(): string {
    return randomBytes(16).toString('hex');
  }

  /** Where the data of `id` lives. */
  fileOf(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`invalid data id ${id}`);
    return path.join(this.root, id.slice(0, 2), id);
  }

  /** Writes `chunks` at `position` of the data of `id`. */
  write(id: string, position: number, chunks: readonly Buffer[]): void {
    const fd = this.descriptor(id);
    let offset = position;
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) {
        written += fs.writeSync(fd, chunk, written, chunk.length - written, offset + written);
      }
      offset += chunk.length;
    }
    if (this.trackDirty) this.dirty.add(id);
  }

  /**
   * fdatasyncs every data file written since the last call. With `sync`, the
   * journal calls this before each fsync, so a flush record never reaches the
   * disk ahead of the bytes it commits.
   */
  syncDirty(): void {
    for (const id of this.dirty) {
      const fd = this.open.get(id);
      if (fd !== undefined) fs.fdatasyncSync(fd);
    }
    this.dirty.clear();
  }

  /** Reads `[start, end)` of the data of `id`. */
  read(id: string, start: number, end: number): Buffer {
    const buffer = Buffer.allocUnsafe(end - start);
    const fd = this.descriptor(id);
    let done = 0;
    while (done < buffer.length) {
      const n = fs.readSync(fd, buffer, done, buffer.length - done, start + done);
      if (n === 0) throw new Error(`data file ${id} is shorter than its committed length`);
      done += n;
    }
    return buffer;
  }

  /** Deletes the data of `id`, if any. */
  remove(id: string): void {
    // Bytes about to be deleted need no sync.
    this.dirty.delete(id);
    this.closeOne(id);
    fs.rmSync(this.fileOf(id), { force: true });
  }

  /** Deletes every data file whose id is not in `live` (left behind by a crash). */
  sweep(live: ReadonlySet<string>): void {
    for (const dir of fs.readdirSync(this.root)) {
      const full = path.join(this.root, dir);
      if (!fs.statSync(full).isDirectory()) continue;
      for (const id of fs.readdirSync(full)) {
        if (!live.has(id)) fs.rmSync(path.join(full, id), { force: true });
      }
    }
  }

  /** Closes every open descriptor. Idempotent. */
  close(): void {
    for (const id of [...this.open.keys()]) this.closeOne(id);
  }

  private descriptor(id: string): number {
    const cached = this.open.get(id);
    if (cached !== undefined) return cached;
    const file = this.fileOf(id);
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    // O_RDWR|O_CREAT and never O_APPEND: positional writes must land where asked.
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    if (this.open.size >= OPEN_FILE_LIMIT) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.closeOne(oldest);
    }
    this.open.set(id, fd);
    return fd;
  }

  private closeOne(id: string): void {
    const fd = this.open.get(id);
    if (fd === undefined) return;
    this.open.delete(id);
    // A dirty file leaving the cache is synced now; syncDirty only reaches open descriptors.
    if (this.dirty.delete(id)) fs.fdatasyncSync(fd);
    fs.closeSync(fd);
  }
}
