import type { PartitionCheckpoint } from '@tributary/checkpoint';
import type { StreamPosition } from '@tributary/core';
import type { RollingFileSet } from './rolling-file-set.ts';
import { coverage, toRecord, type TrackedFile } from './tracked-file.ts';

/** A checkpoint about to be stored, with what it covers of each file. */
export interface CheckpointPlan {
  readonly checkpoint: PartitionCheckpoint;
  /** Per tracked file: the length the checkpoint covers and how many tail lines that is. */
  readonly covered: ReadonlyMap<TrackedFile, { readonly length: number; readonly lines: number }>;
  /** The files the checkpoint lists. */
  readonly listed: ReadonlySet<TrackedFile>;
}

/**
 * The checkpoint at `position`. Every file that may hold data past the
 * position is listed — open ones and finished ones (as closed) — with the
 * length the position covers, not merely the length written: a new owner
 * then finds everything written after, however many owners came and went.
 * A file is left out only once it is closed in the lake and covered whole.
 * Pure.
 */
export function buildCheckpoint(input: {
  readonly partition: number;
  readonly writerId: string;
  readonly position: StreamPosition | undefined;
  readonly files: readonly TrackedFile[];
  readonly now: Date;
}): CheckpointPlan {
  const key = input.position?.key ?? '';
  const paths = new Set(input.files.map((file) => file.path));
  if (paths.size !== input.files.length)
    throw new Error(`partition ${input.partition} tracks one file twice: a writer bug`);
  const covered = new Map(input.files.map((file) => [file, coverage(file, key)]));
  const listed = new Set(
    input.files.filter(
      (file) => !(file.closedInLake && (covered.get(file)?.lines ?? 0) === file.tail.length),
    ),
  );
  return {
    checkpoint: {
      partition: input.partition,
      ...(input.position ? { position: input.position } : {}),
      openFiles: [...listed].map((file) => toRecord(file, covered.get(file)?.length ?? 0)),
      writerId: input.writerId,
      updatedAt: input.now,
    },
    covered,
    listed,
  };
}

/**
 * Brings the files up to date once `plan` is stored: covered tail lines are
 * dropped, listed files are recorded (finished ones as closed, so their
 * closing flush may go ahead), and files the checkpoint left out are
 * forgotten.
 */
export function applyStoredCheckpoint(plan: CheckpointPlan, files: RollingFileSet): void {
  for (const [file, { length, lines }] of plan.covered) {
    file.checkpointedLength = length;
    file.tail.splice(0, lines);
    if (!plan.listed.has(file)) {
      files.forget(file);
      continue;
    }
    file.recorded = true;
    if (file.finished) file.closeRecorded = true;
  }
}
