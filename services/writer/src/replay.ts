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
  /** Events the lake held already (an earlier attempt, or a stale dead-letter record). */
  readonly alreadyInLake: number;
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
 * Events the lake holds already are not written again, whatever the dead
 * letter recorded ({@link keysIn}). Safe to repeat after any failure: the
 * names depend only on the events, so a later attempt (this writer's, a new
 * owner's, or a second requeue of the same dead letter) finds the file,
 * reads which keys it holds, and appends only the others. A claim-checked event is read from the copy
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
  let alreadyInLake = 0;
  for (const [dir, lines] of byDirectory(prepared.lines)) {
    const path = `${dir}/${replayFileNameFor(context.partition, lines[0]?.key ?? '')}`;
    try {
      const done = await replayFile(path, lines, await keysIn(dir, lines, context), context);
      alreadyInLake += lines.length - done.length;
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
    alreadyInLake,
    files,
    refused,
    writtenByNamespace: countByNamespace(written, (line) => line.ns),
  };
}

/** Appends to `path` the lines it does not hold yet, then closes it; returns those lines. */
async function replayFile(
  path: string,
  lines: readonly PlannedLine[],
  present: Set<string>,
  context: ReplayContext,
): Promise<PlannedLine[]> {
  const { lake, leaseId } = context;
  if (lines.every((line) => present.has(line.key))) return [];
  context.checkOwned();
  let state;
  try {
    state = await lake.create(path, { leaseId });
  } catch (error) {
    if (!(error instanceof LakeError) || error.code !== 'ALREADY_EXISTS') throw error;
    // An earlier attempt: its lease (this writer's or a dead owner's) is
    // taken over, so no other attempt can append behind this one's back,
    // and what it holds is read again under the lease.
    await lake.acquireLease(path, leaseId, { takeOver: true });
    context.checkOwned();
    state = await lake.stat(path);
    if (!state) throw new LakeError('NOT_FOUND', `replay file ${path} vanished while being read`);
    for (const line of linesWithKeys(await lake.read(path))) present.add(line.key);
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

/**
 * Which of `lines`' keys the partition's files in `dir` hold already,
 * whatever the dead letter recorded: a record can be stale (a writer that
 * died between dead-lettering a batch and checkpointing past it had its
 * events re-sent and written), and the service's own dead letters carry
 * none. Read are the partition's replay files, and of its regular files
 * (named after their first key, never overlapping) the one each key would
 * be in.
 */
async function keysIn(
  dir: string,
  lines: readonly PlannedLine[],
  context: ReplayContext,
): Promise<Set<string>> {
  const prefix = `part-${String(context.partition).padStart(4, '0')}-`;
  const regular: { path: string; firstKey: string }[] = [];
  const replays: string[] = [];
  context.checkOwned();
  for await (const entry of context.lake.list(`${dir}/`)) {
    const name = entry.path.slice(dir.length + 1);
    if (name.includes('/') || !name.startsWith(prefix) || !name.endsWith('.jsonl')) continue;
    const rest = name.slice(prefix.length, -'.jsonl'.length);
    if (rest.startsWith('replay-')) replays.push(entry.path);
    else regular.push({ path: entry.path, firstKey: rest });
  }
  regular.sort((a, b) => (a.firstKey < b.firstKey ? -1 : a.firstKey > b.firstKey ? 1 : 0));
  const toRead = new Set(replays);
  for (const { key } of lines) {
    const holder = regular.findLast((file) => file.firstKey <= key);
    if (holder) toRead.add(holder.path);
  }
  const present = new Set<string>();
  for (const path of toRead) {
    context.checkOwned();
    for (const line of linesWithKeys(await context.lake.read(path))) present.add(line.key);
  }
  return present;
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
