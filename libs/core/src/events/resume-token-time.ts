import type { ClusterTimeLike } from './ordering-key.ts';

/**
 * The clusterTime a change stream resume token stands at, in seconds since
 * the epoch, or `undefined` for a token of another shape (see
 * {@link clusterTimestampOfResumeToken}).
 */
export function clusterTimeOfResumeToken(token: unknown): number | undefined {
  return clusterTimestampOfResumeToken(token)?.t;
}

/**
 * The clusterTime a change stream resume token stands at — seconds and
 * increment — or `undefined` for a token of another shape.
 *
 * Resume tokens are opaque by contract, but since MongoDB 3.6 a token's
 * `_data` is a hex KeyString that starts with the type byte `0x82`
 * (Timestamp) followed by the clusterTime's seconds and increment, big
 * endian — which is how Debezium reads the time of a stored offset. Metrics
 * use it (the resume point's age and its headroom in the oplog), and so
 * does the choice between a resume point and an operator's floor, where
 * reading from either one is safe (see `withResumeOverride` in
 * `@tributary/checkpoint`): nothing that could lose or repeat an event
 * depends on it.
 *
 * @see https://github.com/mongodb/mongo/blob/master/src/mongo/db/pipeline/resume_token.h
 */
export function clusterTimestampOfResumeToken(token: unknown): ClusterTimeLike | undefined {
  const data = (token as { _data?: unknown } | null | undefined)?._data;
  if (typeof data !== 'string' || !/^82[0-9a-f]{16}/i.test(data)) return undefined;
  return {
    t: Number.parseInt(data.slice(2, 10), 16),
    i: Number.parseInt(data.slice(10, 18), 16),
  };
}
