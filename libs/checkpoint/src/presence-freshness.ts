import type { CapturePresence } from './checkpoint-store.ts';

/** How often a running capture refreshes its presence record. */
export const PRESENCE_INTERVAL_MS = 5_000;

/**
 * A presence record younger than this says capture runs: three intervals,
 * so that a refresh or two lost to a slow store, and clocks a few seconds
 * apart, still count as running.
 */
export const PRESENCE_FRESH_MS = 3 * PRESENCE_INTERVAL_MS;

/**
 * How long ago the capture reported, by the reader's clock (below 0 when
 * the capture's clock is ahead).
 */
export function presenceAgeMs(presence: CapturePresence, now: number): number {
  return now - presence.reportedAt.getTime();
}

/** Whether the record says a capture runs now (see {@link PRESENCE_FRESH_MS}). */
export function isPresenceFresh(presence: CapturePresence | undefined, now: number): boolean {
  return presence !== undefined && presenceAgeMs(presence, now) < PRESENCE_FRESH_MS;
}
