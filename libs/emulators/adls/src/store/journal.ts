import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * An append-only log of JSON records plus a snapshot, the emulator's only
 * source of truth for metadata.
 *
 * Each line is `<crc32 hex> <json>\n`. A crash can leave at most one torn line
 * at the end; loading stops at the first line whose checksum does not match
 * and cuts it off, so a change is either wholly in the log or not at all —
 * which is what makes a flush atomic. Compaction writes a snapshot to a
 * temporary file and renames it (atomic on POSIX), then starts a new
 * generation of the log.
 */
export class Journal {
  private readonly dir: string;
  private readonly sync: boolean;
  private generation = 0;
  private fd: number | undefined;
  private bytes = 0;

  constructor(dir: string, options: { sync: boolean }) {
    this.dir = dir;
    this.sync = options.sync;
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
    const records: unknown[] = [];
    let validBytes = 0;
    if (fs.existsSync(file)) {
      const content = fs.readFileSync(file);
      let offset = 0;
      while (offset < content.length) {
        const newline = content.indexOf(0x0a, offset);
        if (newline === -1) break;
        const line = content.subarray(offset, newline);
        const space = line.indexOf(0x20);
        if (space === -1) break;
        const json = line.subarray(space + 1);
        if (line.subarray(0, space).toString('latin1') !== crc32(json).toString(16)) break;
        records.push(JSON.parse(json.toString('utf8')));
        offset = newline + 1;
        validBytes = offset;
      }
      // Cut a torn tail so new records never follow garbage.
      if (validBytes < content.length) fs.truncateSync(file, validBytes);
    }
    this.fd = fs.openSync(file, 'a');
    this.bytes = validBytes;
    return { snapshot, records };
  }

  /** Size of the current log generation, to decide when to compact. */
  get size(): number {
    return this.bytes;
  }

  /** Appends one record; it is durable against a process crash once this returns. */
  append(record: unknown): void {
    if (this.fd === undefined) throw new Error('journal is not open');
    const json = Buffer.from(JSON.stringify(record), 'utf8');
    const line = Buffer.concat([
      Buffer.from(`${crc32(json).toString(16)} `, 'latin1'),
      json,
      Buffer.from('\n'),
    ]);
    fs.writeSync(this.fd, line);
    if (this.sync) fs.fsyncSync(this.fd);
    this.bytes += line.length;
  }

  /** Replaces the log with a snapshot of `state` and starts an empty log. */
  compact(state: unknown): void {
    const next = this.generation + 1;
    const tmp = path.join(this.dir, 'snapshot.json.tmp');
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify({ generation: next, state }));
      if (this.sync) fs.fsyncSync(fd);
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

  /** Closes the log file. Idempotent. */
  close(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private journalFile(generation: number): string {
    return path.join(this.dir, `journal-${generation}.log`);
  }
}
