import type { StreamPosition } from '@tributary/core';
import type { Timestamp } from 'bson';

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
  /** Idempotent. */
  close(): Promise<void>;
}
