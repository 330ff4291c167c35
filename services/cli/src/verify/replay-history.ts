import { partitionOf } from '@tributary/core';
import type { LakeScan } from '@tributary/lake';
import type { Timestamp } from 'bson';
import type { MongoClient } from 'mongodb';
import { CliError } from '../cli-error.ts';
import type { CommandContext } from '../command.ts';
import { type ReplayStart, replayChangeStream } from './change-stream-replay.ts';
import {
  type ClusterInstant,
  compareInstants,
  earliest,
  formatInstant,
  instantOfTimestamp,
} from './cluster-instant.ts';
import { EventComparison, type EventWindow, type Routing } from './event-comparison.ts';
import { throwIfInterrupted } from './interrupted.ts';
import type { PartitionCoverage } from './partition-coverage.ts';
import type { ResumeGapRule } from './resume-gap-rule.ts';
import type { VerifyOptions } from './verify-options.ts';
import type { ReplaySummary } from './verify-report.ts';

/** What the replay of the source's history gave. */
export interface ReplayedHistory {
  /** The comparison fed by the replay; absent when MongoDB had none of the history asked for. */
  readonly comparison: EventComparison | undefined;
  /** The source's operation time when the replay began: where it stopped. */
  readonly until: ClusterInstant;
  /** From where the replay saw every change (its start), when it ran. */
  readonly knownFrom: ClusterInstant | undefined;
  readonly summary: ReplaySummary;
  readonly notes: readonly string[];
}

/**
 * Replays the deployment's change stream through the source's current
 * operation time, from early enough for both of its jobs: the window
 * compared event by event (`--since`, `--resume-token`, or the oldest line
 * in the lake) and the changes after each partition's checkpoint (which
 * tell what is in flight). When MongoDB no longer has the history from
 * there, later starts are tried: the window alone, then the checkpoints
 * alone — so a lake older than the oplog still learns what is in flight.
 *
 * @param gaps the events operators gave up (see {@link ResumeGapRule}).
 * @param collections the collections verified (they say which partitions matter).
 * @param scope the namespaces whose events are compared.
 * @param ignored ledger entries that are no source events (capture's invalidates).
 */
export async function replayHistory(
  ctx: CommandContext,
  client: MongoClient,
  scan: LakeScan,
  coverage: PartitionCoverage,
  gaps: ResumeGapRule,
  routing: Routing,
  options: VerifyOptions,
  scope: ReadonlySet<string>,
  collections: readonly string[],
  ignored: ReadonlySet<number>,
): Promise<ReplayedHistory> {
  const until = await operationTime(client);
  const notes: string[] = [];
  const window = eventWindow(scan, options, until, coverage.origin, notes);
  const lookBack = checkpointsLookBack(coverage, routing, collections);
  const starts: { start: ReplayStart; compares: boolean }[] = [];
  if (window) {
    if (lookBack && compareInstants(lookBack, window.from) < 0)
      starts.push({ start: { at: lookBack }, compares: true });
    starts.push({
      start:
        window.exclusive && options.replayFrom?.kind === 'resume-token'
          ? { after: options.replayFrom.token, at: window.from }
          : { at: window.from },
      compares: true,
    });
  }
  if (lookBack && (!window || compareInstants(lookBack, window.from) > 0))
    starts.push({ start: { at: lookBack }, compares: false });

  if (!window)
    notes.push(
      'The lake holds no line to replay from, and neither --since nor --resume-token was given: events were not compared one by one.',
    );
  let lost: string | undefined;
  for (const { start, compares } of starts) {
    throwIfInterrupted(ctx.signal);
    const comparison = new EventComparison(
      scan,
      coverage,
      gaps,
      compares ? window : undefined,
      routing,
      scope,
      ignored,
    );
    const outcome = await replayChangeStream(client, start, until, (e) => comparison.add(e), {
      signal: ctx.signal,
      onProgress: (n) =>
        ctx.out.progress(`Replaying the change stream: ${n.toLocaleString('en-US')} events`),
    });
    if (outcome.kind === 'history-lost') {
      lost ??= outcome.reason;
      continue;
    }
    comparison.finish();
    ctx.out.progress(
      `Replayed ${outcome.events.toLocaleString('en-US')} change stream event${outcome.events === 1 ? '' : 's'}`,
      true,
    );
    if (compares && window)
      return {
        comparison,
        until,
        knownFrom: start.at,
        summary: {
          status: 'compared',
          from: isoOf(window.from),
          after: window.exclusive,
          until: isoOf(until),
          events: outcome.events,
        },
        notes,
      };
    if (window)
      notes.push(
        `MongoDB no longer has the change stream history from ${formatInstant(window.from)} (${lost}): events were not compared one by one; the changes after the checkpoints were read to tell what is in flight.`,
      );
    return {
      comparison,
      until,
      knownFrom: start.at,
      summary: window
        ? { status: 'history-lost', ...(lost ? { reason: lost } : {}) }
        : { status: 'none' },
      notes,
    };
  }
  if (starts.length > 0)
    notes.push(
      `MongoDB no longer has the change stream history from ${formatInstant(starts[0]?.start.at ?? until)} (${lost}): events were not compared one by one, and a difference in a partition whose checkpoint is behind the source's operation time counts as in flight.`,
    );
  return {
    comparison: undefined,
    until,
    knownFrom: undefined,
    summary: window
      ? { status: 'history-lost', ...(lost ? { reason: lost } : {}) }
      : { status: 'none' },
    notes,
  };
}

/** The source's current operation time (its clusterTime after the latest write). */
export async function operationTime(client: MongoClient): Promise<ClusterInstant> {
  const reply = await client.db('admin').command({ ping: 1 });
  const time = reply.operationTime as Timestamp | undefined;
  if (!time)
    throw new CliError(
      'USAGE',
      'MongoDB reported no operation time: MONGODB_URI must name the replica set or sharded cluster capture watches.',
    );
  return instantOfTimestamp(time);
}

export function isoOf(instant: ClusterInstant): string {
  return new Date(instant.t * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The stretch compared event by event: from the option, else from the
 * oldest line in the lake — never before capture's origin, whose earlier
 * events nobody meant to capture.
 */
function eventWindow(
  scan: LakeScan,
  options: VerifyOptions,
  until: ClusterInstant,
  origin: ClusterInstant | undefined,
  notes: string[],
): EventWindow | undefined {
  const replayFrom = options.replayFrom;
  if (replayFrom) {
    const from = replayFrom.kind === 'since' ? replayFrom.at : replayFrom.after;
    if (origin && compareInstants(from, origin) < 0) {
      notes.push(
        `Capture began at ${formatInstant(origin)}, after the --${replayFrom.kind} given: events are compared from there.`,
      );
      return { from: origin, exclusive: false, until };
    }
    return { from, exclusive: replayFrom.kind === 'resume-token', until };
  }
  const oldest = scan.ledger.sortedOrder()[0];
  if (oldest === undefined) return undefined;
  const { t, i } = scan.ledger.entry(oldest);
  return { from: { t, i }, exclusive: false, until };
}

/**
 * The earliest clusterTime a checkpoint of the verified collections'
 * partitions may not cover (`undefined` when one of them has neither a
 * checkpoint nor a known capture origin).
 */
function checkpointsLookBack(
  coverage: PartitionCoverage,
  routing: Routing,
  collections: readonly string[],
): ClusterInstant | undefined {
  const partitions =
    routing.partitionKey === 'namespace'
      ? collections.map((ns) => {
          const dot = ns.indexOf('.');
          const event = { ns: { db: ns.slice(0, dot), coll: ns.slice(dot + 1) } };
          return partitionOf(event, routing.partitionCount, 'namespace');
        })
      : Array.from({ length: routing.partitionCount }, (_, p) => p);
  let from: ClusterInstant | undefined;
  for (const partition of new Set(partitions)) {
    const uncovered = coverage.uncoveredFrom(partition);
    if (uncovered === undefined) return undefined;
    from = earliest(from, uncovered);
  }
  return from;
}
