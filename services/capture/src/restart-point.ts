import type { CaptureOrigin, PartitionCheckpoint } from '@tributary/checkpoint';
import { type StreamPosition, keyBefore } from '@tributary/core';
import type { Timestamp } from 'bson';

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

function fromOrigin(origin: CaptureOrigin): RestartPoint {
  const at = origin.startAtOperationTime;
  return { at, keyBefore: keyBefore({ t: at.high, i: at.low }) };
}
