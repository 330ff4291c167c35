import {
  type ChangeBatch,
  type Logger,
  claimDirectory,
  deadLetteredClaimPath,
  isClaimed,
  keyOfClaimPath,
} from '@tributary/core';
import { isLakeError } from '@tributary/lake';
import type { Lake } from '@tributary/lake';
import { messageOf } from './failure-class.ts';

/** What removing staged claim-checked events needs. */
export interface ClaimCleanupContext {
  readonly partition: number;
  readonly lake: Lake;
  readonly logger: Logger;
}

/**
 * Removes staged claim-checked events of the partition that a stored
 * checkpoint at `coveredKey` covers: they are in the lake, or kept for the
 * dead letters ({@link keepDeadLetteredClaims}), and a re-sent batch that
 * names them again is dropped before it is read. With `paths`, just
 * those; without, every staged event of the partition (a sweep on takeover,
 * for what an owner that died after its checkpoint left behind).
 *
 * Best effort: what stays behind is removed by the next sweep, and costs
 * only storage meanwhile.
 */
export async function cleanUpClaims(
  context: ClaimCleanupContext,
  coveredKey: string,
  paths?: readonly string[],
): Promise<void> {
  const { lake, logger, partition } = context;
  try {
    const candidates: string[] = [];
    if (paths) candidates.push(...paths);
    else
      for await (const entry of lake.list(claimDirectory(partition))) candidates.push(entry.path);
    for (const path of candidates) {
      const key = keyOfClaimPath(path, partition);
      if (key !== undefined && key <= coveredKey) await lake.delete(path);
    }
  } catch (error) {
    logger.warn(
      { partition, err: messageOf(error) },
      'could not remove staged claim-checked events yet; the next takeover sweeps them',
    );
  }
}

/**
 * Keeps the staged events of a batch going to the dead letters, for those
 * of its events that are not in the lake: copied to
 * `deadLetteredClaimPath(path)` before the batch is dead-lettered, since the
 * checkpoint then moves past them and the staged copies are removed. A copy
 * already there (an earlier attempt) is kept; a staged event that is gone
 * is what the dead letter's reason says.
 */
export async function keepDeadLetteredClaims(
  context: ClaimCleanupContext,
  batch: ChangeBatch,
  eventsInLake: ReadonlySet<string>,
): Promise<void> {
  for (const entry of batch.events) {
    if (!isClaimed(entry) || eventsInLake.has(entry.key)) continue;
    let data: Uint8Array;
    try {
      data = await context.lake.read(entry.claim);
    } catch (error) {
      if (isLakeError(error) && error.code === 'NOT_FOUND') continue;
      throw error;
    }
    try {
      await context.lake.writeDocument(deadLetteredClaimPath(entry.claim), data, {
        ifAbsent: true,
      });
    } catch (error) {
      if (!isLakeError(error) || error.code !== 'CONFLICT') throw error;
    }
  }
}
