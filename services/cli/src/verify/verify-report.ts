import type { LakeCheck } from '@tributary/lake';
import { type DocumentTally, emptyDocumentTally } from './document-comparison.ts';
import type { EventTally } from './event-comparison.ts';

/**
 * The checks `verify` makes, by name. From the lake alone: `unparseable`,
 * `duplicate`, `order`, `misplaced`, `file`. Against the source's
 * collections as they are now: `missing-document`, `extra-document`,
 * `differing-document`. Against a replay of the source's change stream:
 * `missing-event`, `unexpected-event`.
 */
export type VerifyCheck =
  | LakeCheck
  | 'missing-document'
  | 'extra-document'
  | 'differing-document'
  | 'missing-event'
  | 'unexpected-event';

/** One namespace's (or the total's) counts. */
export interface NamespaceRow {
  /** `db.coll`; `db` for events of a whole database; `(deployment)`, `(unknown)`; `total`. */
  readonly namespace: string;
  readonly lines: number;
  /** Torn last lines of files still being written. */
  readonly linesInFlight: number;
  readonly unparseable: number;
  readonly duplicate: number;
  readonly order: number;
  readonly misplaced: number;
  readonly file: number;
  /** Against the collection as it is now (absent without the source). */
  readonly documents?: DocumentTally;
  /** Against the change stream replay (absent when none was compared). */
  readonly events?: EventTally;
}

/** What `tributary verify --json` prints. */
export interface VerifyReport {
  /** No problem found. In-flight data is no problem. */
  readonly clean: boolean;
  /** How many problems in all. */
  readonly problems: number;
  readonly lake: {
    readonly files: number;
    readonly lines: number;
    readonly linesInFlight: number;
  };
  /** Absent when the source was not compared (no MONGODB_URI). */
  readonly source?: {
    /** When the collections were read (the source's operation time after reading them). */
    readonly documentsAsOf: string;
    readonly replay: ReplaySummary;
  };
  /** One row per namespace, by name. */
  readonly namespaces: readonly NamespaceRow[];
  readonly total: NamespaceRow;
  /** Problems, by check, up to 1000 of each. */
  readonly findings: readonly Finding[];
  /** Data on its way, up to 1000 of each kind: no problem. */
  readonly inFlight: readonly InFlight[];
  /** The operators' resume-point moves the lake's markers record, by when they were set. */
  readonly markers: readonly MarkerSummary[];
  /**
   * Events and documents the lake lacks because an operator's resume-point
   * move skipped them (a gap marker), up to 1000 of each kind: no problem.
   */
  readonly skipped: readonly Skipped[];
  /** What was not checked, and why. */
  readonly notes: readonly string[];
}

export interface ReplaySummary {
  /** `compared`: the window was replayed; `history-lost`: MongoDB no longer has it; `none`: nothing to replay. */
  readonly status: 'compared' | 'history-lost' | 'none';
  /** The first clusterTime compared (ISO), and whether only what came after it. */
  readonly from?: string;
  readonly after?: boolean;
  /** The last clusterTime compared (ISO). */
  readonly until?: string;
  /** Source events read (window and in-flight look-back). */
  readonly events?: number;
  readonly reason?: string;
}

export interface Finding {
  readonly check: VerifyCheck;
  readonly namespace: string;
  readonly message: string;
}

export interface InFlight {
  readonly kind: 'line' | 'event' | 'document';
  readonly namespace: string;
  readonly message: string;
}

export interface Skipped {
  readonly kind: 'event' | 'document';
  readonly namespace: string;
  /** What, and the marker of the move that skipped it. */
  readonly message: string;
}

/** A clusterTime in a marker: the UTC second (ISO), seconds and increment. */
export interface MarkerTime {
  readonly at: string;
  readonly t: number;
  readonly i: number;
}

/** One resume-point marker of the lake (`tributary resume-point set`). */
export interface MarkerSummary {
  /** Under `_tributary/markers/`. */
  readonly path: string;
  /** `gap`: the events after `from` and before `to` were never read; `overlap`: re-read from `to`. */
  readonly kind: 'gap' | 'overlap';
  /** The restart point of the checkpoints when it was set. */
  readonly from: { readonly key: string; readonly clusterTime: MarkerTime };
  /** Where capture resumed, inclusive. */
  readonly to: { readonly clusterTime: MarkerTime };
  /** For a gap, the partitions that miss the events in between. */
  readonly partitions?: readonly number[];
  readonly setAt: string;
}

/** The counts of a row that are problems. */
export function problemsOf(row: NamespaceRow): number {
  return (
    row.unparseable +
    row.duplicate +
    row.order +
    row.misplaced +
    row.file +
    (row.documents ? row.documents.missing + row.documents.extra + row.documents.differing : 0) +
    (row.events ? row.events.missing + row.events.unexpected : 0)
  );
}

/** Adds rows up (for the total). */
export function totalRow(
  rows: readonly NamespaceRow[],
  withDocuments: boolean,
  withEvents: boolean,
): NamespaceRow {
  const sum = <T extends object>(parts: readonly (T | undefined)[], zero: T): T => {
    const out = { ...zero } as Record<string, number>;
    for (const part of parts)
      if (part) for (const [k, v] of Object.entries(part)) out[k] = (out[k] ?? 0) + (v as number);
    return out as T;
  };
  const lake = sum(
    rows.map(({ lines, linesInFlight, unparseable, duplicate, order, misplaced, file }) => ({
      lines,
      linesInFlight,
      unparseable,
      duplicate,
      order,
      misplaced,
      file,
    })),
    { lines: 0, linesInFlight: 0, unparseable: 0, duplicate: 0, order: 0, misplaced: 0, file: 0 },
  );
  return {
    namespace: 'total',
    ...lake,
    ...(withDocuments
      ? {
          documents: sum(
            rows.map((r) => r.documents),
            emptyDocumentTally(),
          ),
        }
      : {}),
    ...(withEvents
      ? {
          events: sum(
            rows.map((r) => r.events),
            { matched: 0, missing: 0, skipped: 0, unexpected: 0, inFlight: 0 },
          ),
        }
      : {}),
  };
}
