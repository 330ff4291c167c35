import { retry, type BackoffPolicy } from '@tributary/core';
import type { LakeFileState } from '../lake.ts';
import { LakeError } from '../lake-error.ts';

/** The four requests an append is made of, as the adapter performs them (errors already translated). */
export interface AppendRequests {
  /** Path - Update `action=append`: stages bytes at `offset`; commits nothing. */
  stage(offset: number, data: Uint8Array): Promise<void>;
  /** Path - Update `action=flush` at `position`, only if the ETag is still `ifVersion`. */
  commit(position: number, ifVersion: string, close: boolean): Promise<LakeFileState>;
  /** The committed state, or `undefined` when the file is gone. */
  stat(): Promise<LakeFileState | undefined>;
  /** Committed bytes `[offset, offset + length)`. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** One append as the caller asked for it. */
export interface AppendIntent {
  readonly path: string;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly ifVersion: string;
  readonly close: boolean;
}

/**
 * Appends and commits exactly once through failures and retries.
 *
 * The first attempt stages the bytes and flushes them with `If-Match` on the
 * version the caller saw — the flush is the commit
 * (https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/update).
 * Any retryable failure (throttling, 5xx, reset, timeout) is ambiguous: the
 * flush may have landed with its answer lost. So every later attempt first
 * looks at the committed state:
 *
 * - still `offset` bytes at the caller's version: nothing landed, stage and
 *   flush again (staging again overwrites what an earlier append left);
 * - `offset + data.length` bytes whose range reads back as exactly `data`:
 *   the earlier flush landed; report it, at the file's current version,
 *   without writing again (no duplicate) and without a `CONFLICT`;
 * - anything else: another writer moved the file — `CONFLICT`.
 *
 * The one case this cannot tell apart is another writer committing the very
 * same bytes at the same offset in that window; the outcome in the lake is
 * then identical either way, and the writer's checkpoint compare-and-set
 * (with its fencing token) still stops the writer that lost ownership.
 */
export async function appendExactlyOnce(
  intent: AppendIntent,
  requests: AppendRequests,
  policy: BackoffPolicy,
  onRetry?: (error: unknown, retry: number, delayMs: number) => void,
): Promise<LakeFileState> {
  const { path, offset, data, ifVersion, close } = intent;
  const end = offset + data.length;
  return retry(
    async (attempt) => {
      if (attempt > 0) {
        const landed = await findEarlierCommit(intent, requests);
        if (landed !== undefined) return landed;
      }
      // An empty append is refused by the service; an empty commit (a
      // closing flush with nothing new) needs no staging.
      if (data.length > 0) await requests.stage(offset, data);
      return requests.commit(end, ifVersion, close);
    },
    onRetry === undefined ? { policy } : { policy, onRetry },
  ).catch((error: unknown) => {
    throw error instanceof LakeError
      ? error
      : new LakeError('UNAVAILABLE', `Append to ${path} failed.`, { cause: error });
  });
}

/**
 * After an ambiguous failure: the state if the earlier attempt's commit
 * landed, `undefined` if nothing landed (so the append is redone).
 *
 * @throws LakeError `CONFLICT` when someone else moved the file; `NOT_FOUND` when it is gone.
 */
async function findEarlierCommit(
  intent: AppendIntent,
  requests: AppendRequests,
): Promise<LakeFileState | undefined> {
  const { path, offset, data, ifVersion } = intent;
  const state = await requests.stat();
  if (state === undefined)
    throw new LakeError('NOT_FOUND', `${path} disappeared during an append.`);
  if (state.length === offset && state.version === ifVersion) return undefined;
  if (state.length === offset + data.length && state.version !== ifVersion) {
    const committed = data.length === 0 ? data : await requests.read(offset, data.length);
    if (sameBytes(committed, data)) return state;
  }
  throw new LakeError(
    'CONFLICT',
    `${path} moved during an append: ${state.length} committed bytes, expected ${offset} or ${offset + data.length}.`,
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
