import { type ClusterInstant, compareInstants } from './cluster-instant.ts';
import type { DocumentDifference } from './document-comparison.ts';
import { type EventComparison, documentRef } from './event-comparison.ts';
import type { PartitionCoverage } from './partition-coverage.ts';

/** What is known of the changes still on their way to the lake. */
export interface InFlightKnowledge {
  readonly coverage: PartitionCoverage;
  /** Replays that ran (the history and the catch-up over the collection reads). */
  readonly replays: readonly EventComparison[];
  /**
   * From where the replays saw every change through `readAt`; `undefined`
   * when MongoDB had no history to replay.
   */
  readonly knownFrom: ClusterInstant | undefined;
  /** The source's operation time after the collections were read. */
  readonly readAt: ClusterInstant;
}

/**
 * Whether a document's difference between the lake and the source is in
 * flight rather than a problem: `seen` when the replay shows the change on
 * its way, `assumed` when the history no longer reaches back to tell,
 * `false` when it is a problem.
 *
 * The rule: the lake is only answerable for what the checkpoints cover —
 * a writer stores a checkpoint after its lines are flushed, and verify
 * reads the checkpoints before the lake. So a difference is in flight when
 * the source shows a change to the document (or a drop of its collection)
 * that its partition's checkpoint does not cover and the lake does not
 * hold: the change is still in the queue or in a writer's hands, and the
 * lake will catch up. Any other difference is a problem: every change the
 * checkpoint covers should have brought the lake to the source's state.
 *
 * The replayed change stream tells which changes those are, exactly, as
 * long as it reaches back to the partition's checkpoint. Where it does not
 * (MongoDB no longer has that history), the coarser rule applies: the
 * difference is in flight when the partition's checkpoint is behind the
 * source's operation time. It cannot tell a lost change from a late one
 * then (the change may still wait in the queue while the oplog has rolled
 * over), so it raises no alarm that may be false, and the report says how
 * many differences it let pass this way.
 */
export function isInFlight(
  difference: DocumentDifference,
  known: InFlightKnowledge,
): 'seen' | 'assumed' | false {
  const ref = documentRef(difference.namespace, difference.idKey);
  const changed = known.replays.some(
    (r) => r.documentsInFlight.has(ref) || r.namespacesInFlight.has(difference.namespace),
  );
  if (changed) return 'seen';
  const uncoveredFrom = known.coverage.uncoveredFrom(difference.partition);
  const seenEverything =
    known.knownFrom !== undefined &&
    uncoveredFrom !== undefined &&
    compareInstants(known.knownFrom, uncoveredFrom) <= 0;
  if (seenEverything) return false;
  return known.coverage.covers(difference.partition, known.readAt, undefined) ? false : 'assumed';
}
