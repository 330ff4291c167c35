import { parseOrderingKey } from '@tributary/core';
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

/** The clusterTime an ordering key was derived from. */
export function instantOfKey(key: string): ClusterInstant | undefined {
  const parts = parseOrderingKey(key);
  return parts ? { t: parts.t, i: parts.i } : undefined;
}

/** A BSON Timestamp (the driver's `clusterTime`, `operationTime`) as an instant. */
export function instantOfTimestamp(timestamp: Timestamp): ClusterInstant {
  return { t: timestamp.high >>> 0, i: timestamp.low >>> 0 };
}

export function timestampOf(instant: ClusterInstant): Timestamp {
  return new Timestamp({ t: instant.t, i: instant.i });
}

/**
 * The clusterTime a resume token stands at. Tokens are opaque by contract,
 * but since MongoDB 3.6 `_data` is a hex KeyString starting with the type
 * byte 0x82 (Timestamp) and the clusterTime's seconds and increment, big
 * endian (see `clusterTimeOfResumeToken` in `@tributary/core`, which reads
 * the seconds only). `tributary verify` uses it to know when a replayed
 * stream has passed a point and how far a checkpoint's token reaches; a
 * token of another shape is simply not used for either.
 */
export function instantOfToken(token: unknown): ClusterInstant | undefined {
  const data = (token as { _data?: unknown } | null | undefined)?._data;
  if (typeof data !== 'string' || !/^82[0-9a-f]{16}/i.test(data)) return undefined;
  return {
    t: Number.parseInt(data.slice(2, 10), 16),
    i: Number.parseInt(data.slice(10, 18), 16),
  };
}

/** An instant for people: the UTC second, and the increment when there is one. */
export function formatInstant(instant: ClusterInstant): string {
  const time = new Date(instant.t * 1000).toISOString().replace(/\.000Z$/, 'Z');
  return instant.i > 0 ? `${time} (#${instant.i})` : time;
}
