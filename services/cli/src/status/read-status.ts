import { readOplogBounds } from '@tributary/checkpoint';
import { isTributaryError } from '@tributary/core';
import type { BatchPublisher } from '@tributary/queue';
import { MongoServerError } from 'mongodb';
import type { CommandContext } from '../command.ts';
import type { StatusInputs, Unreadable } from './status-report.ts';

/**
 * Reads what one round of `tributary status` shows. The checkpoints are
 * its core: when they cannot be read the round fails. The queue and the
 * source are read alongside; a part that fails is reported as unreadable
 * (with why) and the rest is still shown.
 *
 * @param publisher one publisher for every round (Service Bus opens a sender per publisher).
 */
export async function readStatus(
  ctx: CommandContext,
  publisher: BatchPublisher,
): Promise<StatusInputs> {
  const { config, systems } = ctx;
  const transport = systems.transport();
  const partitionCount = config.partitionCount;
  const [owners, backlog, deadLetters, oplog, stored] = await Promise.all([
    readingOf(() => transport.owners()),
    publisher.backlog
      ? readingOf(() => (publisher.backlog as () => Promise<number>)())
      : ('uncounted' as const),
    readingOf(() => transport.deadLetters().count()),
    config.mongodbUri
      ? readingOf(async () => (await readOplogBounds(await systems.mongo())) ?? ('empty' as const))
      : ('not-configured' as const),
    systems
      .checkpoints()
      .then((checkpoints) =>
        Promise.all([
          checkpoints.readAllPartitions(partitionCount),
          checkpoints.readGaps(),
          checkpoints.readOrigin(),
          checkpoints.readResumeOverride(),
        ]),
      ),
  ]);
  const [checkpoints, gaps, origin, override] = stored;
  return {
    now: ctx.now(),
    transport: config.transport,
    partitionCount,
    checkpoints,
    gaps,
    origin,
    ...(override ? { override } : {}),
    owners,
    backlog,
    deadLetters,
    oplog,
    headroomWarnPercent: config.headroomWarnPercent,
  };
}

/** The value, or why it could not be read: unreachable, or refused (MongoDB's rights on `local`). */
export async function readingOf<T>(read: () => Promise<T>): Promise<T | Unreadable> {
  try {
    return await read();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof MongoServerError)
      return {
        unreadable: `${message} (grant the user read on the local database of a replica set member; a mongos cannot tell)`,
        unavailable: false,
      };
    return { unreadable: message, unavailable: !isTributaryError(error) || error.retryable };
  }
}
