import {
  type ResumeOverride,
  captureResumePoint,
  clusterTimeOfRestartPoint,
  partitionsBefore,
  resumeMarkerPath,
  resumeMoveKind,
  writeResumeMarker,
} from '@tributary/checkpoint';
import { EJSON } from 'bson';
import { CliError, EXIT } from '../cli-error.ts';
import type { CommandArgs, CommandContext } from '../command.ts';
import { isUnreadable } from '../status/status-report.ts';
import { type ResumePointInputs, readResumePoint } from './read-resume-point.ts';
import { refuseWhileCaptureRuns, presenceChanged } from './refuse-while-capture-runs.ts';
import { pointReport, pointTime } from './resume-point-report.ts';
import { shortTime, timeText } from './render-resume-point.ts';
import { type ResumeTarget, resumeTarget } from './resume-target.ts';

/**
 * `tributary resume-point set --time ISO | --token T [--yes]`: moves
 * capture's resume point while capture is stopped. Every refusal — usage,
 * a capture that runs, a point outside the oplog, no confirmation — comes
 * before anything is written; then the marker is written to the lake and
 * the override stored (see `moveResumePoint`); a failure between the two
 * says that the marker was written and the move not stored (exit 69).
 */
export async function setResumePoint(ctx: CommandContext, args: CommandArgs): Promise<number> {
  const target = resumeTarget(args, ctx.now());
  const inputs = await readResumePoint(ctx);
  const { origin, now } = inputs;
  if (!origin)
    throw new CliError(
      'NOT_FOUND',
      'Capture has never started: there is no resume point to move. Start capture; it begins where MongoDB stands when it first starts.',
    );
  refuseOutsideTheOplog(inputs, target);
  const checked = await refuseWhileCaptureRuns(ctx, inputs.presence, now);

  // Relative to the checkpoints, not to an earlier override: the new one replaces it.
  const current = captureResumePoint(inputs.checkpoints, inputs.partitionCount, origin, undefined);
  const from = current.ofCheckpoints;
  const fromReport = pointReport(from, current.ofCheckpointsSource, now);
  const override: ResumeOverride = {
    kind: resumeMoveKind(from, target.clusterTime),
    to: { clusterTime: target.clusterTime, ...(target.token ? { token: target.token } : {}) },
    from: {
      key: fromReport.key,
      clusterTime: clusterTimeOfRestartPoint(from),
      ...('after' in from ? { token: from.after.token } : {}),
    },
    setAt: new Date(now),
  };
  const behind =
    override.kind === 'gap'
      ? partitionsBefore(inputs.checkpoints, inputs.partitionCount, origin, target.clusterTime)
      : [];
  const toTime = pointTime(target.clusterTime, now);
  const plan = [
    "Move capture's resume point",
    `  from  ${fromReport.source === 'origin' ? "capture's origin" : `partition ${fromReport.partition}'s checkpoint ${fromReport.key}`}, ${timeText(fromReport.clusterTime)}`,
    `  to    ${timeText(toTime)}, inclusive`,
    '',
    override.kind === 'gap'
      ? `This is a GAP: capture never reads the events after ${shortTime(fromReport.clusterTime.at)} and before ${shortTime(toTime.at)}. Those not already on the queue never reach the lake, for partition${behind.length === 1 ? '' : 's'} ${behind.join(', ')} (whose checkpoints stand before the new point); a marker at ${resumeMarkerPath(override.setAt)} tells readers of the lake. Capture never reads before the new point again, even when a writer reports lost batches.`
      : `This is an OVERLAP: capture re-reads from ${shortTime(toTime.at)} once. Writers drop every event their checkpoints cover, so nothing is written twice${inputs.override?.kind === 'gap' ? ', and nothing a past gap skipped after the checkpoints passed it is filled in' : ''}.`,
    ...(inputs.override
      ? [
          `It replaces the ${inputs.override.kind} set ${inputs.override.setAt.toISOString()} (to ${timeText(pointTime(inputs.override.to.clusterTime, now))}).`,
        ]
      : []),
    ...(inputs.oplog === 'not-configured'
      ? [
          'Not checked against the oplog window: set MONGODB_URI to check that MongoDB still has it.',
        ]
      : isUnreadable(inputs.oplog)
        ? [
            `Not checked against the oplog window, which could not be read: ${inputs.oplog.unreadable}`,
          ]
        : []),
  ].join('\n');
  // With --json, standard output holds the result document alone.
  if (ctx.json) ctx.out.warn(plan);
  else ctx.out.print(plan);
  if (args.values.yes !== true && !(await ctx.confirm('Move the resume point?')))
    throw new CliError(
      'UNSAFE',
      'Nothing was changed: not confirmed. Answer y when asked, or pass --yes (needed where there is no terminal to ask on).',
    );

  // The two steps of `moveResumePoint`, in its order, so that a failure
  // after the marker is said as what it is: not "nothing was changed".
  const checkpoints = await ctx.systems.checkpoints();
  const marker = await writeResumeMarker({
    lake: await ctx.systems.lake(),
    override,
    partitionsBehind: behind,
  });
  try {
    await checkpoints.writeResumeOverride(override);
  } catch (error) {
    throw new CliError(
      'UNAVAILABLE',
      `The marker at ${marker} was written, but the move was NOT stored (${error instanceof Error ? error.message : String(error)}): capture resumes where it did before. Run the same command again once the checkpoint store answers: a second marker is harmless, and the later one stands.`,
      { cause: error },
    );
  }
  // A capture that started between the check and the move did not see it.
  // Judged by a change of the record, not its age: the clocks may differ.
  const presence = await checkpoints.readPresence();
  const lateCapture = presenceChanged(checked, presence) ? presence : undefined;
  if (lateCapture)
    ctx.out.warn(
      `Capture ${lateCapture.captureId} started meanwhile and resumes where it read before the move: stop it and start it again to apply the move.`,
    );
  if (ctx.json)
    ctx.out.print(
      JSON.stringify(
        {
          moved: true,
          kind: override.kind,
          from: fromReport,
          to: {
            clusterTime: toTime,
            ...(target.token ? { token: EJSON.serialize(target.token, { relaxed: true }) } : {}),
          },
          setAt: override.setAt.toISOString(),
          marker,
          ...(override.kind === 'gap' ? { partitions: behind } : {}),
        },
        null,
        2,
      ),
    );
  else
    ctx.out.print(
      [
        `Moved: marker written to ${marker}, override stored.`,
        override.kind === 'gap'
          ? `Capture starts at ${shortTime(toTime.at)} when it next starts. Start it now.`
          : `Capture re-reads from ${shortTime(toTime.at)} when it next starts, then goes on as before. Start it now.`,
      ].join('\n'),
    );
  return EXIT.ok;
}

/** Refuses a point MongoDB no longer has: capture could not start there. */
function refuseOutsideTheOplog({ oplog }: ResumePointInputs, target: ResumeTarget): void {
  if (oplog === 'not-configured' || oplog === 'empty' || isUnreadable(oplog)) return;
  // The window is known to the second: the oldest second may already be partly gone.
  if (target.clusterTime.t > oplog.first) return;
  throw new CliError(
    'UNSAFE',
    `${shortTime(new Date(target.clusterTime.t * 1000).toISOString())} is not after the oldest oplog entry (${shortTime(new Date(oplog.first * 1000).toISOString())}): MongoDB no longer has that history and capture could not start there. Nothing was changed. Choose a later time, with a margin: the oplog drops its oldest entries as it fills.`,
  );
}
