import { partitionOf } from '@tributary/core';
import type { LakeScan } from '@tributary/lake';
import type { Document, MongoClient } from 'mongodb';
import {
  documentIdKey,
  documentIdOfKey,
  fingerprint,
  formatDocumentId,
} from './document-fingerprint.ts';
import { DELETED, type DocumentStates, UNKNOWN } from './document-states.ts';
import { type Routing, documentRef } from './event-comparison.ts';
import { throwIfInterrupted } from './interrupted.ts';

/** Documents compared for one collection. */
export interface DocumentTally {
  /** Documents in the source collection. */
  source: number;
  /** Same content in the lake's latest state. */
  matching: number;
  /** In the source, gone or absent in the lake although they should be there. */
  missing: number;
  /** Live in the lake's latest state, not in the source. */
  extra: number;
  /** In both, with different content. */
  differing: number;
  /** Differences explained by changes still on their way to the lake. */
  inFlight: number;
  /** Differences explained by changes an operator's resume-point move skipped (a gap marker). */
  skipped: number;
  /**
   * In the source, never in the lake, and no change to them in the replayed
   * history: unchanged since before capture began (Tributary captures
   * changes, not a snapshot), or — without the history — beyond telling.
   */
  untracked: number;
  /** The lake's latest event carries no post-image to compare (an update without `updateLookup`). */
  unverifiable: number;
}

export type DocumentIssue = 'missing' | 'extra' | 'differing';

/** A document that does not match, to be judged once in-flight changes are known. */
export interface DocumentDifference {
  readonly issue: DocumentIssue;
  readonly namespace: string;
  readonly idKey: string;
  readonly partition: number;
  /** The latest lake line for it (its ledger entry), when there is one. */
  readonly entry: number | undefined;
}

/** What the source's documents are known to be doing. */
export interface ChangeKnowledge {
  /** Documents with lost changes (covered by a checkpoint, not in the lake). */
  readonly documentsMissingEvents: ReadonlySet<string>;
  /** Documents with changes still on their way. */
  readonly documentsInFlight: ReadonlySet<string>;
  /** Documents with changes an operator's resume-point move skipped. */
  readonly documentsSkippedEvents: ReadonlyMap<string, string>;
}

/**
 * Reads one captured collection as it is now and holds every document
 * against the latest state the lake gives it. Matching documents, and
 * source documents the lake never saw that no replayed change concerns
 * (untracked), are only counted; the others come back as differences to
 * judge once it is known which changes are in flight.
 */
export async function compareCollection(
  client: MongoClient,
  namespace: string,
  states: DocumentStates,
  known: ChangeKnowledge,
  routing: Routing,
  options: { signal?: AbortSignal; onProgress?: (documents: number) => void } = {},
): Promise<{ tally: DocumentTally; differences: DocumentDifference[] }> {
  const dot = namespace.indexOf('.');
  const [db, coll] = [namespace.slice(0, dot), namespace.slice(dot + 1)];
  const tally = emptyDocumentTally();
  const differences: DocumentDifference[] = [];
  const documents = states.documents(namespace);
  const seen = new Set<string>();
  const partition = (id: unknown) =>
    partitionOf(
      { ns: { db, coll }, documentKey: { _id: id } },
      routing.partitionCount,
      routing.partitionKey,
    );
  const cursor = client.db(db).collection(coll).find({}, { batchSize: 1000 });
  try {
    for await (const document of cursor as AsyncIterable<Document>) {
      tally.source += 1;
      if (tally.source % 10_000 === 0) {
        throwIfInterrupted(options.signal);
        options.onProgress?.(tally.source);
      }
      const idKey = documentIdKey(document._id);
      const state = documents.get(idKey);
      if (state) seen.add(idKey);
      const content = state && states.contentOf(namespace, state);
      const difference = (issue: DocumentIssue) =>
        differences.push({
          issue,
          namespace,
          idKey,
          partition: partition(document._id),
          entry: state?.entry,
        });
      if (content === undefined) {
        const ref = documentRef(namespace, idKey);
        if (
          known.documentsMissingEvents.has(ref) ||
          known.documentsInFlight.has(ref) ||
          known.documentsSkippedEvents.has(ref)
        )
          difference('missing');
        else tally.untracked += 1;
      } else if (content === DELETED) difference('missing');
      else if (content === UNKNOWN) tally.unverifiable += 1;
      else if (content === fingerprint(document)) tally.matching += 1;
      else difference('differing');
    }
  } finally {
    await cursor.close();
  }
  for (const [idKey, state] of documents) {
    if (seen.has(idKey)) continue;
    const content = states.contentOf(namespace, state);
    if (content === DELETED) continue;
    if (content === UNKNOWN) {
      tally.unverifiable += 1;
      continue;
    }
    differences.push({
      issue: 'extra',
      namespace,
      idKey,
      partition: partition(documentIdOfKey(idKey)),
      entry: state.entry,
    });
  }
  options.onProgress?.(tally.source);
  return { tally, differences };
}

/** Describes a difference for people: what, which document, and the lake line it was judged by. */
export function describeDifference(difference: DocumentDifference, scan: LakeScan): string {
  const where =
    difference.entry === undefined
      ? 'no line in the lake'
      : (() => {
          const entry = scan.ledger.entry(difference.entry);
          return `latest line ${scan.files[entry.file]?.path}:${entry.line}`;
        })();
  const what = {
    missing: 'in the source, not in the lake',
    extra: 'in the lake, not in the source',
    differing: 'differs from the source',
  }[difference.issue];
  return `_id ${formatDocumentId(difference.idKey)} ${what} (${where})`;
}

/** A tally with nothing counted yet. */
export function emptyDocumentTally(): DocumentTally {
  return {
    source: 0,
    matching: 0,
    missing: 0,
    extra: 0,
    differing: 0,
    inFlight: 0,
    skipped: 0,
    untracked: 0,
    unverifiable: 0,
  };
}
