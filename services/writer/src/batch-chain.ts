import type { GapReport } from '@tributary/checkpoint';
import type { ChangeBatch } from '@tributary/core';

/**
 * Whether a batch continues what the partition has written: its
 * predecessor's key is at or below the checkpoint's position (a re-sent or
 * overlapping batch continues too — its old events are dropped by key).
 * Otherwise batches between the two never arrived: a gap. Pure.
 */
export function followsChain(batch: ChangeBatch, positionKey: string | undefined): boolean {
  return batch.previousKey <= (positionKey ?? '');
}

/** A gap of one partition that is being healed. */
export interface OpenGap {
  /** The checkpoint key the partition waits after. */
  readonly afterKey: string;
  /** The predecessor named by the latest batch that followed the gap. */
  readonly missingUpTo: string;
  /** Capture's generation of that batch. */
  readonly generation: number;
  /** When the gap was first seen. */
  readonly since: number;
}

/** What to do about a batch that follows a gap. */
export interface GapNews {
  /** Store this report (capture re-sends from `afterKey`), when it says something new. */
  readonly report?: GapReport;
  /** Log it at warn: the gap is new, asked about again, or has lasted another while. */
  readonly warn: boolean;
}

/**
 * How often a gap that stays open is logged, and reported, again: a report
 * that went missing (removed late by an earlier owner, lost with the store)
 * is repeated, and capture answers it if it has not re-sent since.
 */
const REMIND_MS = 30_000;

/**
 * The gap state of one partition. A batch that follows a gap is dropped
 * (capture re-sends its events from the checkpoint) and reported once per
 * capture generation: capture answers a report by re-reading in a new
 * generation, so a later batch of the same generation still following the
 * gap needs no new report, while one of a newer generation means the re-sent
 * batches went missing too and capture must be asked again. A report that
 * could not be stored is tried again with the next such batch, and one that
 * stays unanswered is repeated every half minute.
 */
export class GapTracker {
  readonly #partition: number;
  readonly #writerId: string;
  #open: OpenGap | undefined;
  /** The report stored last, and when. */
  #reported: { report: GapReport; at: number } | undefined;
  #warnedAt = 0;

  constructor(partition: number, writerId: string) {
    this.#partition = partition;
    this.#writerId = writerId;
  }

  /** The gap being healed, if any. */
  get open(): OpenGap | undefined {
    return this.#open;
  }

  /** A batch followed a gap after `afterKey` at `now`. */
  followedGap(batch: ChangeBatch, afterKey: string, now: number): GapNews {
    const fresh = this.#open === undefined;
    this.#open = {
      afterKey,
      missingUpTo: batch.previousKey,
      generation: batch.generation,
      since: this.#open?.since ?? now,
    };
    const reported = this.#reported;
    const ask =
      reported === undefined ||
      batch.generation > reported.report.generation ||
      afterKey !== reported.report.afterKey ||
      now - reported.at >= REMIND_MS;
    const warn = fresh || ask || now - this.#warnedAt >= REMIND_MS;
    if (warn) this.#warnedAt = now;
    if (!ask) return { warn };
    return {
      warn,
      report: {
        partition: this.#partition,
        afterKey,
        generation: batch.generation,
        missingUpTo: batch.previousKey,
        writerId: this.#writerId,
        reportedAt: new Date(now),
      },
    };
  }

  /** The report was stored at `now`. */
  reported(report: GapReport, now: number): void {
    this.#reported = { report, at: now };
  }

  /**
   * A batch continued the chain. The gap is healed when the batch is capture's
   * answer — a newer generation than the one that showed the gap — or
   * reaches past the missing batches; a stale copy that merely continues
   * the chain heals nothing. Returns the healed gap with the report to clear.
   */
  continued(batch: ChangeBatch): { gap: OpenGap; report: GapReport | undefined } | undefined {
    const open = this.#open;
    if (!open) return undefined;
    if (batch.generation <= open.generation && batch.position.key < open.missingUpTo)
      return undefined;
    const report = this.#reported?.report;
    this.#open = undefined;
    this.#reported = undefined;
    return { gap: open, report };
  }
}
