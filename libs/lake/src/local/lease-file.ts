import { randomUUID } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { reservedSibling } from '../paths/lake-path.ts';
import { hasErrno } from './fs-error.ts';
import { ignoreCleanupError } from './ignore-cleanup-error.ts';

/**
 * A local file's write lease lives beside it, in a reserved sibling
 * (`<name>.~lease`, never listed) holding the lease id. Every reader and
 * writer of it holds the file's lock, so it is read and replaced in one step
 * with the operations it guards.
 */
function leasePath(absolute: string): string {
  return reservedSibling(absolute, 'lease');
}

/** The lease id holding `absolute`, or `undefined` when it is not leased. */
export async function readLease(absolute: string): Promise<string | undefined> {
  try {
    const text = await readFile(leasePath(absolute), 'utf8');
    return text === '' ? undefined : text;
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** Records `leaseId` as the file's lease, durably (written beside, synced, renamed over). */
export async function writeLease(absolute: string, leaseId: string): Promise<void> {
  const target = leasePath(absolute);
  const temporary = reservedSibling(absolute, `lease-${randomUUID()}`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(leaseId, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await ignoreCleanupError(() => unlink(temporary));
    throw error;
  }
}

/** Removes the file's lease record; nothing when there is none. */
export async function removeLease(absolute: string): Promise<void> {
  try {
    await unlink(leasePath(absolute));
  } catch (error) {
    if (!hasErrno(error, 'ENOENT')) throw error;
  }
}
