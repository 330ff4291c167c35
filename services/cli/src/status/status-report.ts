import {
  type CaptureOrigin,
  type GapReport,
  type OplogBounds,
  type PartitionCheckpoint,
  type ResumeOverride,
  captureResumePoint,
  headroomIn,
  timeOfPosition,
  timeOfRestartPoint,
} from '@tributary/checkpoint';
import { parseOrderingKey } from '@tributary/core';
import type { PartitionHolder } from '@tributary/queue';

/** A part of the status that could not be read, and why. */
export interface Unreadable {
  readonly unreadable: string;
  /**
   * The system could not be reached (exit 69), rather than refusing or
   * failing the read itself (exit 1).
   */
  readonly unavailable: boolean;
}

export function isUnreadable(value: unknown): value is Unreadable {
  return typeof value === 'object' && value !== null && 'unreadable' in value;
}

/** Everything one round of `tributary status` read. */
export interface StatusInputs {
  /** When it was read (ms since the epoch). */
  readonly now: number;
  readonly transport: string;
  readonly partitionCount: number;
  readonly checkpoints: ReadonlyMap<number, PartitionCheckpoint>;
  readonly gaps: readonly GapReport[];
  /** Capture's origin; absent before capture first started. */
  readonly origin: CaptureOrigin | undefined;
  /** The operator's resume override (`tributary resume-point set`), if one is stored. */
  readonly override?: ResumeOverride;
  readonly owners: ReadonlyMap<number, PartitionHolder> | Unreadable;
  /** Batches waiting, or `uncounted` where the broker does not count them for this client. */
  readonly backlog: number | 'uncounted' | Unreadable;
  readonly deadLetters: number | Unreadable;
  /** The oplog's window; `not-configured` without MONGODB_URI, `empty` for an empty oplog. */
  readonly oplog: OplogBounds | 'not-configured' | 'empty' | Unreadable;
  /** Warn when the resume point's headroom is below this share (percent). */
  readonly headroomWarnPercent: number;
}

/** An instant in a report: ISO 8601, and how long before the report. */
export interface Instant {
  readonly at: string;
  readonly agoMs: number;
}

/** One partition's line of the status. */
export interface PartitionStatus {
  readonly partition: number;
  /** The writer holding it now; null when nobody does (or the queue could not say). */
  readonly owner: { readonly writerId: string; readonly until?: string } | null;
  /** Who stored the last checkpoint: the owner's name when the queue cannot tell it. */
  readonly lastCheckpointBy: string | null;
  readonly checkpoint: {
    /** The last key written (or moved to by a heartbeat); null before its first batch. */
    readonly key: string | null;
    /** The key's clusterTime: seconds, increment, and the instant. */
    readonly clusterTime: { readonly t: number; readonly i: number; readonly at: string } | null;
    /** When the writer stored it. */
    readonly updatedAt: Instant;
  } | null;
  /**
   * How far the lake is behind the source for this partition: now minus
   * the clusterTime its checkpoint stands at (heartbeats move it on a quiet
   * partition), or capture's origin while it has no checkpoint.
   */
  readonly lagMs: number | null;
  /** Files the partition is appending to (recorded in the checkpoint, not closed). */
  readonly openFiles: readonly string[];
  /** A gap being healed: batches after `afterKey` went missing from the queue. */
  readonly gap: {
    readonly afterKey: string;
    readonly missingUpTo: string;
    readonly reportedBy: string;
    readonly reportedAt: Instant;
  } | null;
}

/** Something an operator should look at; any makes the exit code 1 (69 if `unavailable`). */
export interface StatusWarning {
  readonly kind: 'dead-letters' | 'gap' | 'unowned' | 'headroom' | 'unreadable';
  readonly message: string;
  readonly unavailable?: boolean;
}

/** The whole status: the `--json` document, and what the tables show. */
export interface StatusReport {
  readonly at: string;
  readonly transport: {
    readonly name: string;
    readonly partitionCount: number;
    /** Batches waiting; null when not counted (see `backlogNote`). */
    readonly backlog: number | null;
    readonly backlogNote?: string;
    readonly deadLetters: number | null;
    readonly ownersNote?: string;
  };
  readonly capture: {
    /**
     * Where capture would resume: the oldest partition checkpoint, or its
     * origin while a partition has none, or where an operator moved it
     * (`tributary resume-point set`) while that still applies; null before
     * capture first started.
     */
    readonly resumePoint:
      | {
          readonly from: 'checkpoint';
          readonly partition: number;
          readonly key: string;
          readonly clusterTime: Instant;
        }
      | { readonly from: 'origin'; readonly clusterTime: Instant }
      | {
          readonly from: 'override';
          readonly kind: 'gap' | 'overlap';
          readonly clusterTime: Instant;
        }
      | null;
    readonly oplog: {
      readonly first: string;
      readonly last: string;
      /** The resume point's place in the window: 100 at the newest entry, 0 at the oldest, below 0 when lost. */
      readonly headroomPercent: number | null;
    } | null;
    readonly oplogNote?: string;
  };
  readonly partitions: readonly PartitionStatus[];
  readonly warnings: readonly StatusWarning[];
}

/**
 * The status from what one round read: per partition its owner (or who
 * checkpointed last), checkpoint, lag, open files and gap; the queue's
 * backlog and dead letters; capture's resume point and its headroom in
 * the oplog — and the warnings an operator must act on. Pure: the same
 * inputs give the same report.
 */
export function statusReport(inputs: StatusInputs): StatusReport {
  const { now } = inputs;
  const instant = (ms: number): Instant => ({ at: iso(ms), agoMs: now - ms });
  const gaps = new Map(inputs.gaps.map((gap) => [gap.partition, gap]));
  const owners = isUnreadable(inputs.owners) ? undefined : inputs.owners;
  const originMs = inputs.origin ? inputs.origin.startAtOperationTime.high * 1000 : undefined;

  const partitions: PartitionStatus[] = [];
  for (let partition = 0; partition < inputs.partitionCount; partition += 1) {
    const checkpoint = inputs.checkpoints.get(partition);
    const position = checkpoint?.position;
    const holder = owners?.get(partition);
    const gap = gaps.get(partition);
    const parts = position ? parseOrderingKey(position.key) : undefined;
    const standsAtMs = position ? timeOfPosition(position) * 1000 : originMs;
    partitions.push({
      partition,
      owner: holder
        ? {
            writerId: holder.writerId,
            ...(holder.until ? { until: holder.until.toISOString() } : {}),
          }
        : null,
      lastCheckpointBy: checkpoint?.writerId ?? null,
      checkpoint: checkpoint
        ? {
            key: position?.key ?? null,
            clusterTime: parts ? { t: parts.t, i: parts.i, at: iso(parts.t * 1000) } : null,
            updatedAt: instant(checkpoint.updatedAt.getTime()),
          }
        : null,
      lagMs: standsAtMs === undefined ? null : Math.max(0, now - standsAtMs),
      openFiles: (checkpoint?.openFiles ?? []).filter((f) => !f.closed).map((f) => f.path),
      gap: gap
        ? {
            afterKey: gap.afterKey,
            missingUpTo: gap.missingUpTo,
            reportedBy: gap.writerId,
            reportedAt: instant(gap.reportedAt.getTime()),
          }
        : null,
    });
  }

  const resume = resumePointOf(inputs, instant);
  const oplog = oplogWindowOf(inputs.oplog, resume.seconds);
  const report: StatusReport = {
    at: iso(now),
    transport: {
      name: inputs.transport,
      partitionCount: inputs.partitionCount,
      backlog: typeof inputs.backlog === 'number' ? inputs.backlog : null,
      ...(inputs.backlog === 'uncounted'
        ? { backlogNote: 'unknown (needs Manage rights)' }
        : isUnreadable(inputs.backlog)
          ? { backlogNote: `unknown: ${inputs.backlog.unreadable}` }
          : {}),
      deadLetters: typeof inputs.deadLetters === 'number' ? inputs.deadLetters : null,
      ...(isUnreadable(inputs.owners)
        ? { ownersNote: `owners unknown: ${inputs.owners.unreadable}` }
        : {}),
    },
    capture: {
      resumePoint: resume.point,
      oplog: oplog.window,
      ...(oplog.note ? { oplogNote: oplog.note } : {}),
    },
    partitions,
    warnings: [],
  };
  return { ...report, warnings: warningsOf(inputs, report) };
}

/** The exit code of a report: 69 when a system could not be reached, 1 with warnings, else 0. */
export function exitCodeOfReport(report: StatusReport): 0 | 1 | 69 {
  if (report.warnings.some((w) => w.unavailable)) return 69;
  return report.warnings.length > 0 ? 1 : 0;
}

/** Where capture would resume, and its clusterTime in seconds; none before capture first started. */
function resumePointOf(
  inputs: StatusInputs,
  instant: (ms: number) => Instant,
): { point: StatusReport['capture']['resumePoint']; seconds?: number } {
  // Capture stores its origin before anything else: without it, capture never ran.
  if (!inputs.origin) return { point: null };
  const resume = captureResumePoint(
    inputs.checkpoints,
    inputs.partitionCount,
    inputs.origin,
    inputs.override,
  );
  const seconds = timeOfRestartPoint(resume.point);
  const clusterTime = instant(seconds * 1000);
  const { source } = resume;
  if (source === 'override' && inputs.override)
    return { point: { from: 'override', kind: inputs.override.kind, clusterTime }, seconds };
  if (typeof source === 'string' || !('after' in resume.point))
    return { point: { from: 'origin', clusterTime }, seconds };
  const { key } = resume.point.after;
  return { point: { from: 'checkpoint', partition: source.partition, key, clusterTime }, seconds };
}

/**
 * The oplog's window, and where a resume point at `resumeSeconds` stands
 * in it; or why it is not known.
 */
export function oplogWindowOf(
  oplog: StatusInputs['oplog'],
  resumeSeconds: number | undefined,
): { window: StatusReport['capture']['oplog']; note?: string } {
  if (oplog === 'not-configured')
    return { window: null, note: 'not read: set MONGODB_URI to see the oplog window' };
  if (oplog === 'empty') return { window: null, note: 'the oplog is empty' };
  if (isUnreadable(oplog)) return { window: null, note: `unknown: ${oplog.unreadable}` };
  const headroom = resumeSeconds === undefined ? null : headroomIn(oplog, resumeSeconds);
  return {
    window: {
      first: iso(oplog.first * 1000),
      last: iso(oplog.last * 1000),
      headroomPercent: headroom === null ? null : Math.round(headroom * 1000) / 10,
    },
  };
}

function warningsOf(inputs: StatusInputs, report: StatusReport): StatusWarning[] {
  const warnings: StatusWarning[] = [];
  for (const [what, value] of [
    ['the partition owners', inputs.owners],
    ['the backlog', inputs.backlog],
    ['the dead letters', inputs.deadLetters],
    ['the oplog window', inputs.oplog],
  ] as const) {
    if (isUnreadable(value))
      warnings.push({
        kind: 'unreadable',
        message: `${what} could not be read: ${value.unreadable}`,
        unavailable: value.unavailable,
      });
  }
  const deadLetters = report.transport.deadLetters;
  if (deadLetters !== null && deadLetters > 0)
    warnings.push({
      kind: 'dead-letters',
      message: `${deadLetters} dead letter${deadLetters === 1 ? '' : 's'}: batches a writer could not write. See why with 'tributary dead-letters list', fix the cause, then requeue them.`,
    });
  for (const { partition, gap } of report.partitions) {
    if (!gap) continue;
    warnings.push({
      kind: 'gap',
      message: `partition ${partition}: batches after ${gap.afterKey} went missing from the queue (reported by ${gap.reportedBy}); capture re-reads the partition from its checkpoint. If this stays, check that capture runs.`,
    });
  }
  const waiting = report.transport.backlog !== 0;
  const unowned = isUnreadable(inputs.owners)
    ? []
    : report.partitions.filter((p) => p.owner === null).map((p) => p.partition);
  if (waiting && unowned.length > 0) {
    const backlog = report.transport.backlog;
    warnings.push({
      kind: 'unowned',
      message: `${plural(unowned.length, 'partition')} ${unowned.join(', ')} ${unowned.length === 1 ? 'has' : 'have'} no owner while ${backlog === null ? 'batches may wait (the backlog is not counted)' : `${backlog} batch${backlog === 1 ? '' : 'es'} wait`}: start a writer, or see in the writers' logs why they do not take ${unowned.length === 1 ? 'it' : 'them'}.`,
    });
  }
  const headroom = report.capture.oplog?.headroomPercent;
  if (headroom !== null && headroom !== undefined) {
    if (headroom < 0)
      warnings.push({
        kind: 'headroom',
        message: `capture's resume point is older than the oldest oplog entry: the history it needs is gone. Capture stops with a history-lost error; to accept the gap, stop capture and move the point with 'tributary resume-point set --time …' (see 'tributary resume-point show').`,
      });
    else if (headroom < inputs.headroomWarnPercent)
      warnings.push({
        kind: 'headroom',
        message: `capture's resume point is at ${headroom} % of the oplog window (warning below ${inputs.headroomWarnPercent} %): when the oplog rolls past it, the history capture needs is gone. Get the lagging partition's writer going, or enlarge the oplog.`,
      });
  }
  return warnings;
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
