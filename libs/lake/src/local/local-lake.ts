import { randomUUID } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type {
  AppendOptions,
  CreateOptions,
  Lake,
  LakeEntry,
  LakeFileState,
  WriteCondition,
} from '../lake.ts';
import { LakeError, isLakeError } from '../lake-error.ts';
import { checkLease } from '../lease-rule.ts';
import {
  RESERVED_MARKER,
  checkAppendOffset,
  checkLakePath,
  checkLakePrefix,
  checkReadRange,
  reservedSibling,
} from '../paths/lake-path.ts';
import { withFileLock, type FileLockOptions } from './file-lock.ts';
import { fsErrorToLakeError, hasErrno } from './fs-error.ts';
import { ignoreCleanupError } from './ignore-cleanup-error.ts';
import { readLease, removeLease, writeLease } from './lease-file.ts';

/** Options of {@link createLocalLake}. */
export interface LocalLakeOptions {
  /** The directory that plays the lake's root; created if missing. */
  readonly rootDir: string;
  /** How long an operation waits for another one on the same file (default 10 s). */
  readonly lockTimeoutMs?: number;
  /** Age after which a lock left by a killed process is broken (default 30 s). */
  readonly staleLockMs?: number;
}

/**
 * The version of a file: inode, size and modification time in nanoseconds.
 * An append grows the size; a document replacement brings a new inode; and
 * every commit moves the modification time strictly forward (see
 * {@link nextMtimeSeconds}), so even an inode number reused with the same
 * size cannot repeat a version. Nothing is stored beside the file, so there
 * is no second write that a crash could separate from the data.
 */
function versionOf(stats: BigIntStats): string {
  return `${stats.ino}-${stats.size}-${stats.mtimeNs}`;
}

function stateOf(stats: BigIntStats): LakeFileState {
  return { length: Number(stats.size), version: versionOf(stats) };
}

/**
 * A modification time strictly after `previous` (by 1 ms, well above the
 * precision `utimes` keeps), or now if that is later: clocks with coarse
 * ticks would otherwise give two quick commits the same time.
 */
function nextMtimeSeconds(previous: BigIntStats | undefined): number {
  const now = Date.now() / 1000;
  return previous === undefined ? now : Math.max(now, Number(previous.mtimeNs) / 1e9 + 0.001);
}

/**
 * The lake on a local directory, same layout as in ADLS: for laptops, the
 * demo and tests. Appends and document writes on one file are serialised
 * across processes by a lock file (see {@link withFileLock}); a commit is
 * durable when it returns (`fsync` of the file, and of the directory after a
 * rename).
 *
 * Unlike ADLS, a local append is not atomic against power loss: a torn tail
 * beyond the previous length can survive a crash of the machine itself. A
 * process killed mid-append is covered: the write is one system call.
 */
export class LocalLake implements Lake {
  readonly #root: string;
  readonly #lock: FileLockOptions;
  readonly #ready: Promise<unknown>;

  constructor(options: LocalLakeOptions) {
    this.#root = resolve(options.rootDir);
    this.#lock = {
      lockTimeoutMs: options.lockTimeoutMs ?? 10_000,
      staleLockMs: options.staleLockMs ?? 30_000,
    };
    this.#ready = mkdir(this.#root, { recursive: true });
  }

  async stat(path: string): Promise<LakeFileState | undefined> {
    const absolute = await this.#resolve(path);
    const stats = await statOrUndefined(absolute, 'stat', path);
    if (stats?.isDirectory()) return undefined;
    return stats === undefined ? undefined : stateOf(stats);
  }

  async create(path: string, options: CreateOptions = {}): Promise<LakeFileState> {
    const absolute = await this.#resolve(path);
    await ensureParent(absolute, path);
    try {
      // `'wx'` alone makes two creates exclusive; the lock also orders a
      // create against a document write checking ifAbsent on the same path.
      return await withFileLock(absolute, this.#lock, async () => {
        const handle = await open(absolute, 'wx');
        try {
          // The lease is on record before the file is visible to anyone
          // else's lock holder: a create with a lease is one step.
          if (options.leaseId !== undefined) await writeLease(absolute, options.leaseId);
          await handle.sync();
          const state = stateOf(await handle.stat({ bigint: true }));
          await syncDirectory(dirname(absolute));
          return state;
        } finally {
          await handle.close();
        }
      });
    } catch (error) {
      if (hasErrno(error, 'EEXIST'))
        throw new LakeError('ALREADY_EXISTS', `${path} already exists.`, { cause: error });
      throw fsErrorToLakeError(error, 'create', path);
    }
  }

  async append(
    path: string,
    offset: number,
    data: Uint8Array,
    options: AppendOptions,
  ): Promise<LakeFileState> {
    checkAppendOffset(offset);
    const absolute = await this.#resolve(path);
    try {
      // Checking lease, length and version and then writing must be one
      // step, or two writers that both passed the check would both write.
      return await withFileLock(absolute, this.#lock, async () => {
        const handle = await open(absolute, 'r+');
        try {
          checkLease(path, await readLease(absolute), options.leaseId);
          const before = await handle.stat({ bigint: true });
          if (versionOf(before) !== options.ifVersion)
            throw new LakeError('CONFLICT', `${path} is at another version than the one expected.`);
          if (Number(before.size) !== offset)
            throw new LakeError(
              'CONFLICT',
              `${path} has ${before.size} committed bytes, not the expected ${offset}.`,
            );
          await writeCommitted(handle, offset, data, before);
          return stateOf(await handle.stat({ bigint: true }));
        } finally {
          await handle.close();
        }
      });
    } catch (error) {
      throw fsErrorToLakeError(error, 'append', path);
    }
  }

  async acquireLease(
    path: string,
    leaseId: string,
    options: { readonly takeOver?: boolean } = {},
  ): Promise<void> {
    const absolute = await this.#resolve(path);
    try {
      await withFileLock(absolute, this.#lock, async () => {
        if ((await statOrUndefined(absolute, 'acquireLease', path))?.isFile() !== true)
          throw new LakeError('NOT_FOUND', `${path} does not exist.`);
        const held = await readLease(absolute);
        if (held === leaseId) return;
        if (held !== undefined && options.takeOver !== true)
          throw new LakeError('CONFLICT', `${path} is leased by another writer.`);
        await writeLease(absolute, leaseId);
      });
    } catch (error) {
      throw fsErrorToLakeError(error, 'acquireLease', path);
    }
  }

  async releaseLease(path: string, leaseId: string): Promise<void> {
    const absolute = await this.#resolve(path);
    try {
      await withFileLock(absolute, this.#lock, async () => {
        if ((await readLease(absolute)) === leaseId) await removeLease(absolute);
      });
    } catch (error) {
      // The directory is gone with the file: there is no lease left to release.
      if (isLakeError(error) && error.code === 'NOT_FOUND') return;
      throw fsErrorToLakeError(error, 'releaseLease', path);
    }
  }

  async delete(path: string, options: { readonly ifVersion?: string } = {}): Promise<void> {
    const absolute = await this.#resolve(path);
    try {
      await withFileLock(absolute, this.#lock, async () => {
        if ((await readLease(absolute)) !== undefined)
          throw new LakeError('CONFLICT', `${path} is leased.`);
        const current = await statOrUndefined(absolute, 'delete', path);
        if (current === undefined) return;
        if (options.ifVersion !== undefined && versionOf(current) !== options.ifVersion)
          throw new LakeError('CONFLICT', `${path} is not at the expected version.`);
        await unlink(absolute);
        await syncDirectory(dirname(absolute));
      });
    } catch (error) {
      if (hasErrno(error, 'ENOENT')) return;
      if (isLakeError(error) && error.code === 'NOT_FOUND') return;
      throw fsErrorToLakeError(error, 'delete', path);
    }
  }

  async read(path: string, offset = 0, length?: number): Promise<Uint8Array> {
    checkReadRange(offset, length);
    const absolute = await this.#resolve(path);
    try {
      const handle = await open(absolute, 'r');
      try {
        const size = Number((await handle.stat()).size);
        const start = Math.min(offset, size);
        const end = length === undefined ? size : Math.min(size, offset + length);
        const buffer = new Uint8Array(Math.max(0, end - start));
        let done = 0;
        while (done < buffer.length) {
          const { bytesRead } = await handle.read(buffer, done, buffer.length - done, start + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return buffer.subarray(0, done);
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw fsErrorToLakeError(error, 'read', path);
    }
  }

  async readDocument(
    path: string,
  ): Promise<{ data: Uint8Array; state: LakeFileState } | undefined> {
    const absolute = await this.#resolve(path);
    try {
      // writeDocument replaces a document by rename(2), never in place: an
      // open descriptor keeps the inode it found, so the fstat below and the
      // bytes read through the same descriptor belong to one version.
      const handle = await open(absolute, 'r');
      try {
        const stats = await handle.stat({ bigint: true });
        if (!stats.isFile()) return undefined;
        const data = new Uint8Array(Number(stats.size));
        let done = 0;
        while (done < data.length) {
          const { bytesRead } = await handle.read(data, done, data.length - done, done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return { data: data.subarray(0, done), state: stateOf(stats) };
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (hasErrno(error, 'ENOENT') || hasErrno(error, 'EISDIR')) return undefined;
      throw fsErrorToLakeError(error, 'readDocument', path);
    }
  }

  async writeDocument(
    path: string,
    data: Uint8Array,
    condition: WriteCondition,
  ): Promise<LakeFileState> {
    const absolute = await this.#resolve(path);
    await ensureParent(absolute, path);
    try {
      // The condition is checked and the rename done under the file's lock,
      // so of two clients with the same expectation exactly one wins.
      return await withFileLock(absolute, this.#lock, async () => {
        const current = await statOrUndefined(absolute, 'writeDocument', path);
        if ('ifAbsent' in condition && current !== undefined)
          throw new LakeError('CONFLICT', `${path} already exists.`);
        if (
          'ifVersion' in condition &&
          (current === undefined || versionOf(current) !== condition.ifVersion)
        )
          throw new LakeError('CONFLICT', `${path} is not at the expected version.`);
        // Written beside the target and renamed over it: rename(2) is atomic,
        // so a reader sees the old document or the new one, never a part.
        const temporary = reservedSibling(absolute, `tmp-${randomUUID()}`);
        try {
          const handle = await open(temporary, 'wx');
          try {
            await writeCommitted(handle, 0, data, current);
          } finally {
            await handle.close();
          }
          await rename(temporary, absolute);
        } catch (error) {
          await ignoreCleanupError(() => unlink(temporary));
          throw error;
        }
        await syncDirectory(dirname(absolute));
        return stateOf(await stat(absolute, { bigint: true }));
      });
    } catch (error) {
      throw fsErrorToLakeError(error, 'writeDocument', path);
    }
  }

  async *list(prefix: string): AsyncIterable<LakeEntry> {
    const normalised = checkLakePrefix(prefix);
    await this.#ready;
    const start = normalised === '' ? this.#root : join(this.#root, normalised);
    const top = await statOrUndefined(start, 'list', normalised);
    if (top === undefined) return;
    if (top.isFile()) {
      yield { path: normalised, length: Number(top.size) };
      return;
    }
    const pending = [start];
    for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
      let entries: Dirent[];
      try {
        entries = await readdir(directory, { withFileTypes: true });
      } catch (error) {
        if (hasErrno(error, 'ENOENT')) continue;
        throw fsErrorToLakeError(error, 'list', normalised);
      }
      for (const entry of entries) {
        if (entry.name.includes(RESERVED_MARKER)) continue;
        const absolute = join(directory, entry.name);
        if (entry.isDirectory()) pending.push(absolute);
        else if (entry.isFile()) {
          const stats = await statOrUndefined(absolute, 'list', normalised);
          if (stats === undefined) continue;
          yield {
            path: relative(this.#root, absolute).split(sep).join('/'),
            length: Number(stats.size),
          };
        }
      }
    }
  }

  /** Nothing to release: every operation closes what it opens. Idempotent. */
  async close(): Promise<void> {}

  /** The absolute path for a lake path, which {@link checkLakePath} keeps inside the root. */
  async #resolve(path: string): Promise<string> {
    checkLakePath(path);
    await this.#ready;
    const absolute = resolve(this.#root, path);
    if (!absolute.startsWith(this.#root + sep))
      throw new LakeError(
        'INVALID_PATH',
        `Lake path ${JSON.stringify(path)} leaves the lake's root.`,
      );
    return absolute;
  }
}

/**
 * Writes all of `data` at `offset`, moves the modification time past
 * `previous` and syncs, so the commit is on disk before it is reported. On a
 * failed write the file is cut back to `offset`, so nothing partial stays
 * visible.
 */
async function writeCommitted(
  handle: FileHandle,
  offset: number,
  data: Uint8Array,
  previous: BigIntStats | undefined,
): Promise<void> {
  try {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await handle.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
    const mtime = nextMtimeSeconds(previous);
    await handle.utimes(mtime, mtime);
    await handle.sync();
  } catch (error) {
    await ignoreCleanupError(() => handle.truncate(offset));
    throw error;
  }
}

/**
 * Creates the missing directories above a file. A file where a directory
 * should be is the caller's mistake (`INVALID`), as on a hierarchical
 * namespace, not an `ALREADY_EXISTS` of the file itself.
 */
async function ensureParent(absolute: string, path: string): Promise<void> {
  try {
    await mkdir(dirname(absolute), { recursive: true });
  } catch (error) {
    if (hasErrno(error, 'EEXIST') || hasErrno(error, 'ENOTDIR'))
      throw new LakeError('INVALID', `A file stands where a directory of ${path} should be.`, {
        cause: error,
      });
    throw fsErrorToLakeError(error, 'create', path);
  }
}

async function statOrUndefined(
  absolute: string,
  operation: string,
  path: string,
): Promise<BigIntStats | undefined> {
  try {
    return await stat(absolute, { bigint: true });
  } catch (error) {
    if (hasErrno(error, 'ENOENT') || hasErrno(error, 'ENOTDIR')) return undefined;
    throw fsErrorToLakeError(error, operation, path);
  }
}

/** Makes a new or renamed directory entry durable (see fsync(2): the file's own sync does not). */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates a lake on a local directory (see {@link LocalLake}). */
export function createLocalLake(options: LocalLakeOptions): Lake {
  return new LocalLake(options);
}
