import {
  type CapturePresence,
  PRESENCE_FRESH_MS,
  PRESENCE_INTERVAL_MS,
  isPresenceFresh,
  presenceAgeMs,
} from '@tributary/checkpoint';
import { CliError } from '../cli-error.ts';
import type { CommandContext } from '../command.ts';
import { formatDuration } from '../output/table.ts';

/**
 * How long past one presence interval to wait before reading a
 * stale-looking record again: a refresh may be late by a slow store write.
 */
export const PRESENCE_RECHECK_MARGIN_MS = PRESENCE_INTERVAL_MS / 2;

/**
 * Refuses while a capture runs: it would not see the move, or see it
 * half-way. Returns the presence record last read (for a later look at
 * whether a capture started meanwhile, see {@link presenceChanged}).
 *
 * A record's age is capture's clock (`reportedAt`) against this machine's,
 * so a record that looks stale may be a running capture whose clock is
 * behind. A fresh-looking one refuses at once; a stale-looking one is read
 * again after one presence interval and a margin: a running capture has
 * reported meanwhile, whatever its clock says.
 */
export async function refuseWhileCaptureRuns(
  ctx: CommandContext,
  presence: CapturePresence | undefined,
  now: number,
): Promise<CapturePresence | undefined> {
  if (!presence) return undefined;
  const ago = presenceAgeMs(presence, now);
  if (isPresenceFresh(presence, now))
    throw new CliError(
      'UNSAFE',
      `Capture ${presence.captureId} is running (it reported ${formatDuration(Math.max(0, ago))} ago). Nothing was changed. Stop capture first, then run this again. If it crashed, wait until its last report is ${formatDuration(PRESENCE_FRESH_MS)} old (${formatDuration(Math.max(0, PRESENCE_FRESH_MS - ago))} from now).`,
    );
  const waitMs = PRESENCE_INTERVAL_MS + PRESENCE_RECHECK_MARGIN_MS;
  ctx.out.warn(
    `Capture ${presence.captureId} last reported ${formatDuration(ago)} ago by this machine's clock. Waiting ${formatDuration(waitMs)} (one presence interval and a margin) to see whether it reports again: its clock may be behind this one's.`,
  );
  await ctx.sleep(waitMs);
  if (ctx.signal.aborted)
    throw new CliError('UNSAFE', 'Interrupted while waiting. Nothing was changed.');
  const again = await (await ctx.systems.checkpoints()).readPresence();
  if (presenceChanged(presence, again))
    throw new CliError(
      'UNSAFE',
      `Capture ${again?.captureId} is running: it reported again while this command waited ${formatDuration(waitMs)}, although its last report looked ${formatDuration(ago)} old (capture's clock is behind this machine's). Nothing was changed. Stop capture first, then run this again.`,
    );
  ctx.out.warn(
    `It did not report again in ${formatDuration(waitMs)}: capture ${presence.captureId} is not running.`,
  );
  return again;
}

/** Whether the presence record differs from the one read before: a capture reported since. */
export function presenceChanged(
  before: CapturePresence | undefined,
  after: CapturePresence | undefined,
): after is CapturePresence {
  return (
    after !== undefined &&
    (before === undefined ||
      after.captureId !== before.captureId ||
      after.reportedAt.getTime() !== before.reportedAt.getTime())
  );
}
