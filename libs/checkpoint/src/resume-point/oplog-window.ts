import type { Timestamp } from 'bson';
import type { MongoClient } from 'mongodb';

/** The oplog's time window: its oldest and newest entries, in seconds since the epoch. */
export interface OplogBounds {
  readonly first: number;
  readonly last: number;
}

/**
 * Reads the oplog's first and last entries (`local.oplog.rs` in natural
 * order, one entry each, as `rs.printReplicationInfo()` does), or
 * `undefined` for an empty oplog.
 *
 * @throws the driver's error where the source refuses: the user lacks
 *   `read` on the `local` database, or a mongos answers (a sharded
 *   cluster's oplogs are its shards').
 * @see https://www.mongodb.com/docs/manual/reference/method/rs.printReplicationInfo/
 */
export async function readOplogBounds(client: MongoClient): Promise<OplogBounds | undefined> {
  const oplog = client.db('local').collection('oplog.rs');
  const end = async (direction: 1 | -1) => {
    const [entry] = await oplog
      .find({}, { sort: { $natural: direction }, limit: 1, projection: { ts: 1 } })
      .toArray();
    return (entry?.ts as Timestamp | undefined)?.getHighBitsUnsigned();
  };
  const [first, last] = [await end(1), await end(-1)];
  return first === undefined || last === undefined ? undefined : { first, last };
}

/**
 * Where a resume point at `time` (seconds) stands in the oplog window, as a
 * share: 0 at the oldest entry (the next entries the oplog drops are the
 * ones capture still needs), 1 at or past the newest; below 0 when the
 * window has moved past it (history lost). A window of no width (every
 * entry in one second) counts as full headroom for a point in or after it,
 * and as lost (-1) for a point before it.
 */
export function headroomIn(bounds: OplogBounds, time: number): number {
  const span = bounds.last - bounds.first;
  if (span <= 0) return time < bounds.first ? -1 : 1;
  return Math.min(1, (time - bounds.first) / span);
}
