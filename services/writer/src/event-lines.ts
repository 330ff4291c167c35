import {
  type BatchEntry,
  type CapturedEvent,
  type JsonFormat,
  CoreError,
  decodeClaim,
  encodeLine,
  eventTimeOfKey,
  isClaimed,
  isCoreError,
  renderPath,
} from '@tributary/core';
import { type Lake, isLakeError } from '@tributary/lake';
import { messageOf } from './failure-class.ts';
import type { PlannedLine } from './segment-plan.ts';

/** Events the batch cannot write, with why (the dead letter records them). */
export interface RefusedEvents {
  readonly keys: readonly string[];
  readonly reason: string;
}

/** What turning a batch's entries into lines needs. */
export interface LineContext {
  readonly partition: number;
  readonly lake: Lake;
  readonly pathTemplate: string;
  readonly jsonFormat: JsonFormat;
  /** False for an event the partition already has. */
  readonly isNew: (key: string) => boolean;
  /** Called before each lake request (throws once ownership is lost). */
  readonly checkOwned: () => void;
}

/** The lines of a batch's new events, and the events that cannot become lines. */
export interface EventLines {
  readonly lines: PlannedLine[];
  readonly refused: RefusedEvents[];
}

/**
 * The JSONL line and event-time directory of each new event of a batch,
 * claim checks read back from the lake. One event's own problem — its
 * staged copy gone or not a change event, a line that cannot be encoded —
 * refuses that event alone; the batch goes on. A failure of the lake itself
 * is thrown.
 */
export async function eventLines(
  entries: readonly BatchEntry[],
  left: ReadonlySet<string>,
  context: LineContext,
): Promise<EventLines> {
  const lines: PlannedLine[] = [];
  const refused: RefusedEvents[] = [];
  for (const entry of entries) {
    if (!context.isNew(entry.key) || left.has(entry.key)) continue;
    try {
      const captured = isClaimed(entry) ? await resolve(entry.claim, entry, context) : entry;
      lines.push(lineOf(captured, context));
    } catch (error) {
      if (!isCoreError(error) && !(error instanceof RangeError) && !(error instanceof TypeError))
        throw error;
      refused.push({ keys: [entry.key], reason: `event ${entry.key}: ${messageOf(error)}` });
    }
  }
  return { lines, refused };
}

/**
 * The staged change event of a claim check. One that is gone was removed
 * outside Tributary (writers remove them only once a checkpoint covers
 * them): that event's problem.
 */
async function resolve(
  path: string,
  entry: { key: string; capturedAt: Date },
  context: LineContext,
): Promise<CapturedEvent> {
  context.checkOwned();
  try {
    return {
      key: entry.key,
      capturedAt: entry.capturedAt,
      event: decodeClaim(await context.lake.read(path), path),
    };
  } catch (error) {
    if (!isLakeError(error) || error.code !== 'NOT_FOUND') throw error;
    throw new CoreError(
      'BATCH_INVALID',
      `the claim-checked event at ${path} is gone; it was removed outside Tributary`,
      { cause: error },
    );
  }
}

function lineOf(captured: CapturedEvent, context: LineContext): PlannedLine {
  const time = eventTimeOfKey(captured.key);
  const ns = captured.event.ns as { db?: string; coll?: string } | undefined;
  return {
    dir: renderPath(context.pathTemplate, { db: ns?.db, coll: ns?.coll, eventTime: time }),
    key: captured.key,
    line: encodeLine(captured, context.partition, context.jsonFormat),
    ns: captured.event.ns,
  };
}
