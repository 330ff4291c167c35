import type { StreamPosition } from '@tributary/core';
import type { Document, Timestamp } from 'bson';

/** A file a partition is appending to, as of its checkpoint. */
export interface OpenFileRecord {
  readonly path: string;
  /** The first ordering key in the file (its name carries it too). */
  readonly firstKey: string;
  /**
   * Committed length covered by this checkpoint: every line before it is at
   * or below `position`; anything beyond it was written after.
   */
  readonly length: number;
  /** The lake's version of the file when the checkpoint was stored (for diagnosis). */
  readonly version: string;
  readonly openedAt: Date;
  /**
   * The file is finished: recorded before its closing flush, so that a new
   * owner never appends to it again, even when the flush did not happen.
   */
  readonly closed?: boolean;
}

/**
 * Where a partition stands. Every file that may hold data written after
 * `position` is listed in `openFiles` (a writer records a file here before
 * its first append), so a new owner can find everything already in the lake.
 */
export interface PartitionCheckpoint {
  readonly partition: number;
  /**
   * The last key written (or advanced to by a heartbeat) and the token to
   * resume after. Absent while the partition has had no batch yet: a new
   * owner records its claim, and the files it is about to create, before that.
   */
  readonly position?: StreamPosition;
  readonly openFiles: readonly OpenFileRecord[];
  /** The writer that stored it (for operators; ownership is the compare-and-set). */
  readonly writerId: string;
  readonly updatedAt: Date;
}

/**
 * A writer's report that batches of its partition went missing from the
 * queue: the batch it received names a predecessor it never wrote. Capture
 * answers by re-reading the partition from `afterKey`, in a new generation.
 */
export interface GapReport {
  readonly partition: number;
  /** The partition's checkpoint key ('' for none): everything after it must be sent again. */
  readonly afterKey: string;
  /**
   * Capture's generation of the batch that showed the gap. A report is
   * answered once: capture ignores it when it has re-read the partition in
   * a later generation already.
   */
  readonly generation: number;
  /** The predecessor that batch named: the missing batches end there (for logs). */
  readonly missingUpTo: string;
  readonly writerId: string;
  readonly reportedAt: Date;
}

/** Where capture first started, used for partitions that have no checkpoint yet. */
export interface CaptureOrigin {
  /** The change stream's start (`startAtOperationTime`). */
  readonly startAtOperationTime: Timestamp;
  readonly createdAt: Date;
}

/**
 * A running capture's sign of life, refreshed on a timer and removed when
 * it stops gracefully: an operator's command that must not run beside
 * capture (moving its resume point) refuses while it is fresh.
 */
export interface CapturePresence {
  /** Which capture (host and process), for the operator. */
  readonly captureId: string;
  readonly startedAt: Date;
  /** When it last reported (capture's clock). */
  readonly reportedAt: Date;
}

/**
 * An operator's move of capture's resume point (`tributary resume-point
 * set`), relative to where the checkpoints put it then (`from`).
 *
 * - `gap`: `to` is later; the events in between will never be captured.
 *   It stays a floor: every start and every re-read begins at `to` or
 *   later, until a later move replaces it.
 * - `overlap`: `to` is earlier; capture re-reads from there once (writers
 *   drop what their checkpoints cover), then clears it. It applies only
 *   while the checkpoints still stand at `from.key`: once they moved on it
 *   is passed, even if the clear failed.
 */
export interface ResumeOverride {
  readonly kind: 'gap' | 'overlap';
  /** Where capture resumes: at this clusterTime, inclusive; the token the operator named, if any. */
  readonly to: { readonly clusterTime: Timestamp; readonly token?: Document };
  /** Where the checkpoints put the resume point when it was set (`key`: see `keyOfRestartPoint`). */
  readonly from: {
    readonly key: string;
    readonly clusterTime: Timestamp;
    readonly token?: Document;
  };
  readonly setAt: Date;
}

/** A stored value with the version conditions compare against. */
export interface Versioned<T> {
  readonly value: T;
  readonly version: string;
}

/** The checkpoint-store port: small documents under compare-and-set. */
export interface CheckpointStore {
  readPartition(partition: number): Promise<Versioned<PartitionCheckpoint> | undefined>;
  /**
   * Stores a checkpoint if the stored version is still `expectedVersion`
   * (`undefined`: none stored yet) and returns the new version.
   *
   * @throws CheckpointError `CONFLICT` when another writer stored one since.
   */
  writePartition(
    checkpoint: PartitionCheckpoint,
    expectedVersion: string | undefined,
  ): Promise<string>;
  /** Every partition's checkpoint, for capture's resume point. */
  readAllPartitions(partitionCount: number): Promise<Map<number, PartitionCheckpoint>>;
  /** Stores the partition's gap report, replacing an earlier one. */
  reportGap(report: GapReport): Promise<void>;
  /**
   * Removes the partition's gap report if it is still `report` — not a
   * newer one written since (a late removal must never hide a new gap).
   */
  clearGap(report: GapReport): Promise<void>;
  /** Every gap report stored (usually none), for capture. */
  readGaps(): Promise<GapReport[]>;
  readOrigin(): Promise<CaptureOrigin | undefined>;
  /** Stores the origin unless one exists, and returns the one that is stored. */
  writeOriginIfAbsent(origin: CaptureOrigin): Promise<CaptureOrigin>;
  /** Stores a capture's presence record, replacing the one stored. */
  writePresence(presence: CapturePresence): Promise<void>;
  /** The presence record of the capture that reported last, if any. */
  readPresence(): Promise<CapturePresence | undefined>;
  /**
   * Removes the presence record if it is still `captureId`'s: one another
   * capture stored since stays.
   */
  clearPresence(captureId: string): Promise<void>;
  /** The operator's resume override, if one is stored. */
  readResumeOverride(): Promise<ResumeOverride | undefined>;
  /** Stores a resume override, replacing any earlier one. */
  writeResumeOverride(override: ResumeOverride): Promise<void>;
  /**
   * Removes the resume override if it is still `override`: one an operator
   * stored since stays.
   */
  clearResumeOverride(override: ResumeOverride): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}
