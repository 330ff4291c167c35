import {
  type RestartPoint,
  type ResumeOverride,
  resumeOverrideApplies,
  withResumeOverride,
} from '@tributary/checkpoint';
import type { Logger } from '@tributary/core';

/**
 * Where capture's first read starts: the checkpoints' restart point, moved
 * by the operator's override where it applies (`tributary resume-point
 * set`), said in the log. A gap stays stored as a floor for later starts
 * and rewinds; an overlap is for this start only, and the caller clears it
 * once the stream has answered (`clearOnceReading`). That clear is a
 * tidy-up: an overlap the checkpoints moved on from is passed whether or
 * not it was cleared (see `resumeOverrideApplies`).
 */
export function honourOverride(
  point: RestartPoint,
  override: ResumeOverride | undefined,
  logger: Logger,
): { readonly start: RestartPoint; readonly clearOnceReading: boolean } {
  if (!override || !resumeOverrideApplies(point, override, 'start')) {
    // Its clear failed when it was honoured: said, since the store still shows it.
    if (override?.kind === 'overlap')
      logger.info(
        { to: override.to.clusterTime.toString(), from: override.from.key },
        'an operator’s overlap is still stored but passed: the checkpoints moved on since it was set, so it is not re-read',
      );
    return { start: point, clearOnceReading: false };
  }
  logger.warn(
    {
      kind: override.kind,
      to: override.to.clusterTime.toString(),
      from: override.from.key,
      setAt: override.setAt.toISOString(),
    },
    override.kind === 'gap'
      ? 'starting where an operator moved the resume point: the events between the checkpoints and it are not read (see the marker under _tributary/markers)'
      : 'starting at the earlier point an operator moved the resume point to: re-reading what writers already have, which they drop',
  );
  return {
    start: withResumeOverride(point, override, 'start'),
    clearOnceReading: override.kind === 'overlap',
  };
}
