import {
  type BatchEntry,
  type ClaimedEvent,
  type Logger,
  deadLetteredClaimPath,
  isClaimed,
} from '@tributary/core';
import { type Lake, LakeError, committedLines } from '@tributary/lake';
import type { NamespaceCounts } from '@tributary/telemetry';
import { countByNamespace } from '@tributary/telemetry';
import { type LineContext, type RefusedEvents, eventLines } from './event-lines.ts';
import { SegmentFailure, classifyFailure, messageOf } from './failure-class.ts';
import type { PlannedLine } from './segment-plan.ts';
import { keyOfLine, linesWithKeys } from './tail-keys.ts';

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
  /**
   * Kept copies of claim-checked events now in the lake: remove them once
   * the batch is acknowledged ({@link removeKeptClaims}) — not before, or a
   * redelivery after a failed acknowledgement could not read them.
   */
  readonly keptClaims: readonly string[];
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
 * reads which keys it holds, and appends only the others. A claim-checked
 * event is read from the copy kept for the dead letters
 * (`deadLetteredClaimPath`), else from its staged copy (a service's dead
 * letter has no kept copy). A path the lake refuses refuses its
 * directory's events (reported, not thrown); any other failure is thrown.
 */
export async function replayEvents(
  entries: readonly BatchEntry[],
  context: ReplayContext,
): Promise<ReplayOutcome> {
  const {
    entries: readable,
    kept: keptCopies,
    refused: gone,
  } = await claimSources(entries, context);
  const prepared = await eventLines(readable, new Set(), { ...context, isNew: () => true });
  const refused = [...gone, ...prepared.refused];
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
  const refusedKeys = new Set(refused.flatMap((r) => r.keys));
  return {
    written: written.length,
    alreadyInLake,
    files,
    refused,
    writtenByNamespace: countByNamespace(written, (line) => line.ns),
    keptClaims: [...keptCopies].flatMap(([key, path]) => (refusedKeys.has(key) ? [] : [path])),
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
  const lengths = new Map<string, number>();
  context.checkOwned();
  for await (const entry of context.lake.list(`${dir}/`)) {
    const name = entry.path.slice(dir.length + 1);
    if (name.includes('/') || !name.startsWith(prefix) || !name.endsWith('.jsonl')) continue;
    const rest = name.slice(prefix.length, -'.jsonl'.length);
    lengths.set(entry.path, entry.length);
    if (rest.startsWith('replay-')) replays.push(entry.path);
    else regular.push({ path: entry.path, firstKey: rest });
  }
  regular.sort((a, b) => (a.firstKey < b.firstKey ? -1 : a.firstKey > b.firstKey ? 1 : 0));
  const toRead = new Set(replays);
  for (const { key } of lines) {
    const holder = regular.findLast((file) => file.firstKey <= key);
    if (holder) toRead.add(holder.path);
  }
  // Streamed, and only keys in the replay's range kept: the files may be
  // large, and the writer's memory is bounded whatever they hold.
  const low = lines[0]?.key ?? '';
  const high = lines.at(-1)?.key ?? '';
  const present = new Set<string>();
  for (const path of toRead) {
    context.checkOwned();
    for await (const line of committedLines(context.lake, path, lengths.get(path) ?? 0)) {
      const key = keyOfLine(line.text);
      if (key !== undefined && key >= low && key <= high) present.add(key);
    }
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

/**
 * Where each claim-checked event can be read: the copy kept for the dead
 * letters, else its staged copy (a service's dead letter has no kept copy;
 * its staged copy stays until a checkpoint covers it). With both gone the
 * event is refused, saying what that most likely means.
 */
async function claimSources(
  entries: readonly BatchEntry[],
  context: ReplayContext,
): Promise<{ entries: BatchEntry[]; kept: Map<string, string>; refused: RefusedEvents[] }> {
  const readable: BatchEntry[] = [];
  /** Key → the kept copy it is read from. */
  const kept = new Map<string, string>();
  const refused: RefusedEvents[] = [];
  for (const entry of entries) {
    if (!isClaimed(entry)) {
      readable.push(entry);
      continue;
    }
    context.checkOwned();
    const copy = deadLetteredClaimPath(entry.claim);
    if (await context.lake.stat(copy)) {
      readable.push({ ...entry, claim: copy } as ClaimedEvent);
      kept.set(entry.key, copy);
    } else if (await context.lake.stat(entry.claim)) readable.push(entry);
    else
      refused.push({
        keys: [entry.key],
        reason: `event ${entry.key}: its staged copy (${entry.claim}) and the copy kept for the dead letters are gone; writers remove them only once a checkpoint covers the event, so it is most likely in the lake already — check with 'tributary verify', then purge this dead letter`,
      });
  }
  return { entries: readable, kept, refused };
}

/** Removes kept copies after the acknowledgement. Best effort: a copy left behind costs only storage. */
export async function removeKeptClaims(
  paths: readonly string[],
  context: { readonly lake: Lake; readonly logger: Logger; readonly partition: number },
): Promise<void> {
  for (const path of paths) {
    try {
      await context.lake.delete(path);
    } catch (error) {
      if (error instanceof LakeError && error.code === 'NOT_FOUND') continue;
      context.logger.debug(
        { partition: context.partition, path, err: messageOf(error) },
        'could not remove the kept copy of a replayed claim-checked event',
      );
    }
  }
}
