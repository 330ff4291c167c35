import {
  type StreamPosition,
  clusterTimeOfResumeToken,
  eventTimeOfKey,
  keyBefore,
} from '@tributary/core';
import type { Timestamp } from 'bson';
import type { CaptureOrigin, PartitionCheckpoint } from '../checkpoint-store.ts';

/** Where the change stream (re)starts. */
export type RestartPoint =
  /** After this position (startAfter its token); keys are numbered on from its key. */
  | { readonly after: StreamPosition }
  /** At capture's origin, inclusive; keys are numbered on from the key before it. */
  | { readonly at: Timestamp; readonly keyBefore: string };

/**
 * The oldest point any of `partitions` still needs: the smallest of their
 * checkpoint positions, or capture's origin while one of them has none yet.
 * Re-reading from there is harmless — each partition's line skips what it
 * already has — and it refills a queue that lost batches.
 *
 * Capture restarts here; `tributary status` shows it, so both read it the
 * same way.
 */
export function restartPoint(
  checkpoints: ReadonlyMap<number, PartitionCheckpoint>,
  partitions: Iterable<number>,
  origin: CaptureOrigin,
): RestartPoint {
  let oldest: StreamPosition | undefined;
  for (const partition of partitions) {
    const position = checkpoints.get(partition)?.position;
    if (!position) return fromOrigin(origin);
    if (!oldest || position.key < oldest.key) oldest = position;
  }
  return oldest ? { after: oldest } : fromOrigin(origin);
}

/**
 * The clusterTime a position stands at, in seconds since the epoch: its
 * resume token's, which a heartbeat moves on while no event comes (the
 * stream's postBatchResumeToken), else its key's. For operators and
 * metrics only (a token is opaque by contract; see `clusterTimeOfResumeToken`).
 */
export function timeOfPosition(position: StreamPosition): number {
  return clusterTimeOfResumeToken(position.token) ?? eventTimeOfKey(position.key).getTime() / 1000;
}

/** The clusterTime a restart point stands at, in seconds since the epoch. */
export function timeOfRestartPoint(point: RestartPoint): number {
  return 'after' in point ? timeOfPosition(point.after) : point.at.high;
}

function fromOrigin(origin: CaptureOrigin): RestartPoint {
  const at = origin.startAtOperationTime;
  return { at, keyBefore: keyBefore({ t: at.high, i: at.low }) };
}
