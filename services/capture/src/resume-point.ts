import type { CaptureOrigin, PartitionCheckpoint } from '@tributary/checkpoint';
import type { StreamPosition } from '@tributary/core';
import type { Timestamp } from 'bson';

/** Where the change stream starts, and what each partition has already. */
export interface ResumePoint {
  /** Resume after this event (its token) — set when every partition has a checkpoint. */
  readonly after?: StreamPosition;
  /** Otherwise start here (inclusive): capture's origin. */
  readonly startAtOperationTime?: Timestamp;
  /** Per partition, the key it is known to hold up to ('' for none): the first batch's previous key. */
  readonly previousKeys: ReadonlyMap<number, string>;
}

/**
 * The oldest point any partition still needs: the smallest checkpoint
 * position, or capture's origin while some partition has no checkpoint yet.
 * Re-reading from there is harmless — writers drop what they have — and it
 * refills a queue that lost everything.
 */
export function resumePoint(
  checkpoints: ReadonlyMap<number, PartitionCheckpoint>,
  origin: CaptureOrigin,
  partitionCount: number,
): ResumePoint {
  const previousKeys = new Map<number, string>();
  let oldest: StreamPosition | undefined;
  let complete = true;
  for (let p = 0; p < partitionCount; p += 1) {
    const position = checkpoints.get(p)?.position;
    previousKeys.set(p, position?.key ?? '');
    if (!position) complete = false;
    else if (!oldest || position.key < oldest.key) oldest = position;
  }
  return complete && oldest
    ? { after: oldest, previousKeys }
    : { startAtOperationTime: origin.startAtOperationTime, previousKeys };
}
