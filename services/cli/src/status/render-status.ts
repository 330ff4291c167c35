import { type Cell, formatDuration, renderTable } from '../output/table.ts';
import type { PartitionStatus, StatusReport } from './status-report.ts';

/**
 * The status for people: one table of partitions, then the queue, capture
 * and the oplog one line each, then the warnings with what to do.
 */
export function renderStatus(report: StatusReport): string {
  const { transport, capture } = report;
  const lines = [
    `Partitions (${transport.name}, ${transport.partitionCount}) at ${shortTime(report.at)}`,
    renderTable(
      ['PART', 'OWNER', 'CHECKPOINT KEY', 'CLUSTER TIME', 'LAG', 'CHECKPOINTED', 'OPEN', 'GAP'],
      report.partitions.map(partitionRow),
    ),
    '',
    `Queue         backlog ${transport.backlog ?? transport.backlogNote ?? '-'} · dead letters ${transport.deadLetters ?? 'unknown'}${transport.ownersNote ? ` · ${transport.ownersNote}` : ''}`,
    `Resume point  ${resumePointText(report)}`,
    `Oplog         ${oplogText(report)}`,
  ];
  if (report.warnings.length > 0) {
    lines.push('', 'Warnings:', ...report.warnings.map((w) => `  ! ${w.message}`));
  }
  if (capture.resumePoint === null)
    lines.push('', 'Capture has not started yet: no origin stored.');
  return lines.join('\n');
}

function partitionRow(p: PartitionStatus): Cell[] {
  const checkpoint = p.checkpoint;
  return [
    p.partition,
    ownerText(p),
    checkpoint?.key ?? (checkpoint ? '(claimed, no batch yet)' : 'none'),
    checkpoint?.clusterTime ? shortTime(checkpoint.clusterTime.at) : undefined,
    p.lagMs === null ? undefined : formatDuration(p.lagMs),
    checkpoint ? `${formatDuration(checkpoint.updatedAt.agoMs)} ago` : undefined,
    p.openFiles.length,
    p.gap ? `after ${p.gap.afterKey}` : undefined,
  ];
}

/** The holder, or who checkpointed last where nobody (known) holds the partition. */
function ownerText(p: PartitionStatus): string {
  if (p.owner) return p.owner.writerId;
  return p.lastCheckpointBy ? `none (last checkpoint by ${p.lastCheckpointBy})` : 'none';
}

function resumePointText(report: StatusReport): string {
  const point = report.capture.resumePoint;
  if (!point) return 'unknown (capture has not started)';
  const when = `${shortTime(point.clusterTime.at)}, ${formatDuration(point.clusterTime.agoMs)} ago`;
  if (point.from === 'override')
    return `where an operator moved it, a ${point.kind} (${when}): see 'tributary resume-point show'`;
  return point.from === 'origin'
    ? `capture's origin (${when}): a partition has no checkpoint yet`
    : `after partition ${point.partition}'s checkpoint ${point.key} (${when})`;
}

function oplogText(report: StatusReport): string {
  const { oplog, oplogNote } = report.capture;
  if (!oplog) return oplogNote ?? 'unknown';
  const span = Date.parse(oplog.last) - Date.parse(oplog.first);
  const window = `${shortTime(oplog.first)} … ${shortTime(oplog.last)} (${formatDuration(span)})`;
  return oplog.headroomPercent === null
    ? window
    : `${window}; resume point at ${oplog.headroomPercent} % of it (0 % = oldest entry)`;
}

/** An ISO instant to the second. */
function shortTime(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}
