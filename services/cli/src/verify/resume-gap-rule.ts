import { parseOrderingKey } from '@tributary/core';
import { type ClusterInstant, compareInstants, instantOfTimestamp } from './cluster-instant.ts';
import type { DocumentDifference } from './document-comparison.ts';
import { documentRef } from './event-comparison.ts';
import type { FoundMarker } from './resume-markers.ts';

/** One gap an operator accepted, as the rule reads it. */
interface Gap {
  readonly path: string;
  /** The restart point of the checkpoints when the move was set: read up to here. */
  readonly from: ClusterInstant;
  /** Its key's position among the events of `from`, when the key stands at `from`. */
  readonly fromN: number | undefined;
  /** Where capture resumed, inclusive. */
  readonly to: ClusterInstant;
  readonly partitions: ReadonlySet<number>;
}

/**
 * The events operators gave up with `tributary resume-point set`, as its
 * gap markers in the lake record them: capture read no event after a
 * marker's `from` and before its `to`, so those of the partitions whose
 * checkpoints stood before `to` never reached the lake. Such an event is
 * skipped, not missing: the operator accepted the loss when MongoDB no
 * longer had the history. An overlap skips nothing.
 *
 * The marker does not say where each listed partition's own checkpoint
 * stood (only the oldest, `from`), so an event of a listed partition lost
 * between `from` and its own checkpoint is taken as skipped too.
 */
export class ResumeGapRule {
  readonly #gaps: readonly Gap[];

  constructor(markers: readonly FoundMarker[]) {
    this.#gaps = markers.flatMap(({ path, marker }): Gap[] => {
      if (marker.kind !== 'gap') return [];
      const from = instantOfTimestamp(marker.from.clusterTime);
      const key = parseOrderingKey(marker.from.key);
      return [
        {
          path,
          from,
          fromN: key && compareInstants(key, from) === 0 ? key.n : undefined,
          to: instantOfTimestamp(marker.to.clusterTime),
          partitions: new Set(marker.partitions),
        },
      ];
    });
  }

  /**
   * The path of the marker of a gap that skipped the event of `partition`
   * at `at`, the `n`th of its clusterTime (`undefined` when unknown), or
   * `undefined` when none did. An event of `from`'s own clusterTime is
   * skipped only when it is known to come after `from`'s key (the rest of
   * a transaction); one at `to` was read.
   */
  skipping(partition: number, at: ClusterInstant, n: number | undefined): string | undefined {
    return this.#gaps.find(
      (gap) =>
        gap.partitions.has(partition) && isAfter(at, n, gap) && compareInstants(at, gap.to) < 0,
    )?.path;
  }
}

function isAfter(at: ClusterInstant, n: number | undefined, gap: Gap): boolean {
  const order = compareInstants(at, gap.from);
  return order > 0 || (order === 0 && n !== undefined && gap.fromN !== undefined && n > gap.fromN);
}

/** What a replay learnt of documents whose changes a gap skipped. */
export interface SkippedChanges {
  /** Documents ({@link documentRef}) with a change the lake lacks because a gap skipped it, by marker. */
  readonly documentsSkippedEvents: ReadonlyMap<string, string>;
  /** Documents with a change a checkpoint covers that the lake lacks for no known reason. */
  readonly documentsMissingEvents: ReadonlySet<string>;
}

/**
 * The marker whose gap explains a document's difference between the lake
 * and the source, or `undefined`: as for changes in flight (see
 * `isInFlight`), the replay says which changes the lake lacks, and when
 * every one of them the lake lacks for this document was skipped by an
 * operator's move, the difference is theirs, not a problem. A lost change
 * beside them makes it a problem.
 */
export function skippedBy(
  difference: DocumentDifference,
  replays: readonly SkippedChanges[],
): string | undefined {
  const ref = documentRef(difference.namespace, difference.idKey);
  if (replays.some((r) => r.documentsMissingEvents.has(ref))) return undefined;
  for (const replay of replays) {
    const marker = replay.documentsSkippedEvents.get(ref);
    if (marker !== undefined) return marker;
  }
  return undefined;
}
