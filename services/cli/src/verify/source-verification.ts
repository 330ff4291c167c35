import type { LakeScan } from '@tributary/lake';
import { type MongoClient, MongoError } from 'mongodb';
import { CliError } from '../cli-error.ts';
import type { CommandContext } from '../command.ts';
import { replayChangeStream } from './change-stream-replay.ts';
import {
  type DocumentDifference,
  type DocumentTally,
  compareCollection,
  describeDifference,
} from './document-comparison.ts';
import type { DocumentStates } from './document-states.ts';
import { EventComparison, type EventTally, type Routing } from './event-comparison.ts';
import { type Examples, examples } from './examples.ts';
import { isInFlight } from './in-flight-rule.ts';
import type { PartitionCoverage } from './partition-coverage.ts';
import { isoOf, operationTime, replayHistory } from './replay-history.ts';
import { type ResumeGapRule, skippedBy } from './resume-gap-rule.ts';
import type { VerifyOptions } from './verify-options.ts';
import type { Finding, InFlight, Skipped, VerifyReport, VerifyCheck } from './verify-report.ts';

/** The lake held against the source. */
export interface SourceVerification {
  readonly summary: NonNullable<VerifyReport['source']>;
  /** Per collection verified. */
  readonly documents: ReadonlyMap<string, DocumentTally>;
  /** Per namespace, when events were compared one by one. */
  readonly events: ReadonlyMap<string, EventTally> | undefined;
  /** The namespaces events were compared for. */
  readonly scope: ReadonlySet<string>;
  readonly findings: readonly Finding[];
  readonly inFlight: readonly InFlight[];
  readonly skipped: readonly Skipped[];
  readonly notes: readonly string[];
}

/**
 * Compares the lake with MongoDB: a replay of the change stream first
 * (events one by one, and which changes are in flight), then each
 * collection the lake holds as it is now against the latest state the lake
 * gives its documents, then a short replay over the time the collections
 * took to read (changes made meanwhile are in flight too). Every
 * difference is then judged by {@link isInFlight} and {@link skippedBy}.
 */
export async function verifyAgainstSource(
  ctx: CommandContext,
  scan: LakeScan,
  states: DocumentStates,
  coverage: PartitionCoverage,
  gaps: ResumeGapRule,
  routing: Routing,
  options: VerifyOptions,
): Promise<SourceVerification> {
  const client = await ctx.systems.mongo();
  try {
    return await compareWithSource(ctx, client, scan, states, coverage, gaps, routing, options);
  } catch (error) {
    if (!(error instanceof MongoError)) throw error;
    throw new CliError(
      'UNAVAILABLE',
      `MongoDB failed while the lake was compared with it: ${error.message}. Check that it runs, and that the user in MONGODB_URI may read the collections and open a change stream on the whole deployment (the readAnyDatabase role).`,
      { cause: error },
    );
  }
}

async function compareWithSource(
  ctx: CommandContext,
  client: MongoClient,
  scan: LakeScan,
  states: DocumentStates,
  coverage: PartitionCoverage,
  gaps: ResumeGapRule,
  routing: Routing,
  options: VerifyOptions,
): Promise<SourceVerification> {
  const collections = [
    ...new Set([...scan.tallies.keys(), ...(options.namespace ? [options.namespace] : [])]),
  ]
    .filter((ns) => ns.includes('.') && (!options.namespace || ns === options.namespace))
    .sort();
  const scope = new Set([...scan.tallies.keys(), ...collections]);
  const replayed = await replayHistory(
    ctx,
    client,
    scan,
    coverage,
    gaps,
    routing,
    options,
    scope,
    collections,
    states.invalidations,
  );

  const documents = new Map<string, DocumentTally>();
  const differences: DocumentDifference[] = [];
  const known = replayed.comparison ?? {
    documentsMissingEvents: new Set<string>(),
    documentsInFlight: new Set<string>(),
    documentsSkippedEvents: new Map<string, string>(),
  };
  for (const namespace of collections) {
    const compared = await compareCollection(client, namespace, states, known, routing, {
      signal: ctx.signal,
      onProgress: (n) => ctx.out.progress(`Reading ${namespace}: ${documentCount(n)}`),
    });
    ctx.out.progress(`Read ${namespace}: ${documentCount(compared.tally.source)}`, true);
    documents.set(namespace, compared.tally);
    differences.push(...compared.differences);
  }

  // Changes made while the collections were read are on their way too.
  const readAt = await operationTime(client);
  const catchUp = new EventComparison(
    scan,
    coverage,
    gaps,
    undefined,
    routing,
    scope,
    states.invalidations,
  );
  const caughtUp = await replayChangeStream(
    client,
    { at: replayed.until },
    readAt,
    (event) => catchUp.add(event),
    { signal: ctx.signal },
  );
  if (caughtUp.kind === 'complete') catchUp.finish();
  const knowledge = {
    coverage,
    replays: [
      ...(replayed.comparison ? [replayed.comparison] : []),
      ...(caughtUp.kind === 'complete' ? [catchUp] : []),
    ],
    knownFrom: caughtUp.kind === 'complete' ? replayed.knownFrom : undefined,
    readAt,
  };
  const documentsInFlight = examples();
  const documentsSkipped = examples();
  const issues: Record<DocumentDifference['issue'], Examples> = {
    missing: examples(),
    extra: examples(),
    differing: examples(),
  };
  let assumed = 0;
  for (const difference of differences) {
    const tally = documents.get(difference.namespace) as DocumentTally;
    const text = describeDifference(difference, scan);
    const inFlight = isInFlight(difference, knowledge);
    // What the replay saw on its way comes first; what it saw skipped is
    // known, where the in-flight rule's 'assumed' is only a guess.
    const skipped = inFlight === 'seen' ? undefined : skippedBy(difference, knowledge.replays);
    if (skipped !== undefined) {
      tally.skipped += 1;
      documentsSkipped.add(
        difference.namespace,
        `${text}; its changes the lake lacks were skipped by an operator's resume-point move (marker ${skipped})`,
      );
    } else if (inFlight) {
      tally.inFlight += 1;
      if (inFlight === 'assumed') assumed += 1;
      documentsInFlight.add(
        difference.namespace,
        inFlight === 'assumed' ? `${text}; taken as in flight, the history cannot tell` : text,
      );
    } else {
      tally[difference.issue] += 1;
      issues[difference.issue].add(difference.namespace, text);
    }
  }

  const compared = replayed.summary.status === 'compared' ? replayed.comparison : undefined;
  const findings: Finding[] = [
    ...(compared ? findingsOf('missing-event', compared.missing) : []),
    ...(compared ? findingsOf('unexpected-event', compared.unexpected) : []),
    ...findingsOf('missing-document', issues.missing),
    ...findingsOf('extra-document', issues.extra),
    ...findingsOf('differing-document', issues.differing),
  ];
  const inFlight: InFlight[] = [
    ...(compared?.inFlight.kept.map((e) => ({ kind: 'event' as const, ...e })) ?? []),
    ...documentsInFlight.kept.map((e) => ({ kind: 'document' as const, ...e })),
  ];
  const skipped: Skipped[] = [
    ...(compared?.skipped.kept.map((e) => ({ kind: 'event' as const, ...e })) ?? []),
    ...documentsSkipped.kept.map((e) => ({ kind: 'document' as const, ...e })),
  ];
  return {
    summary: { documentsAsOf: isoOf(readAt), replay: replayed.summary },
    documents,
    events: compared?.tallies,
    scope,
    findings,
    inFlight,
    skipped,
    notes: [
      ...replayed.notes,
      ...documentNotes(documents, replayed.summary.status === 'compared'),
      ...(assumed > 0
        ? [
            `${documentCount(assumed)} that differ ${assumed === 1 ? 'was' : 'were'} taken as in flight although no change on its way was seen: MongoDB no longer has the history back to ${assumed === 1 ? 'its' : 'their'} partition's checkpoint, so a lost change cannot be told from a late one. Run verify again once the writers have caught up (tributary status).`,
          ]
        : []),
    ],
  };
}

function findingsOf(check: VerifyCheck, found: Examples): Finding[] {
  return found.kept.map((e) => ({ check, ...e }));
}

function documentCount(n: number): string {
  return `${n.toLocaleString('en-US')} document${n === 1 ? '' : 's'}`;
}

/** What the document counts leave out, and why. */
function documentNotes(documents: ReadonlyMap<string, DocumentTally>, replayed: boolean): string[] {
  const notes: string[] = [];
  const untracked = [...documents.values()].reduce((n, t) => n + t.untracked, 0);
  if (untracked > 0)
    notes.push(
      `${documentCount(untracked)} of the source ${untracked === 1 ? 'has' : 'have'} no event in the lake and no change in the replayed history: unchanged since before capture began (Tributary captures changes, not a snapshot)${replayed ? '' : ', or lost with no history left to tell'}; not counted as problems.`,
    );
  const unverifiable = [...documents.values()].reduce((n, t) => n + t.unverifiable, 0);
  if (unverifiable > 0)
    notes.push(
      `${documentCount(unverifiable)} could not be compared: the latest lake event is an update without a post-image (capture runs without TRIBUTARY_FULL_DOCUMENT=updateLookup, or the document was gone when it was looked up).`,
    );
  return notes;
}
