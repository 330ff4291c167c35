import type { AdlsEmulator, FaultRule } from '@tributary/emulator-adls';

/** How long a fault waits for the request it holds to come. */
export const HOLD_WAIT_MS = 10_000;

/** A partition number as file names carry it: `0005`. */
export function padded(partition: number): string {
  return String(partition).padStart(4, '0');
}

/**
 * Holds the next commit (flush) of one of partition `p`'s data files —
 * `part-<pppp>-<firstKey>.jsonl` — before it is performed, or, at phase
 * `after`, once it is performed but before it is answered.
 */
export function dataFlushHold(partition: number, phase: 'before' | 'after'): FaultRule {
  return {
    operations: ['path.flush'],
    pathContains: `/part-${padded(partition)}-`,
    hold: true,
    phase,
    times: 1,
  };
}

/**
 * Holds the next store of partition `p`'s checkpoint: the rename that makes
 * `_tributary/checkpoints/partition-<pppp>.json` the new checkpoint — before
 * it is performed, or, at phase `after`, once it is stored but before the
 * writer hears so (and so before it acknowledges the batch).
 */
export function checkpointHold(partition: number, phase: 'before' | 'after'): FaultRule {
  return {
    operations: ['path.rename'],
    pathContains: `_tributary/checkpoints/partition-${padded(partition)}.json`,
    hold: true,
    phase,
    times: 1,
  };
}

/** Resolves true once rule `id` fired, false after `timeoutMs` without it. */
export async function untilFired(
  adls: AdlsEmulator,
  id: string,
  timeoutMs = HOLD_WAIT_MS,
): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    const rule = adls.faults.list().find((r) => r.id === id);
    if (rule !== undefined && rule.fired > 0) return true;
    if (Date.now() - started > timeoutMs) return false;
    // Short: the held writer's other partitions go on meanwhile, and so do its leases.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
