import type { CaptureOrigin, CheckpointStore } from '@tributary/checkpoint';
import type { DependencyWaiter } from '@tributary/telemetry';
import type { Timestamp } from 'bson';
import type { MongoClient } from 'mongodb';
import { CaptureError } from './capture-error.ts';
import { classifyStreamError } from './stream-errors.ts';

/**
 * Capture's origin: the cluster time of its first start, stored then, so
 * that partitions without checkpoints start there on every later start.
 * Outages of MongoDB and of the checkpoint store are waited out through
 * `deps`.
 *
 * @throws CaptureError `NOT_A_REPLICA_SET` when MongoDB reports no operation time.
 */
export async function captureOrigin(
  client: MongoClient,
  checkpoints: CheckpointStore,
  deps: DependencyWaiter,
): Promise<CaptureOrigin> {
  const stored = await deps.untilDone('checkpoint store', () => checkpoints.readOrigin());
  if (stored) return stored;
  const hello = await deps.untilDone(
    'mongodb',
    () => client.db('admin').command({ ping: 1 }),
    classifyStreamError,
  );
  const operationTime = hello.operationTime as Timestamp | undefined;
  if (!operationTime) {
    throw new CaptureError(
      'NOT_A_REPLICA_SET',
      'MongoDB did not report an operation time: change streams need a replica set or sharded cluster. Point MONGODB_URI at one (for a single server, start it with --replSet).',
    );
  }
  return deps.untilDone('checkpoint store', () =>
    checkpoints.writeOriginIfAbsent({ startAtOperationTime: operationTime, createdAt: new Date() }),
  );
}
