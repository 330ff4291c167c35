import { clusterTimestampOfResumeToken } from '@tributary/core';
import { Timestamp } from 'bson';

/** A clusterTime: seconds and increment, ordered as MongoDB orders them. */
export interface ClusterInstant {
  readonly t: number;
  readonly i: number;
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function compareInstants(a: ClusterInstant, b: ClusterInstant): number {
  return a.t - b.t || a.i - b.i;
}

export function earliest(
  a: ClusterInstant | undefined,
  b: ClusterInstant | undefined,
): ClusterInstant | undefined {
  if (!a) return b;
  if (!b) return a;
  return compareInstants(a, b) <= 0 ? a : b;
}

/** A BSON Timestamp (the driver's `clusterTime`, `operationTime`) as an instant. */
export function instantOfTimestamp(timestamp: Timestamp): ClusterInstant {
  return { t: timestamp.high >>> 0, i: timestamp.low >>> 0 };
}

export function timestampOf(instant: ClusterInstant): Timestamp {
  return new Timestamp({ t: instant.t, i: instant.i });
}

/**
 * The clusterTime a resume token stands at (see `clusterTimestampOfResumeToken`
 * in `@tributary/core` for how tokens are read). `tributary verify` uses it
 * to know when a replayed stream has passed a point and how far a
 * checkpoint's token reaches; a token of another shape is used for neither.
 */
export function instantOfToken(token: unknown): ClusterInstant | undefined {
  return clusterTimestampOfResumeToken(token);
}

/** An instant for people: the UTC second, and the increment when there is one. */
export function formatInstant(instant: ClusterInstant): string {
  const time = new Date(instant.t * 1000).toISOString().replace(/\.000Z$/, 'Z');
  return instant.i > 0 ? `${time} (#${instant.i})` : time;
}
