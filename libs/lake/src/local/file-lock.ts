import { randomUUID } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { sleep } from '@tributary/core';
import { LakeError } from '../lake-error.ts';
import { reservedSibling } from '../paths/lake-path.ts';
import { fsErrorToLakeError, hasErrno } from './fs-error.ts';
import { ignoreCleanupError } from './ignore-cleanup-error.ts';

/** Timing of {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up waiting for another holder after this long (then `UNAVAILABLE`, retryable). */
  readonly lockTimeoutMs: number;
  /**
   * A lock older than this is taken to belong to a process that died holding
   * it, and is broken. Far above the time any locked operation takes.
   */
  readonly staleLockMs: number;
}

const POLL_MS = 5;

/**
 * Runs `critical` while holding an exclusive lock on `absolutePath`: a
 * sibling file created with `O_CREAT | O_EXCL` (`'wx'`), which the kernel
 * lets exactly one process create, across processes and clients. The lock is
 * removed afterwards; one left by a killed process is broken once it is older
 * than `staleLockMs`.
 *
 * @throws LakeError `UNAVAILABLE` when the lock stays taken past `lockTimeoutMs`;
 *   `NOT_FOUND` when the directory does not exist.
 */
export async function withFileLock<T>(
  absolutePath: string,
  options: FileLockOptions,
  critical: () => Promise<T>,
): Promise<T> {
  const lockPath = reservedSibling(absolutePath, 'lock');
  await acquire(lockPath, options);
  try {
    return await critical();
  } finally {
    await ignoreCleanupError(() => unlink(lockPath));
  }
}

async function acquire(lockPath: string, options: FileLockOptions): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if (!hasErrno(error, 'EEXIST')) throw fsErrorToLakeError(error, 'lock', lockPath);
    }
    await breakIfStale(lockPath, options.staleLockMs);
    if (Date.now() - started >= options.lockTimeoutMs)
      throw new LakeError(
        'UNAVAILABLE',
        `The lock ${lockPath} stayed taken for ${options.lockTimeoutMs} ms.`,
      );
    await sleep(POLL_MS);
  }
}

/**
 * Breaks a lock whose holder is presumed dead. It is first renamed to a
 * unique name, so of several processes that find it stale only one removes
 * it. (A process could still rename a lock that was broken and retaken in
 * between; `staleLockMs` far above any operation's duration makes that
 * window practically unreachable.)
 */
async function breakIfStale(lockPath: string, staleLockMs: number): Promise<void> {
  let ageMs: number;
  try {
    ageMs = Date.now() - (await stat(lockPath)).mtimeMs;
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return;
    throw fsErrorToLakeError(error, 'lock', lockPath);
  }
  if (ageMs < staleLockMs) return;
  const grave = `${lockPath}-stale-${randomUUID()}`;
  try {
    await rename(lockPath, grave);
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return;
    throw fsErrorToLakeError(error, 'lock', lockPath);
  }
  await ignoreCleanupError(() => unlink(grave));
}
