import { decodeBatch, eventTimeOfKey, renderPath } from '@tributary/core';
import { PATH_TEMPLATE } from '../pipeline.ts';
import { partitionQueueKey, withRedis } from './queue-keys.ts';

/** A change event in a queued batch, and where its line belongs in the lake. */
export interface QueuedEvent {
  /** Its resume token's `_data`. */
  readonly token: string;
  readonly key: string;
  /** The directory its namespace and event time give. */
  readonly dir: string;
}

/** A batch waiting in a partition's queue. */
export interface QueuedBatch {
  readonly id: string;
  /** The change events it carries (none for a heartbeat); `undefined` when its body did not decode. */
  readonly events: readonly QueuedEvent[] | undefined;
}

/**
 * Removes a waiting job and its hash in one step, and only if it is still
 * waiting — a job the owner already took (active) is left alone. Returns 1
 * when it removed the job.
 */
const REMOVE_WAITING_JOB = `
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0`;

/**
 * The batches waiting in partition `p`'s queue (its BullMQ wait list),
 * oldest first, each with the number of events it carries — read from the
 * job's data (`body`, base64 of the encoded batch) with the same decoder the
 * writers use.
 */
export async function waitingBatches(
  redisUrl: string,
  queueName: string,
  partitionCount: number,
  partition: number,
): Promise<QueuedBatch[]> {
  return withRedis(redisUrl, async (redis) => {
    // BullMQ adds at the head (LPUSH) and takes from the tail: oldest last.
    const ids = (
      await redis.lrange(partitionQueueKey(queueName, partition, 'wait'), 0, -1)
    ).reverse();
    const batches: QueuedBatch[] = [];
    for (const id of ids) {
      const data = await redis.hget(partitionQueueKey(queueName, partition, id), 'data');
      batches.push({ id, events: eventsIn(data, partitionCount) });
    }
    return batches;
  });
}

/**
 * Deletes one waiting batch of partition `p`, as a queue that loses a
 * message does (Service Bus expiring it, Redis restarted from a stale file):
 * a gap in the partition's chain of batches, with no change of queue epoch.
 * Returns false when the batch was no longer waiting.
 */
export async function deleteWaitingBatch(
  redisUrl: string,
  queueName: string,
  partition: number,
  id: string,
): Promise<boolean> {
  return withRedis(redisUrl, async (redis) => {
    const removed = await redis.eval(
      REMOVE_WAITING_JOB,
      2,
      partitionQueueKey(queueName, partition, 'wait'),
      partitionQueueKey(queueName, partition, id),
      id,
    );
    return removed === 1;
  });
}

/** The events a job's data carries; `undefined` when it is not a batch this harness can read. */
function eventsIn(data: string | null, partitionCount: number): QueuedEvent[] | undefined {
  if (data === null) return undefined;
  let body: unknown;
  try {
    ({ body } = JSON.parse(data) as { body?: unknown });
  } catch (error) {
    // Only the description of the batch suffers; the fault is injected all the same.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (typeof body !== 'string') return undefined;
  return eventsOfBody(Buffer.from(body, 'base64'), partitionCount);
}

/**
 * The change events an encoded batch carries, decoded with the writers'
 * own decoder; `undefined` when it is not a batch this harness can read.
 */
export function eventsOfBody(body: Uint8Array, partitionCount: number): QueuedEvent[] | undefined {
  try {
    const batch = decodeBatch(body, partitionCount);
    return batch.events.flatMap((entry) => {
      // A claim-checked event's payload waits in the lake; the harness's load never makes one.
      if (!('event' in entry)) return [];
      const { key, event } = entry;
      const ns = event.ns as { db?: string; coll?: string } | undefined;
      if (!ns?.db || !ns.coll) return [];
      const dir = renderPath(PATH_TEMPLATE, {
        db: ns.db,
        coll: ns.coll,
        eventTime: eventTimeOfKey(key),
      });
      return [{ token: String((event._id as { _data?: unknown })._data), key, dir }];
    });
  } catch (error) {
    // Only the description of the batch suffers; the fault is injected all the same.
    if ((error as { code?: string }).code === 'BATCH_INVALID') return undefined;
    throw error;
  }
}
