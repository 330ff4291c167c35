import {
  type RestartPoint,
  type ResumePointSource,
  captureResumePoint,
  clusterTimeOfRestartPoint,
  isPresenceFresh,
  presenceAgeMs,
  resumeMarkerPath,
  resumeOverrideApplies,
} from '@tributary/checkpoint';
import { type Document, EJSON, type Timestamp } from 'bson';
import { oplogWindowOf } from '../status/status-report.ts';
import type { ResumePointInputs } from './read-resume-point.ts';

/** A clusterTime in a report: the instant, its exact parts, and how long before the report. */
export interface PointTime {
  readonly at: string;
  readonly t: number;
  readonly i: number;
  readonly agoMs: number;
}

/** A point capture reads from. */
export interface PointReport {
  /** What sets it: a partition's checkpoint, capture's origin, or the operator's override. */
  readonly source: 'checkpoint' | 'origin' | 'override';
  /** The partition whose checkpoint holds it back. */
  readonly partition?: number;
  /**
   * `after`: after the event of `key` (startAfter its token); `from`: from
   * `clusterTime` inclusive (startAtOperationTime), keys numbered on from `key`.
   */
  readonly reads: 'after' | 'from';
  readonly key: string;
  readonly clusterTime: PointTime;
  /** The resume token, as relaxed Extended JSON. */
  readonly token?: Document;
}

/** The operator's override, as `show` reports it. */
export interface OverrideReport {
  readonly kind: 'gap' | 'overlap';
  readonly to: { readonly clusterTime: PointTime; readonly token?: Document };
  readonly from: {
    readonly key: string;
    readonly clusterTime: PointTime;
    readonly token?: Document;
  };
  readonly setAt: string;
  /** Its marker in the lake. */
  readonly marker: string;
  /**
   * `pending`: it moves capture's next start (a gap also every re-read)
   * from where the checkpoints put it; `passed`: it changes nothing any
   * more — the checkpoints are past a gap, or moved on since an overlap
   * was set (see `resumeOverrideApplies`).
   */
  readonly state: 'pending' | 'passed';
}

/** `tributary resume-point show`: the `--json` document, and what the text shows. */
export interface ResumePointReport {
  readonly at: string;
  /** Where capture reads from when it starts now; null before capture first started. */
  readonly resumePoint: PointReport | null;
  /** Where the checkpoints alone put it, when an override moves it. */
  readonly ofCheckpoints?: PointReport;
  readonly override: OverrideReport | null;
  /** The last capture's presence record; null when none is stored (none runs, or it stopped). */
  readonly capture: {
    readonly captureId: string;
    readonly startedAt: string;
    readonly reportedAt: string;
    readonly agoMs: number;
    /** Reported recently enough to count as running. */
    readonly running: boolean;
  } | null;
  readonly oplog: {
    readonly first: string;
    readonly last: string;
    /** The resume point's place in the window: 100 at the newest entry, 0 at the oldest, below 0 when lost. */
    readonly headroomPercent: number | null;
  } | null;
  readonly oplogNote?: string;
}

/**
 * Capture's resume point as capture computes it now (by the same rule, see
 * `captureResumePoint`), the override and whether it still applies, the
 * capture's presence, and the point's place in the oplog window. Pure.
 */
export function resumePointReport(inputs: ResumePointInputs): ResumePointReport {
  const { now, origin, override, presence } = inputs;
  const time = (timestamp: Timestamp) => pointTime(timestamp, now);
  const resume = origin
    ? captureResumePoint(inputs.checkpoints, inputs.partitionCount, origin, override)
    : undefined;
  const pending =
    resume !== undefined && resumeOverrideApplies(resume.ofCheckpoints, override, 'start');
  return {
    at: new Date(now).toISOString(),
    resumePoint: resume ? pointReport(resume.point, resume.source, now) : null,
    ...(resume && resume.source === 'override'
      ? { ofCheckpoints: pointReport(resume.ofCheckpoints, resume.ofCheckpointsSource, now) }
      : {}),
    override: override
      ? {
          kind: override.kind,
          to: { clusterTime: time(override.to.clusterTime), ...tokenOf(override.to.token) },
          from: {
            key: override.from.key,
            clusterTime: time(override.from.clusterTime),
            ...tokenOf(override.from.token),
          },
          setAt: override.setAt.toISOString(),
          marker: resumeMarkerPath(override.setAt),
          state: pending ? 'pending' : 'passed',
        }
      : null,
    capture: presence
      ? {
          captureId: presence.captureId,
          startedAt: presence.startedAt.toISOString(),
          reportedAt: presence.reportedAt.toISOString(),
          agoMs: presenceAgeMs(presence, now),
          running: isPresenceFresh(presence, now),
        }
      : null,
    ...oplogOf(inputs, resume && clusterTimeOfRestartPoint(resume.point).t),
  };
}

function oplogOf(
  inputs: ResumePointInputs,
  resumeSeconds: number | undefined,
): Pick<ResumePointReport, 'oplog' | 'oplogNote'> {
  const { window, note } = oplogWindowOf(inputs.oplog, resumeSeconds);
  return { oplog: window, ...(note ? { oplogNote: note } : {}) };
}

/** A restart point for the report. */
export function pointReport(
  point: RestartPoint,
  source: ResumePointSource,
  now: number,
): PointReport {
  const clusterTime = pointTime(clusterTimeOfRestartPoint(point), now);
  const from =
    typeof source === 'string' ? { source } : { source: 'checkpoint' as const, ...source };
  return 'after' in point
    ? { ...from, reads: 'after', key: point.after.key, clusterTime, ...tokenOf(point.after.token) }
    : { ...from, reads: 'from', key: point.keyBefore, clusterTime };
}

export function pointTime(timestamp: Timestamp, now: number): PointTime {
  const ms = timestamp.t * 1000;
  return { at: new Date(ms).toISOString(), t: timestamp.t, i: timestamp.i, agoMs: now - ms };
}

function tokenOf(token: Document | undefined): { token?: Document } {
  return token ? { token: EJSON.serialize(token, { relaxed: true }) } : {};
}
