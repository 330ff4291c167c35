import { type CapturedEvent, claimPath, encodeClaim } from '@tributary/core';
import { type Lake, isLakeError } from '@tributary/lake';

/** Where capture puts events too large for one message. */
export interface ClaimStager {
  /** Stages the event and resolves with its claim path (see `claimPath`). */
  stage(partition: number, captured: CapturedEvent): Promise<string>;
}

/**
 * Claim checks in the lake: the change event is written (BSON, every type
 * exact) at its deterministic path under `_tributary/claims/`, once — an
 * event read again after a rewind finds its copy there and keeps it. The
 * writer that writes the event removes the copy once a checkpoint covers it.
 */
export function lakeClaimStager(lake: Lake): ClaimStager {
  return {
    async stage(partition, captured) {
      const path = claimPath(partition, captured.key);
      try {
        await lake.writeDocument(path, encodeClaim(captured.event), { ifAbsent: true });
      } catch (error) {
        // Staged already (an earlier read of the same event): that copy serves.
        if (!isLakeError(error) || error.code !== 'CONFLICT') throw error;
      }
      return path;
    },
  };
}
