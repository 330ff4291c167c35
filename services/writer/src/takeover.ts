import type { CheckpointStore, OpenFileRecord } from '@tributary/checkpoint';
import type { Logger, StreamPosition } from '@tributary/core';
import { type Lake, LakeError } from '@tributary/lake';
import type { RollingFileSet } from './rolling-file-set.ts';
import { linesWithKeys } from './tail-keys.ts';
import { dirOf, type TrackedFile } from './tracked-file.ts';

/** What a new owner needs to take a partition over. */
export interface TakeoverContext {
  readonly partition: number;
  readonly writerId: string;
  /** The write lease this owner holds its files under. */
  readonly leaseId: string;
  readonly lake: Lake;
  readonly checkpoints: CheckpointStore;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Where the partition stands once taken over. */
export interface TakenOver {
  readonly position: StreamPosition | undefined;
  /** Version of the claim this owner stored. */
  readonly version: string;
  /** Keys past the position already committed in the lake: never written again. */
  readonly inLake: ReadonlySet<string>;
}

/**
 * Takes a partition over from whoever wrote it before, in an order that
 * fences every earlier owner out, whatever its clock says:
 *
 * 1. read the stored checkpoint;
 * 2. take over the write lease of every file it lists — from here on no
 *    earlier owner can change them;
 * 3. store the checkpoint again under this owner (compare-and-set): its
 *    version moves, so an earlier owner's next checkpoint fails, and one
 *    that took a lease back in the meantime stops before writing under it
 *    (every owner proves ownership by a compare-and-set after taking a
 *    lease and before writing);
 * 4. read what each file holds past its checkpointed length: those events
 *    are in the lake and must not be written again.
 *
 * A claim is stored even when the partition has no checkpoint yet, so the
 * first owner is fenced too. Files listed as closed stay closed; of the
 * others, the newest of each directory goes on being appended to and older
 * ones (rolled away from) are closed.
 */
export async function takeOverPartition(
  context: TakeoverContext,
  files: RollingFileSet,
): Promise<TakenOver> {
  const { partition, lake, checkpoints, leaseId } = context;
  const stored = await checkpoints.readPartition(partition);
  const existing: OpenFileRecord[] = [];
  for (const record of stored?.value.openFiles ?? []) {
    if ((await lake.stat(record.path)) === undefined) {
      // Recorded with nothing covered and never created (the previous
      // release recorded files before creating them): it holds nothing.
      if (record.length === 0) continue;
      throw new LakeError(
        'NOT_FOUND',
        `lake file ${record.path}, listed in partition ${partition}'s checkpoint with ${record.length} bytes, is gone: data was removed outside Tributary`,
      );
    }
    await lake.acquireLease(record.path, leaseId, { takeOver: true });
    existing.push(record);
  }
  const version = await checkpoints.writePartition(
    {
      partition,
      ...(stored?.value.position ? { position: stored.value.position } : {}),
      openFiles: existing,
      writerId: context.writerId,
      updatedAt: new Date(context.now()),
    },
    stored?.version,
  );
  const inLake = new Set<string>();
  const found = await Promise.all(existing.map((record) => readBack(context, record)));
  for (const file of found) for (const line of file.tail) inLake.add(line.key);
  arrange(found, files);
  return { position: stored?.value.position, version, inLake };
}

/** The file as the lake holds it now, with the lines written past its checkpointed length. */
async function readBack(context: TakeoverContext, record: OpenFileRecord): Promise<TrackedFile> {
  const { lake, logger, partition } = context;
  const state = await lake.stat(record.path);
  if (state === undefined || state.length < record.length) {
    // Committed data vanished: the lake lost data we acknowledged. Never paper over that.
    throw new LakeError(
      'NOT_FOUND',
      `lake file ${record.path} is shorter (${state?.length ?? 0} bytes) than its checkpoint says (${record.length}); data was removed outside Tributary`,
    );
  }
  const tail =
    state.length > record.length
      ? linesWithKeys(await lake.read(record.path, record.length), record.length)
      : [];
  if (tail.length > 0)
    logger.info(
      { partition, path: record.path, events: tail.length },
      'found events written after the last checkpoint; they will not be written again',
    );
  const closed = record.closed === true;
  return {
    path: record.path,
    dir: dirOf(record.path),
    firstKey: record.firstKey,
    length: state.length,
    version: state.version,
    openedAt: record.openedAt,
    lastAppendAt: context.now(),
    recorded: true,
    checkpointedLength: record.length,
    tail,
    finished: closed,
    closeRecorded: closed,
    closedInLake: false,
  };
}

/** Closed files stay closed; the newest other file of each directory is the open one. */
function arrange(found: TrackedFile[], files: RollingFileSet): void {
  found.sort((a, b) => (a.firstKey < b.firstKey ? -1 : 1));
  for (const file of found) {
    if (file.finished) files.addFinished(file);
    // Opening a newer file of the same directory finishes the older one.
    else files.open(file);
  }
}
