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
   * resume after. Absent only while the partition has written nothing yet
   * but had to record something (a dead letter broke its chain).
   */
  readonly position?: StreamPosition;
  readonly openFiles: readonly OpenFileRecord[];
  readonly writerId: string;
  readonly fencingToken: number;
  readonly updatedAt: Date;
  /**
   * Set when a batch was dead-lettered: the batch chain on the queue is
   * broken there, so the next batch is accepted whatever previous key it
   * names. Cleared by the next batch written.
   */
  readonly chainBroken?: boolean;
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
  readOrigin(): Promise<CaptureOrigin | undefined>;
  /** Stores the origin unless one exists, and returns the one that is stored. */
  writeOriginIfAbsent(origin: CaptureOrigin): Promise<CaptureOrigin>;
  /** Idempotent. */
  close(): Promise<void>;
}
