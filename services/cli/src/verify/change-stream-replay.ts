import { namespaceName } from '@tributary/lake';
import type { Document, Timestamp } from 'bson';
import { type ChangeStreamOptions, type MongoClient, MongoError } from 'mongodb';
import { CliError } from '../cli-error.ts';
import {
  type ClusterInstant,
  compareInstants,
  formatInstant,
  instantOfTimestamp,
  instantOfToken,
  timestampOf,
} from './cluster-instant.ts';
import { throwIfInterrupted } from './interrupted.ts';

/** Where a replay starts: at a clusterTime (inclusive), or after a resume token. */
export type ReplayStart =
  { readonly at: ClusterInstant } | { readonly after: Document; readonly at: ClusterInstant };

/** One event of the replayed stream, reduced to what verification compares. */
export interface ReplayedEvent {
  /** The resume token's `_data`. */
  readonly token: string;
  readonly at: ClusterInstant;
  /**
   * Position among the events of its clusterTime (a transaction's share
   * one), as capture numbers them; `undefined` when the replay started in
   * the middle of that clusterTime and cannot know it.
   */
  readonly n: number | undefined;
  readonly namespace: string;
  readonly operationType: string;
  readonly documentKey: Document | undefined;
  /** The event as the stream gave it (for routing to a partition). */
  readonly event: Document;
}

/** How a replay ended. */
export type ReplayOutcome =
  | { readonly kind: 'complete'; readonly events: number }
  /** MongoDB no longer has the history from the start point (ChangeStreamHistoryLost 286, or 280). */
  | { readonly kind: 'history-lost'; readonly reason: string };

const HISTORY_LOST = 286;
const RESUME_POINT_GONE = 280;

/** How long a replay may go without reaching further before it is given up. */
export const REPLAY_STALL_MS = 30_000;

/**
 * Reads the deployment's change stream from `start` through `until`
 * (inclusive) and hands every event to `onEvent`, in stream order. The
 * stream's postBatchResumeToken tells when `until` is passed while nothing
 * happens. Nothing is written to the source.
 *
 * @throws CliError `UNAVAILABLE` when the stream makes no progress for {@link REPLAY_STALL_MS}.
 */
export async function replayChangeStream(
  client: MongoClient,
  start: ReplayStart,
  until: ClusterInstant,
  onEvent: (event: ReplayedEvent) => void,
  options: { signal?: AbortSignal; onProgress?: (events: number) => void } = {},
): Promise<ReplayOutcome> {
  const position: ChangeStreamOptions =
    'after' in start
      ? { startAfter: start.after }
      : { startAtOperationTime: timestampOf(start.at) };
  const stream = client.watch([], { ...position, maxAwaitTimeMS: 250 });
  let events = 0;
  let group: ClusterInstant | undefined;
  let n = 0;
  let lastProgressAt = Date.now();
  let reached = '';
  try {
    for (;;) {
      throwIfInterrupted(options.signal);
      const event = (await stream.tryNext()) as Document | null;
      if (event) {
        const at = instantOfTimestamp(event.clusterTime as Timestamp);
        if (compareInstants(at, until) > 0) break;
        n = group && compareInstants(group, at) === 0 ? n + 1 : 0;
        // After a token, the rest of its clusterTime is numbered from 0: unknown.
        const known = !('after' in start) || compareInstants(at, start.at) !== 0;
        group = at;
        events += 1;
        onEvent({
          token: String((event._id as { _data?: unknown })._data),
          at,
          n: known ? n : undefined,
          namespace: namespaceName(event.ns),
          operationType: String(event.operationType),
          documentKey: event.documentKey as Document | undefined,
          event,
        });
        if (events % 10_000 === 0) options.onProgress?.(events);
        lastProgressAt = Date.now();
        continue;
      }
      const scanned = instantOfToken(stream.resumeToken);
      if (scanned && compareInstants(scanned, until) >= 0) break;
      const mark = JSON.stringify(stream.resumeToken ?? null);
      if (mark !== reached) {
        reached = mark;
        lastProgressAt = Date.now();
      } else if (Date.now() - lastProgressAt > REPLAY_STALL_MS) {
        throw new CliError(
          'UNAVAILABLE',
          `The change stream did not reach ${formatInstant(until)} within ${REPLAY_STALL_MS / 1000} s (it stands at ${scanned ? formatInstant(scanned) : 'an unknown point'}). Check that MongoDB is healthy and run verify again.`,
        );
      }
    }
  } catch (error) {
    const code = error instanceof MongoError ? error.code : undefined;
    if (code === HISTORY_LOST || code === RESUME_POINT_GONE)
      return { kind: 'history-lost', reason: (error as Error).message };
    throw error;
  } finally {
    await stream.close().catch(ignoreCloseFailure);
  }
  options.onProgress?.(events);
  return { kind: 'complete', events };
}

/**
 * Closing the replay's cursor can fail when MongoDB went away meanwhile;
 * the server drops an abandoned cursor on its own, and the verdict does not
 * depend on it.
 */
function ignoreCloseFailure(): undefined {
  return undefined;
}
