import {
  type BatchEntry,
  type ClaimedEvent,
  type Logger,
  deadLetteredClaimPath,
  isClaimed,
} from '@tributary/core';
import { type Lake, LakeError } from '@tributary/lake';
import type { NamespaceCounts } from '@tributary/telemetry';
import { countByNamespace } from '@tributary/telemetry';
import { type LineContext, type RefusedEvents, eventLines } from './event-lines.ts';
import { SegmentFailure, classifyFailure, messageOf } from './failure-class.ts';
import type { PlannedLine } from './segment-plan.ts';
import { linesWithKeys } from './tail-keys.ts';

/**
 * The file of a replay in an event-time directory: the partition, `replay`,
 * and the first key it holds. Sorting a directory's names still sorts each
 * kind by content; a reader orders lines by their ordering key
 * (`_tributary.key`), across regular and replay files alike.
 */
export function replayFileNameFor(partition: number, firstKey: string): string {
  return `part-${String(partition).padStart(4, '0')}-replay-${firstKey}.jsonl`;
}

/** What a replay needs: a partition writer's line context, its write lease and the lake. */
export interface ReplayContext extends Omit<LineContext, 'isNew'> {
  readonly lake: Lake;
  readonly leaseId: string;
  readonly logger: Logger;
}

/** What replaying a requeued dead letter did. */
export interface ReplayOutcome {
  /** Lines appended now. */
  readonly written: number;
  /** Events an earlier attempt of the same replay had written already. */
  readonly alreadyReplayed: number;
  /** The replay files written to (or found complete). */
  readonly files: readonly string[];
  /** Events that cannot be written, with why (they go back to the dead letters). */
  readonly refused: readonly RefusedEvents[];
  readonly writtenByNamespace: NamespaceCounts;
}

/**
 * Writes events a partition's checkpoint has moved past — a dead letter an
 * operator put back — to replay files, exactly once: per event-time
 * directory, one file named after the first of the events it holds
 * ({@link replayFileNameFor}), created under this writer's lease, appended
 * in key order and closed at once. The checkpoint does not move (it is
 * ahead already), and nothing else ever writes these keys: a writer drops
 * every key at or below its checkpoint.
 *
 * Safe to repeat after any failure: the names depend only on the events,
 * so a later attempt (this writer's, a new owner's, or a second requeue of
 * the same dead letter) finds the file, reads which keys it holds, and
 * appends only the others. A claim-checked event is read from the copy
 * kept for the dead letters (`deadLetteredClaimPath`); that copy is removed
 * once the event is in the lake. A path the lake refuses refuses its
 * directory's events (reported, not thrown); any other failure is thrown.
 */
export async function replayEvents(
  entries: readonly BatchEntry[],
  context: ReplayContext,
): Promise<ReplayOutcome> {
  const kept = entries.map((entry) =>
    isClaimed(entry)
      ? ({ ...entry, claim: deadLetteredClaimPath(entry.claim) } as ClaimedEvent)
      : entry,
  );
  const prepared = await eventLines(kept, new Set(), { ...context, isNew: () => true });
  const refused = [...prepared.refused];
  const files: string[] = [];
  const written: PlannedLine[] = [];
  let alreadyReplayed = 0;
  for (const [dir, lines] of byDirectory(prepared.lines)) {
    const path = `${dir}/${replayFileNameFor(context.partition, lines[0]?.key ?? '')}`;
    try {
      const done = await replayFile(path, lines, context);
      alreadyReplayed += lines.length - done.length;
      written.push(...done);
      files.push(path);
    } catch (error) {
      const failure = new SegmentFailure(
        path,
        lines.map((line) => line.key),
        error,
      );
      if (classifyFailure(failure).class !== 'event') throw failure;
      refused.push({ keys: failure.keys, reason: failure.message });
    }
  }
  await removeKeptClaims(kept, new Set(refused.flatMap((r) => r.keys)), context);
  return {
    written: written.length,
    alreadyReplayed,
    files,
    refused,
    writtenByNamespace: countByNamespace(written, (line) => line.ns),
  };
}

/** Appends to `path` the lines it does not hold yet, then closes it; returns those lines. */
async function replayFile(
  path: string,
  lines: readonly PlannedLine[],
  context: ReplayContext,
): Promise<PlannedLine[]> {
  const { lake, leaseId } = context;
  context.checkOwned();
  let state;
  let present = new Set<string>();
  try {
    state = await lake.create(path, { leaseId });
  } catch (error) {
    if (!(error instanceof LakeError) || error.code !== 'ALREADY_EXISTS') throw error;
    // An earlier attempt: its lease (this writer's or a dead owner's) is
    // taken over, so no other attempt can append behind this one's back.
    await lake.acquireLease(path, leaseId, { takeOver: true });
    context.checkOwned();
    state = await lake.stat(path);
    if (!state) throw new LakeError('NOT_FOUND', `replay file ${path} vanished while being read`);
    present = new Set(linesWithKeys(await lake.read(path)).map((line) => line.key));
  }
  const missing = lines.filter((line) => !present.has(line.key));
  if (missing.length > 0) {
    context.checkOwned();
    const data = Buffer.from(missing.map((line) => line.line).join(''), 'utf8');
    state = await lake.append(path, state.length, data, { ifVersion: state.version, leaseId });
  }
  context.checkOwned();
  await lake.append(path, state.length, new Uint8Array(0), {
    ifVersion: state.version,
    leaseId,
    close: true,
  });
  await lake.releaseLease(path, leaseId);
  return missing;
}

/** Lines grouped by directory, each group in key order (the batch's order). */
function byDirectory(lines: readonly PlannedLine[]): Map<string, PlannedLine[]> {
  const groups = new Map<string, PlannedLine[]>();
  for (const line of lines) {
    const group = groups.get(line.dir);
    if (group) group.push(line);
    else groups.set(line.dir, [line]);
  }
  return groups;
}

/** Best effort: a copy left behind costs only storage. */
async function removeKeptClaims(
  entries: readonly BatchEntry[],
  refused: ReadonlySet<string>,
  context: ReplayContext,
): Promise<void> {
  for (const entry of entries) {
    if (!isClaimed(entry) || refused.has(entry.key)) continue;
    try {
      await context.lake.delete(entry.claim);
    } catch (error) {
      if (error instanceof LakeError && error.code === 'NOT_FOUND') continue;
      context.logger.debug(
        { partition: context.partition, path: entry.claim, err: messageOf(error) },
        'could not remove the kept copy of a replayed claim-checked event',
      );
    }
  }
}
