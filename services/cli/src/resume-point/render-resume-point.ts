import { formatDuration } from '../output/table.ts';
import type { PointReport, PointTime, ResumePointReport } from './resume-point-report.ts';

const LABEL = 14;

/** `tributary resume-point show` for people: one labelled block per subject, then a hint. */
export function renderResumePoint(report: ResumePointReport): string {
  const lines: string[] = [];
  const block = (label: string, ...texts: string[]) =>
    texts.forEach((text, i) => lines.push(`${(i === 0 ? label : '').padEnd(LABEL)}${text}`));
  const point = report.resumePoint;
  if (!point) block('Resume point', 'none: capture has not started yet (no origin stored)');
  else {
    block('Resume point', ...pointLines(point));
    const without = report.ofCheckpoints;
    if (without)
      block(
        '',
        `without the move: ${without.reads === 'after' ? `after ${without.key}` : `from ${shortTime(without.clusterTime.at)}`}, ${whereText(without)}, ${timeText(without.clusterTime)}`,
      );
  }
  const override = report.override;
  if (!override) block('Override', 'none');
  else {
    block(
      'Override',
      `${override.kind}, set ${shortTime(override.setAt)}, ${
        override.state === 'passed'
          ? override.kind === 'gap'
            ? 'passed: every checkpoint is past it; it changes nothing any more'
            : 'passed: the checkpoints moved on since it was set (it was re-read); it changes nothing any more'
          : override.kind === 'gap'
            ? 'pending: capture starts there, and re-reads never go back before it'
            : 'pending: capture re-reads from there once, then clears it'
      }`,
      `from  ${override.from.key}, ${timeText(override.from.clusterTime)}`,
      `to    ${timeText(override.to.clusterTime)}, inclusive`,
      `marker ${override.marker}`,
    );
  }
  const capture = report.capture;
  block(
    'Capture',
    !capture
      ? 'not running (no presence record)'
      : capture.running
        ? `running: ${capture.captureId} reported ${formatDuration(Math.max(0, capture.agoMs))} ago`
        : `not running: ${capture.captureId} last reported ${formatDuration(capture.agoMs)} ago (stopped without removing its record, or crashed)`,
  );
  const oplog = report.oplog;
  if (!oplog) block('Oplog', report.oplogNote ?? 'unknown');
  else {
    const span = Date.parse(oplog.last) - Date.parse(oplog.first);
    block(
      'Oplog',
      `${shortTime(oplog.first)} … ${shortTime(oplog.last)} (${formatDuration(span)})${oplog.headroomPercent === null ? '' : `; resume point at ${oplog.headroomPercent} % of it (0 % = oldest entry)`}`,
    );
    if (oplog.headroomPercent !== null && oplog.headroomPercent < 0)
      lines.push(
        '',
        `! The resume point is older than the oldest oplog entry: the history capture needs is gone, and capture stops with a history-lost error. To accept the gap, move it with 'tributary resume-point set --time <a time after ${shortTime(oplog.first)}>' (stop capture first; see --help).`,
      );
  }
  return lines.join('\n');
}

/** How a point is read, when, and its token. */
function pointLines(point: PointReport): string[] {
  const how =
    point.reads === 'after'
      ? `after ${point.key}, ${whereText(point)}`
      : `from ${shortTime(point.clusterTime.at)} inclusive, ${whereText(point)}`;
  return [
    how,
    `${timeText(point.clusterTime)}, ${formatDuration(point.clusterTime.agoMs)} ago`,
    ...(point.token ? [`token ${JSON.stringify(point.token)}`] : []),
  ];
}

function whereText(point: PointReport): string {
  if (point.source === 'override') return 'where an operator moved it';
  return point.source === 'origin'
    ? "capture's origin (a partition has no checkpoint yet)"
    : `partition ${point.partition}'s checkpoint`;
}

/** A clusterTime for people: the second, and the exact Timestamp. */
export function timeText(time: Pick<PointTime, 'at' | 't' | 'i'>): string {
  return `${shortTime(time.at)} (Timestamp ${time.t}, ${time.i})`;
}

/** An ISO instant to the second. */
export function shortTime(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}
