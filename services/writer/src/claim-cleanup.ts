import { type Logger, claimDirectory, keyOfClaimPath } from '@tributary/core';
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
 * checkpoint at `coveredKey` covers: they are in the lake (or in the dead
 * letters, which keep the batch, not the staged copy), and a re-sent batch
 * that names them again is dropped before it is read. With `paths`, just
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
