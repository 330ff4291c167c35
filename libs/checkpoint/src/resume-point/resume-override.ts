import {
  type ClusterTimeLike,
  clusterTimestampOfResumeToken,
  keyBefore,
  parseOrderingKey,
} from '@tributary/core';
import { Timestamp } from 'bson';
import type { CaptureOrigin, PartitionCheckpoint, ResumeOverride } from '../checkpoint-store.ts';
import { type RestartPoint, restartPoint } from './restart-point.ts';

/**
 * The clusterTime a restart point stands at, seconds and increment: a
 * position's resume token's (heartbeats move it on past the last event),
 * else its key's; capture's origin's. Between a position's key and its
 * token the stream holds no event at all (the token moved on because none
 * came), so reading from anywhere in that stretch reads the same events.
 */
export function clusterTimeOfRestartPoint(point: RestartPoint): Timestamp {
  if (!('after' in point)) return point.at;
  const time: ClusterTimeLike | undefined =
    clusterTimestampOfResumeToken(point.after.token) ?? parseOrderingKey(point.after.key);
  if (!time) throw new RangeError(`not an ordering key: ${point.after.key}`);
  return new Timestamp({ t: time.t, i: time.i });
}

/** Orders two clusterTimes: negative when `a` is earlier, 0 when equal, positive when later. */
export function compareClusterTimes(a: ClusterTimeLike, b: ClusterTimeLike): number {
  return a.t === b.t ? a.i - b.i : a.t - b.t;
}

/**
 * Reading from `clusterTime` inclusive (`startAtOperationTime`), with keys
 * numbered on from the key before it — the keys every event from there on
 * always gets, however often it is read (see `keyBefore`).
 */
export function restartAt(clusterTime: Timestamp): RestartPoint {
  return { at: clusterTime, keyBefore: keyBefore({ t: clusterTime.t, i: clusterTime.i }) };
}

/**
 * What moving the resume point from `point` to `to` (inclusive) does: a
 * `gap` when `to` is later — the events after `point` and before `to` are
 * never read — else an `overlap`, which re-reads from `to`.
 */
export function resumeMoveKind(point: RestartPoint, to: ClusterTimeLike): ResumeOverride['kind'] {
  return compareClusterTimes(to, clusterTimeOfRestartPoint(point)) > 0 ? 'gap' : 'overlap';
}

/** Whether capture reads its stream for a start, or re-reads some partitions (a rewind). */
export type ReadOccasion = 'start' | 'rewind';

/**
 * The key a restart point stands at: its position's key, or at a start at
 * a clusterTime the key before it — what `ResumeOverride.from.key` records.
 */
export function keyOfRestartPoint(point: RestartPoint): string {
  return 'after' in point ? point.after.key : point.keyBefore;
}

/**
 * Whether `override` moves capture away from `point`, the restart point of
 * its checkpoints (see `restartPoint`): a gap is a floor for every start and
 * every rewind while `point` stands before it; an overlap moves a start
 * (never a rewind) only while `point` is still the one it was set against
 * (`override.from.key`). Otherwise it has been passed and no longer changes
 * anything.
 *
 * An overlap is judged by its `from`, not by where `to` stands: capture
 * clears it once it re-reads, but a clear that fails (a store blip) must
 * not leave it in force. Were it judged by `to` alone, every later start
 * would re-read from `to` again, and once `to` left the oplog capture would
 * stop with lost history although its checkpoints were fine. Once anything
 * was checkpointed after the move, the re-read it asked for has happened.
 */
export function resumeOverrideApplies(
  point: RestartPoint,
  override: ResumeOverride | undefined,
  occasion: ReadOccasion,
): boolean {
  if (!override) return false;
  const later = resumeMoveKind(point, override.to.clusterTime) === 'gap';
  if (override.kind === 'gap') return later;
  return occasion === 'start' && !later && keyOfRestartPoint(point) === override.from.key;
}

/**
 * Where capture reads from, given the restart point of its checkpoints and
 * the operator's override: for a gap, the later of the two — so neither a
 * crash nor a writer's gap report before every checkpoint passed the floor
 * ever re-reads what the operator chose to skip; for an overlap, at a
 * start, the earlier of the two. The override's point is always read from
 * its clusterTime inclusive (see {@link restartAt}), even when the operator
 * named a token: keys stay those the events always get, so a later re-read
 * of the same events is recognised and dropped. Pure.
 */
export function withResumeOverride(
  point: RestartPoint,
  override: ResumeOverride | undefined,
  occasion: ReadOccasion,
): RestartPoint {
  return override && resumeOverrideApplies(point, override, occasion)
    ? restartAt(override.to.clusterTime)
    : point;
}

/** What sets a resume point: a partition's checkpoint, capture's origin, or the operator's override. */
export type ResumePointSource = { readonly partition: number } | 'origin' | 'override';

/** Where capture would read from if it started now, and why. */
export interface CaptureResumePoint {
  readonly point: RestartPoint;
  readonly source: ResumePointSource;
  /** The restart point of the checkpoints alone: where an override moved it from. */
  readonly ofCheckpoints: RestartPoint;
  /** The partition holding the checkpoints' point back, or the origin while one has none. */
  readonly ofCheckpointsSource: Exclude<ResumePointSource, 'override'>;
}

/**
 * Capture's resume point as capture computes it when it starts: the oldest
 * checkpoint (or the origin), moved by the operator's override where that
 * still applies. `tributary status` and `tributary resume-point show` read
 * it here, by capture's own rule.
 */
export function captureResumePoint(
  checkpoints: ReadonlyMap<number, PartitionCheckpoint>,
  partitionCount: number,
  origin: CaptureOrigin,
  override: ResumeOverride | undefined,
): CaptureResumePoint {
  const all = Array.from({ length: partitionCount }, (_, p) => p);
  const ofCheckpoints = restartPoint(checkpoints, all, origin);
  const ofCheckpointsSource = sourceOf(ofCheckpoints, checkpoints, all);
  return resumeOverrideApplies(ofCheckpoints, override, 'start')
    ? {
        point: withResumeOverride(ofCheckpoints, override, 'start'),
        source: 'override',
        ofCheckpoints,
        ofCheckpointsSource,
      }
    : { point: ofCheckpoints, source: ofCheckpointsSource, ofCheckpoints, ofCheckpointsSource };
}

/**
 * The partitions whose own restart point stands before `to`: after a move
 * to `to`, those are the partitions that miss the events in between.
 */
export function partitionsBefore(
  checkpoints: ReadonlyMap<number, PartitionCheckpoint>,
  partitionCount: number,
  origin: CaptureOrigin,
  to: ClusterTimeLike,
): number[] {
  return Array.from({ length: partitionCount }, (_, p) => p).filter(
    (p) => resumeMoveKind(restartPoint(checkpoints, [p], origin), to) === 'gap',
  );
}

function sourceOf(
  point: RestartPoint,
  checkpoints: ReadonlyMap<number, PartitionCheckpoint>,
  partitions: readonly number[],
): Exclude<ResumePointSource, 'override'> {
  if (!('after' in point)) return 'origin';
  const { key } = point.after;
  const partition = partitions.find((p) => checkpoints.get(p)?.position?.key === key);
  return partition === undefined ? 'origin' : { partition };
}
