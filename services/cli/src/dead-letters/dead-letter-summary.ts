import {
  type ChangeBatch,
  decodeBatch,
  deadLetteredClaimPath,
  encodeLine,
  isClaimed,
} from '@tributary/core';
import { type DeadLetter, REQUEUED_AT_HEADER } from '@tributary/queue';

/**
 * What an operator needs to know of one dead letter, read from its batch:
 * how many events, which keys and namespaces. A body that does not decode
 * (a poison batch) is described as such, with why, never thrown.
 */
export interface DeadLetterSummary {
  readonly letter: DeadLetter;
  /** The decoded batch, or `undefined` for a poison body. */
  readonly batch: ChangeBatch | undefined;
  /** Why the body does not decode (a poison batch). */
  readonly undecodable: string | undefined;
  readonly events: number | undefined;
  readonly firstKey: string | undefined;
  readonly lastKey: string | undefined;
  /** `db.coll` (or `db`) of its events, sorted; claim-checked events name none. */
  readonly namespaces: readonly string[];
  /** Events that travel by claim check (their change event waits in the lake). */
  readonly claimChecked: number;
}

/** Reads the batch of `letter` for a pipeline of `partitionCount` partitions. */
export function summarize(letter: DeadLetter, partitionCount: number): DeadLetterSummary {
  let batch: ChangeBatch | undefined;
  let undecodable: string | undefined;
  try {
    batch = decodeBatch(letter.body, partitionCount);
  } catch (error) {
    undecodable = error instanceof Error ? error.message : String(error);
  }
  const events = batch?.events ?? [];
  const namespaces = new Set<string>();
  for (const entry of events) {
    if (isClaimed(entry)) continue;
    const name = namespaceOf(entry.event.ns);
    if (name) namespaces.add(name);
  }
  return {
    letter,
    batch,
    undecodable,
    events: batch ? events.length : undefined,
    firstKey: events[0]?.key,
    lastKey: events.at(-1)?.key,
    namespaces: [...namespaces].sort(),
    claimChecked: events.filter(isClaimed).length,
  };
}

function namespaceOf(ns: unknown): string | undefined {
  if (typeof ns !== 'object' || ns === null) return undefined;
  const { db, coll } = ns as { db?: unknown; coll?: unknown };
  if (typeof db !== 'string') return undefined;
  return typeof coll === 'string' ? `${db}.${coll}` : db;
}

/** `first..last` of the batch's keys, `(undecodable)` or `-`. */
export function keyRange(summary: DeadLetterSummary): string {
  if (summary.undecodable !== undefined) return '(undecodable)';
  if (!summary.firstKey) return '-';
  return summary.firstKey === summary.lastKey
    ? summary.firstKey
    : `${summary.firstKey}..${summary.lastKey}`;
}

/** The reason's first line: how dead letters are grouped, as the Service Bus portal shows them. */
export function reasonHead(reason: string): string {
  return (reason.split('\n', 1)[0] ?? '').trim() || '(no reason given)';
}

/** The reason's first line, cut to `max` characters for a table. */
export function shortReason(reason: string, max = 60): string {
  const head = reasonHead(reason);
  return head.length <= max ? head : `${head.slice(0, max - 1)}…`;
}

/** When the operator requeued it before (it came back to the dead letters), if it was. */
export function requeuedAt(letter: DeadLetter): string | undefined {
  return letter.headers[REQUEUED_AT_HEADER];
}

/**
 * One event as its lake line would read (relaxed Extended JSON, an Int64
 * beyond 2^53 kept exact, with `_tributary`), parsed back to plain JSON —
 * or, for a claim-checked event, where its change event is kept.
 */
export function eventJson(batch: ChangeBatch, index: number): Record<string, unknown> {
  const entry = batch.events[index];
  if (!entry) throw new RangeError(`no event ${index}`);
  if (isClaimed(entry)) {
    return {
      _tributary: { key: entry.key, partition: batch.partition, capturedAt: entry.capturedAt },
      claimCheck: {
        path: entry.claim,
        keptAt: deadLetteredClaimPath(entry.claim),
        bytes: entry.bytes,
      },
    };
  }
  return JSON.parse(encodeLine(entry, batch.partition, 'relaxed')) as Record<string, unknown>;
}

/** Everything known of a dead letter, for `--json`. */
export function summaryJson(summary: DeadLetterSummary): Record<string, unknown> {
  const { letter, batch } = summary;
  return {
    id: letter.id,
    partition: letter.partition,
    generation: batch?.generation ?? null,
    sequence: batch?.sequence ?? null,
    events: summary.events ?? null,
    firstKey: summary.firstKey ?? null,
    lastKey: summary.lastKey ?? null,
    namespaces: summary.namespaces,
    claimChecked: summary.claimChecked,
    undecodable: summary.undecodable ?? null,
    reason: letter.reason,
    failedAttempts: letter.failedAttempts,
    firstFailedAt: letter.firstFailedAt?.toISOString() ?? null,
    deadLetteredAt: letter.deadLetteredAt.toISOString(),
    requeuedAt: requeuedAt(letter) ?? null,
    eventsInLake: letter.eventsInLake.length,
    eventsInLakeKeys: letter.eventsInLake,
    headers: letter.headers,
    bodyBytes: letter.body.byteLength,
  };
}
