import { type PartitionKeyMode, formatOrderingKey, partitionOf } from '@tributary/core';
import { type LakeScan, tokenHash } from '@tributary/lake';
import type { ReplayedEvent } from './change-stream-replay.ts';
import { type ClusterInstant, compareInstants, formatInstant } from './cluster-instant.ts';
import { documentIdKey, formatDocumentId } from './document-fingerprint.ts';
import type { PartitionCoverage } from './partition-coverage.ts';
import { type Examples, examples } from './examples.ts';
import type { ResumeGapRule } from './resume-gap-rule.ts';

/** The stretch of history compared event by event. */
export interface EventWindow {
  /** The first clusterTime compared; with `exclusive`, only what comes after it. */
  readonly from: ClusterInstant;
  readonly exclusive: boolean;
  /** The last clusterTime compared: the source's operation time when the replay began. */
  readonly until: ClusterInstant;
}

/** Events compared for one namespace. */
export interface EventTally {
  /** Source events in the window that the lake holds. */
  matched: number;
  /** Source events a checkpoint covers that the lake does not hold, no operator's move explaining it. */
  missing: number;
  /**
   * Source events a checkpoint covers that the lake does not hold because
   * an operator's resume-point move (a gap marker) skipped them: no problem.
   */
  skipped: number;
  /** Lines in the window whose event the source's stream does not have. */
  unexpected: number;
  /** Source events no checkpoint covers yet, not in the lake (still on their way). */
  inFlight: number;
}

/** How events are routed to partitions (capture's settings). */
export interface Routing {
  readonly partitionCount: number;
  readonly partitionKey: PartitionKeyMode;
}

/** A document named by namespace and {@link documentIdKey}. */
export function documentRef(namespace: string, idKey: string): string {
  return `${namespace}\u0000${idKey}`;
}

/**
 * The lake's lines held against a replay of the source's change stream,
 * matched by resume token among the events of each clusterTime. The
 * stream arrives in clusterTime order and the lake's keys begin with their
 * event's clusterTime, so one pass over the ledger in key order does it.
 *
 * Besides the verdict on each event, the replay says which documents have
 * changes that are still on their way (no checkpoint covers them and the
 * lake does not hold them): a difference in such a document is in flight;
 * and which have changes an operator's resume-point move skipped.
 */
export class EventComparison {
  readonly tallies = new Map<string, EventTally>();
  readonly missing: Examples = examples();
  readonly unexpected: Examples = examples();
  readonly inFlight: Examples = examples();
  readonly skipped: Examples = examples();
  /** Documents ({@link documentRef}) with a change no checkpoint covers yet and the lake lacks. */
  readonly documentsInFlight = new Set<string>();
  /** Namespaces dropped or renamed by such a change. */
  readonly namespacesInFlight = new Set<string>();
  /** Documents with a change a checkpoint covers that the lake lacks, no gap explaining it. */
  readonly documentsMissingEvents = new Set<string>();
  /** Documents with a change the lake lacks because a gap skipped it, with the gap's marker. */
  readonly documentsSkippedEvents = new Map<string, string>();

  readonly #scan: LakeScan;
  readonly #order: Uint32Array;
  readonly #coverage: PartitionCoverage;
  readonly #gaps: ResumeGapRule;
  readonly #window: EventWindow | undefined;
  readonly #routing: Routing;
  readonly #scope: ReadonlySet<string>;
  readonly #ignored: ReadonlySet<number>;
  #next = 0;
  #group: ReplayedEvent[] = [];

  /**
   * @param gaps the events operators gave up: covered but absent, they are skipped, not missing.
   * @param window the stretch compared event by event; without one, the
   *   replay only tells which changes are in flight.
   * @param scope the namespaces verified; other events are passed over.
   * @param ignored ledger entries that are no source events (capture's invalidates).
   */
  constructor(
    scan: LakeScan,
    coverage: PartitionCoverage,
    gaps: ResumeGapRule,
    window: EventWindow | undefined,
    routing: Routing,
    scope: ReadonlySet<string>,
    ignored: ReadonlySet<number> = new Set(),
  ) {
    this.#scan = scan;
    this.#order = scan.ledger.sortedOrder();
    this.#coverage = coverage;
    this.#gaps = gaps;
    this.#window = window;
    this.#routing = routing;
    this.#scope = scope;
    this.#ignored = ignored;
  }

  /** Takes the next event of the replay (in stream order). */
  add(event: ReplayedEvent): void {
    if (!this.#scope.has(event.namespace)) return;
    const current = this.#group[0];
    if (current && compareInstants(current.at, event.at) !== 0) this.#flush();
    this.#group.push(event);
  }

  /** Ends the replay: lines after the last event are judged too. */
  finish(): void {
    this.#flush();
    if (this.#window) this.#passLinesBefore(this.#window.until, true);
  }

  #flush(): void {
    const events = this.#group;
    this.#group = [];
    const at = events[0]?.at;
    if (!at) return;
    this.#passLinesBefore(at, false);
    const ledger = this.#scan.ledger;
    const lines: number[] = [];
    while (this.#next < this.#order.length) {
      const entry = ledger.entry(this.#order[this.#next] ?? 0);
      if (compareInstants(entry, at) !== 0) break;
      lines.push(this.#order[this.#next] ?? 0);
      this.#next += 1;
    }
    const matched = new Set<number>();
    for (const event of events) {
      const hash = tokenHash(event.token);
      const holding = lines.filter((line) => ledger.entry(line).token === hash);
      for (const line of holding) matched.add(line);
      if (holding.length > 0) {
        if (this.#inWindow(at)) this.#tally(event.namespace).matched += 1;
      } else this.#absent(event);
    }
    for (const line of lines) if (!matched.has(line)) this.#unexpected(line);
  }

  /** Lines of clusterTimes before `at` (through `at` when `inclusive`) that no event matched. */
  #passLinesBefore(at: ClusterInstant, inclusive: boolean): void {
    const ledger = this.#scan.ledger;
    while (this.#next < this.#order.length) {
      const index = this.#order[this.#next] ?? 0;
      const order = compareInstants(ledger.entry(index), at);
      if (order > 0 || (order === 0 && !inclusive)) return;
      this.#unexpected(index);
      this.#next += 1;
    }
  }

  #unexpected(index: number): void {
    if (this.#ignored.has(index)) return;
    const entry = this.#scan.ledger.entry(index);
    if (!this.#inWindow(entry)) return;
    const namespace = this.#scan.namespaces[entry.namespace] ?? '?';
    this.#tally(namespace).unexpected += 1;
    this.unexpected.add(
      namespace,
      `${this.#scan.files[entry.file]?.path}:${entry.line}: event ${formatOrderingKey(entry)} is not in the source's change stream`,
    );
  }

  /** A source event the lake does not hold: lost, skipped by an operator, or still on its way. */
  #absent(event: ReplayedEvent): void {
    const partition = partitionOf(
      event.event,
      this.#routing.partitionCount,
      this.#routing.partitionKey,
    );
    const id = event.documentKey?._id;
    const ref = id === undefined ? undefined : documentRef(event.namespace, documentIdKey(id));
    const what = `${event.operationType} of ${event.namespace || '(deployment)'}${
      ref === undefined ? '' : ` _id ${formatDocumentId(documentIdKey(id))}`
    } at ${formatInstant(event.at)} (token ${event.token})`;
    if (this.#coverage.covers(partition, event.at, event.n)) {
      if (!this.#inWindow(event.at)) return;
      const marker = this.#gaps.skipping(partition, event.at, event.n);
      if (marker !== undefined) {
        this.#tally(event.namespace).skipped += 1;
        if (ref !== undefined) this.documentsSkippedEvents.set(ref, marker);
        this.skipped.add(
          event.namespace,
          `${what}: skipped by an operator's resume-point move (marker ${marker})`,
        );
        return;
      }
      this.#tally(event.namespace).missing += 1;
      if (ref !== undefined) this.documentsMissingEvents.add(ref);
      this.missing.add(
        event.namespace,
        `${what}: not in the lake, though partition ${partition}'s checkpoint covers it`,
      );
      return;
    }
    if (ref !== undefined) this.documentsInFlight.add(ref);
    else this.namespacesInFlight.add(event.namespace);
    if (!this.#inWindow(event.at)) return;
    this.#tally(event.namespace).inFlight += 1;
    this.inFlight.add(
      event.namespace,
      `${what}: not yet covered by partition ${partition}'s checkpoint`,
    );
  }

  #inWindow(at: ClusterInstant): boolean {
    const window = this.#window;
    if (!window) return false;
    const from = compareInstants(at, window.from);
    return (window.exclusive ? from > 0 : from >= 0) && compareInstants(at, window.until) <= 0;
  }

  #tally(namespace: string): EventTally {
    let tally = this.tallies.get(namespace);
    if (!tally) {
      tally = { matched: 0, missing: 0, skipped: 0, unexpected: 0, inFlight: 0 };
      this.tallies.set(namespace, tally);
    }
    return tally;
  }
}
