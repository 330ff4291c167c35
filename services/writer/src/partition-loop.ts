import type { CheckpointStore } from '@tributary/checkpoint';
import {
  type BackoffPolicy,
  type ChangeBatch,
  type Logger,
  backoffDelayMs,
  decodeBatch,
  isClaimed,
  sleep,
} from '@tributary/core';
import { type DeliveredBatch, type PartitionReader, REQUEUED_AT_HEADER } from '@tributary/queue';
import { type Readiness, countByNamespace } from '@tributary/telemetry';
import { GapTracker, followsChain } from './batch-chain.ts';
import { environmentHint } from './environment-hint.ts';
import { SegmentFailure, classifyFailure, messageOf } from './failure-class.ts';
import type { BatchRoom, InFlightBudget } from './in-flight-budget.ts';
import type { PartitionWriter } from './partition-writer.ts';
import type { WriterTelemetry } from './writer-telemetry.ts';

/** What a partition loop needs besides its reader and writer. */
export interface PartitionLoopOptions {
  readonly partitionCount: number;
  readonly writerId: string;
  /** Where gap reports go (the checkpoint store capture reads). */
  readonly checkpoints: CheckpointStore;
  /** A batch failing this many times for a reason of its own is dead-lettered. */
  readonly maxDeliveryAttempts: number;
  /** Waits between attempts of a batch that failed. */
  readonly backoff: BackoffPolicy;
  /** How long `next` waits for a batch before the loop does file maintenance. */
  readonly pollMs: number;
  readonly budget: InFlightBudget;
  /** The largest batch capture sends: the room reserved before each fetch. */
  readonly maxBatchBytes: number;
  /** Shared by the writer's loops: what `/readyz` reports. */
  readonly readiness: Readiness;
  /** Told when the queue fails under this loop (readiness of the queue is kept by time, see `startWriter`). */
  readonly onQueueFailure?: (reason: string) => void;
  /** A gap still open after this long makes the writer not ready, naming the partition. */
  readonly stuckAfterMs: number;
  readonly logger: Logger;
  /** Told after each batch is settled (tests). */
  readonly onBatch?: (partition: number, events: number) => void;
  /** Spans and metrics (none without). */
  readonly telemetry?: WriterTelemetry;
}

type Outcome = 'done' | 'retry' | 'wait';

/**
 * Drives one owned partition: next batch in order → decode → check the
 * chain → append → commit → acknowledge. Failures are classified once
 * (`classifyFailure`) and handled by class:
 *
 * - environment (credentials, throttling, an outage): the batch stays in
 *   hand and is retried with backoff for as long as this writer owns the
 *   partition; `/readyz` names the dependency and a log line says what to
 *   fix; nothing is dead-lettered. A queue that fails to deliver the next
 *   batch is waited out the same way, the partition kept;
 * - batch: counted, retried, and after `maxDeliveryAttempts` dead-lettered
 *   with which of its events reached the lake; the checkpoint then moves
 *   past it, so the chain goes on from the dead letter's last key;
 * - event: the batch's other events are written, the batch is dead-lettered
 *   recording which events reached the lake;
 * - ownership: the loop ends at once.
 *
 * A batch that follows batches lost from the queue is dropped (capture
 * re-sends them) and reported once per capture generation, so capture
 * re-reads the partition from its checkpoint. Asked to give the partition
 * back, the loop takes no new batch, finishes the one in hand and releases.
 */
export class PartitionLoop {
  readonly #reader: PartitionReader;
  readonly #writer: PartitionWriter;
  readonly #o: PartitionLoopOptions;
  readonly #stopping = new AbortController();
  /** Ends waits when the loop should end or the partition is wanted elsewhere. */
  readonly #interrupt: AbortSignal;
  readonly #gaps: GapTracker;
  readonly #stuckKey: string;
  #done: Promise<void> | undefined;
  #environmentFailures = 0;

  constructor(reader: PartitionReader, writer: PartitionWriter, options: PartitionLoopOptions) {
    this.#reader = reader;
    this.#writer = writer;
    this.#o = options;
    this.#gaps = new GapTracker(reader.partition, options.writerId);
    this.#stuckKey = `partition ${reader.partition}`;
    this.#interrupt = AbortSignal.any([this.#stopping.signal, reader.lost, reader.revoked]);
  }

  get partition(): number {
    return this.#reader.partition;
  }

  /** The gap this partition is healing, if any (for metrics and readiness). */
  get openGap() {
    return this.#gaps.open;
  }

  /** What the stored checkpoint covers, and when it was stored (for metrics). */
  get checkpoint(): { readonly key: string | undefined; readonly at: number | undefined } {
    return { key: this.#writer.position?.key, at: this.#writer.checkpointedAt };
  }

  /** Starts the loop; the promise settles when it ends. */
  run(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  /** Stops taking batches; the batch in hand is finished (written, checkpointed, acknowledged) first. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#done;
  }

  #active(): boolean {
    return !this.#interrupt.aborted;
  }

  async #run(): Promise<void> {
    const { logger } = this.#o;
    const partition = this.partition;
    try {
      if (await this.#untilDone(() => this.#writer.recover())) await this.#loop();
      if (this.#reader.lost.aborted) {
        logger.warn(
          { partition, reason: messageOf(this.#reader.lost.reason) },
          'partition lost to another writer; stopping it here',
        );
      } else if (this.#reader.revoked.aborted) {
        logger.info({ partition }, 'partition handed over to another writer');
      }
    } catch (error) {
      if (classifyFailure(error).class === 'ownership') {
        logger.warn(
          { partition, reason: messageOf(error) },
          'partition lost to another writer; stopping it here',
        );
      } else {
        logger.error(
          { partition, err: error },
          'partition stopped on an unexpected error; releasing it',
        );
      }
    } finally {
      this.#o.readiness.recover(this.#stuckKey);
      if (!this.#reader.lost.aborted) await this.#writer.releaseLeases();
      await this.#reader.release();
    }
  }

  /** Batches until the loop should end; room in memory is held from before a fetch until the batch is settled. */
  async #loop(): Promise<void> {
    let failures = 0;
    let room: BatchRoom | undefined;
    /** The queue failed to deliver on the last fetch. */
    let fetchFailed = false;
    try {
      while (this.#active()) {
        let batch: DeliveredBatch | undefined;
        /** Room reserved during this fetch (held in an object: it is set in a callback). */
        const attempt: { room?: BatchRoom } = {};
        try {
          batch = await this.#reader.next(this.#o.pollMs, {
            signal: this.#interrupt,
            reserve: async () => {
              room?.release();
              room = attempt.room = await this.#o.budget.reserve(
                this.#o.maxBatchBytes,
                this.#interrupt,
              );
              return room;
            },
          });
        } catch (error) {
          // Waiting for room ends when the loop must end: nothing was fetched.
          if (this.#interrupt.aborted) break;
          if (classifyFailure(error).class !== 'environment') throw error;
          // The queue failed to deliver (a link detached, a receive refused
          // as too busy, Redis blipping) while the partition is still ours.
          // Releasing it would stall it: the releasing writer does not take
          // a partition back for a lease, and with one writer no other will.
          // It is waited out like any environment failure.
          // Nothing was taken: room reserved for this fetch is given back
          // here too (release is idempotent), not held through the pause;
          // room kept for a batch in hand stays with it.
          if (attempt.room) {
            attempt.room.release();
            room = undefined;
          }
          fetchFailed = true;
          this.#environment(error);
          await this.#pause((failures += 1));
          continue;
        }
        if (fetchFailed) {
          fetchFailed = false;
          this.#recovered();
        }
        let outcome: Outcome = 'done';
        if (batch) outcome = await this.#settle(batch, room);
        else await this.#untilDone(() => this.#writer.maintain());
        if (outcome === 'done') {
          // A batch still in hand (to retry) keeps its room.
          room?.release();
          room = undefined;
          failures = 0;
        } else await this.#pause((failures += 1));
      }
    } finally {
      room?.release();
    }
  }

  /** {@link #handle}, with the queue's own environment failures (Redis down) waited out too. */
  async #settle(batch: DeliveredBatch, room: BatchRoom | undefined): Promise<Outcome> {
    try {
      return await this.#handle(batch, room, Date.now());
    } catch (error) {
      if (classifyFailure(error).class !== 'environment') throw error;
      this.#environment(error);
      return 'wait';
    }
  }

  /**
   * Runs `work` until it succeeds, waiting out environment failures (see
   * {@link #environment}). False when the loop should end first.
   *
   * @throws whatever is not an environment failure.
   */
  async #untilDone(work: () => Promise<unknown>): Promise<boolean> {
    for (let failures = 1; ; failures += 1) {
      if (!this.#active() && !this.#stopping.signal.aborted) return false;
      try {
        await work();
        this.#recovered();
        return true;
      } catch (error) {
        if (classifyFailure(error).class !== 'environment') throw error;
        this.#environment(error);
        if (!this.#active()) return false;
        await this.#pause(failures);
      }
    }
  }

  async #pause(failures: number): Promise<void> {
    const delay = backoffDelayMs(this.#o.backoff, failures, 0) ?? this.#o.backoff.maxIntervalMs;
    await sleep(delay, this.#interrupt);
  }

  /**
   * Logs an environment failure with what to fix: the first of a run of
   * them, and every 20th after. Readiness follows the lake and the
   * checkpoint store themselves (see `watchDependency`); the queue's
   * failures seen here are passed on to `onQueueFailure`.
   */
  #environment(error: unknown): void {
    const cause = error instanceof SegmentFailure ? error.cause : error;
    const { dependency = 'lake' } = classifyFailure(cause);
    const hint = environmentHint(cause);
    this.#environmentFailures += 1;
    if (dependency === 'queue') this.#o.onQueueFailure?.(hint);
    if (this.#environmentFailures % 20 === 1)
      this.#o.logger.warn(
        { partition: this.partition, dependency, attempts: this.#environmentFailures },
        hint,
      );
  }

  #recovered(): void {
    if (this.#environmentFailures === 0) return;
    this.#o.logger.info(
      { partition: this.partition, attempts: this.#environmentFailures },
      'the failing dependency works again; writing goes on',
    );
    this.#environmentFailures = 0;
  }

  /** One delivery: `done` when settled, `retry`/`wait` when it stays first in line. */
  async #handle(
    delivered: DeliveredBatch,
    room: BatchRoom | undefined,
    receivedAt: number,
  ): Promise<Outcome> {
    room?.resize(delivered.body.byteLength);
    let batch: ChangeBatch;
    try {
      batch = decodeBatch(delivered.body, this.#o.partitionCount);
    } catch (error) {
      // Traced too (a poison batch is what one wants to find).
      const poison = () => this.#deadLetter(delivered, undefined, messageOf(error), []);
      return this.#o.telemetry
        ? this.#o.telemetry.process(delivered, undefined, receivedAt, poison)
        : poison();
    }
    // The events its claim checks bring count too (capture puts one in a batch at most).
    room?.resize(delivered.body.byteLength + claimedBytes(batch));
    const telemetry = this.#o.telemetry;
    const outcome = await (telemetry
      ? telemetry.process(delivered, batch, receivedAt, () => this.#write(delivered, batch))
      : this.#write(delivered, batch));
    // After the batch's own work (and outside its span: the files closed
    // may hold many batches, and their closing flush links to those).
    if (outcome === 'done') await this.#closeFinishedFiles();
    return outcome;
  }

  /** A decoded batch: check the chain → append → commit → acknowledge. */
  async #write(delivered: DeliveredBatch, batch: ChangeBatch): Promise<Outcome> {
    const telemetry = this.#o.telemetry;
    if (batch.partition !== this.partition) {
      const reason = `batch for partition ${batch.partition} arrived on partition ${this.partition}`;
      return this.#deadLetter(delivered, undefined, reason, []);
    }
    if (delivered.headers[REQUEUED_AT_HEADER] !== undefined && this.#writer.isBehind(batch))
      return this.#replay(delivered, batch);
    if (!followsChain(batch, this.#writer.position?.key)) return this.#followsGap(delivered, batch);
    await this.#healed(batch);
    try {
      const append = () => this.#writer.append(batch);
      const appended = await (telemetry ? telemetry.append(append) : append());
      if (appended.refused.length > 0) {
        const refused = new Set(appended.refused.flatMap((r) => r.keys));
        const inLake = batch.events.map((e) => e.key).filter((key) => !refused.has(key));
        const reason = appended.refused.map((r) => r.reason).join('; ');
        return this.#deadLetter(delivered, batch, reason, inLake);
      }
      const commit = () => this.#writer.commit(batch);
      await (telemetry ? telemetry.checkpoint(batch.position.key, commit) : commit());
      // Acknowledge last: the events are in the lake and the checkpoint that
      // covers them is stored. A crash before this line only causes a
      // redelivery, which the checkpoint turns into no-ops.
      const ack = () => this.#reader.ack(delivered);
      await (telemetry ? telemetry.ack(this.partition, ack) : ack());
      telemetry?.settled(this.partition, 'written', {
        written: appended.writtenByNamespace,
        duplicates: appended.duplicatesByNamespace,
      });
      this.#recovered();
      this.#o.logger.debug(
        {
          partition: this.partition,
          batch: delivered.id,
          written: appended.written,
          dropped: appended.dropped,
        },
        'batch written',
      );
      this.#o.onBatch?.(this.partition, appended.written);
      return 'done';
    } catch (error) {
      return this.#failed(delivered, batch, error);
    }
  }

  /**
   * `inLake` says which of the batch's events are in the lake, for its dead
   * letter (by default what the partition writer knows).
   */
  async #failed(
    delivered: DeliveredBatch,
    batch: ChangeBatch,
    error: unknown,
    inLake: () => readonly string[] = () => this.#writer.keysInLake(batch),
  ): Promise<Outcome> {
    const { class: kind } = classifyFailure(error);
    if (kind === 'ownership') throw error;
    if (kind === 'environment') {
      // Not the batch's fault: it is not counted towards the dead letters.
      this.#environment(error);
      return 'wait';
    }
    const attempts = delivered.failedAttempts + 1;
    if (attempts >= this.#o.maxDeliveryAttempts) {
      const reason = `failed ${attempts} times: ${messageOf(error)}`;
      return this.#deadLetter(delivered, batch, reason, inLake());
    }
    this.#o.logger.warn(
      { partition: this.partition, batch: delivered.id, attempts, err: error },
      'batch failed; it stays first in line and will be retried',
    );
    await this.#reader.fail(delivered, error instanceof Error ? error : new Error(String(error)));
    this.#o.telemetry?.settled(this.partition, 'retried');
    return 'retry';
  }

  /**
   * Moves the batch to the dead letters, recording which of its events are
   * in the lake, then — for a batch that could be read — stores the
   * checkpoint past it, so the chain goes on from its last key and nothing
   * of it is written later. In this order a crash in between leaves the
   * next batch following a gap, and capture re-sends the dead letter's
   * events (they may be dead-lettered again); the other order could lose
   * them.
   */
  async #deadLetter(
    delivered: DeliveredBatch,
    batch: ChangeBatch | undefined,
    reason: string,
    eventsInLake: readonly string[],
  ): Promise<Outcome> {
    // The checkpoint will move past the batch, and claims below it are
    // removed: until their copies are kept, the batch stays in line.
    const kept =
      !batch ||
      (await this.#untilDone(() => this.#writer.keepClaimsOfDeadLetter(batch, eventsInLake)));
    if (!kept) return 'wait';
    await this.#reader.deadLetter(delivered, { reason, eventsInLake });
    this.#o.logger.error(
      { partition: this.partition, batch: delivered.id, reason, eventsInLake: eventsInLake.length },
      'batch sent to the dead letters',
    );
    if (batch) await this.#untilDone(() => this.#writer.commit(batch));
    const inLake = new Set(eventsInLake);
    this.#o.telemetry?.settled(this.partition, 'dead_lettered', {
      deadLettered: countByNamespace(batch?.events.filter((e) => !inLake.has(e.key)) ?? [], (e) =>
        isClaimed(e) ? undefined : e.event.ns,
      ),
    });
    this.#o.onBatch?.(this.partition, 0);
    return 'done';
  }

  /**
   * A dead letter an operator put back, which the checkpoint has moved past:
   * its events that are not in the lake (by its dead letter's record) are
   * written as a replay (see `replayEvents`), then it is acknowledged. The
   * checkpoint stays where it is. Events the lake refuses again go back to
   * the dead letters, recorded with the rest as in the lake; a failure of
   * the replay counts like a batch's, recorded with only what the dead
   * letter recorded before (a later replay finds what this one wrote).
   * Events of it past the checkpoint (a requeue racing capture's re-send)
   * are left to the chain: capture is asked to re-send them.
   */
  async #replay(delivered: DeliveredBatch, batch: ChangeBatch): Promise<Outcome> {
    const recorded = delivered.eventsInLake ?? [];
    const position = this.#writer.position?.key ?? '';
    let replayed;
    try {
      replayed = await this.#writer.replay(batch, recorded);
    } catch (error) {
      return this.#failed(delivered, batch, error, () => recorded);
    }
    this.#o.logger.info(
      {
        partition: this.partition,
        batch: delivered.id,
        written: replayed.written,
        alreadyInLake: replayed.alreadyInLake,
        files: replayed.files,
      },
      'requeued dead letter behind the checkpoint written as a replay',
    );
    if (replayed.refused.length > 0) {
      // In the lake now: what the checkpoint covers and the replay did not
      // refuse. Events past the checkpoint are not: a later replay finds them.
      const refused = new Set(replayed.refused.flatMap((r) => r.keys));
      const inLake = batch.events
        .map((e) => e.key)
        .filter((key) => key <= position && !refused.has(key));
      const reason = replayed.refused.map((r) => r.reason).join('; ');
      const outcome = await this.#deadLetter(delivered, undefined, reason, inLake);
      await this.#writer.removeKeptClaims(replayed.keptClaims);
      return outcome;
    }
    if (batch.events.some((e) => e.key > position)) return this.#followsGap(delivered, batch);
    const ack = () => this.#reader.ack(delivered);
    await (this.#o.telemetry ? this.#o.telemetry.ack(this.partition, ack) : ack());
    // Only now: a redelivery before the acknowledgement reads them again.
    await this.#writer.removeKeptClaims(replayed.keptClaims);
    this.#o.telemetry?.settled(this.partition, 'replayed', {
      written: replayed.writtenByNamespace,
    });
    this.#o.onBatch?.(this.partition, replayed.written);
    return 'done';
  }

  /** The batch follows batches that never arrived: drop it, ask capture to re-send. */
  async #followsGap(delivered: DeliveredBatch, batch: ChangeBatch): Promise<Outcome> {
    const afterKey = this.#writer.position?.key ?? '';
    const now = Date.now();
    const news = this.#gaps.followedGap(batch, afterKey, now);
    if (news.warn)
      this.#o.logger.warn(
        {
          partition: this.partition,
          afterKey,
          missingUpTo: batch.previousKey,
          generation: batch.generation,
        },
        'batches before this one were lost from the queue; dropping it and asking capture to re-send from the checkpoint',
      );
    if (news.report) {
      const report = news.report;
      if (await this.#untilDone(() => this.#o.checkpoints.reportGap(report)))
        this.#gaps.reported(report, Date.now());
    }
    const open = this.#gaps.open;
    if (open && now - open.since >= this.#o.stuckAfterMs)
      this.#o.readiness.fail(
        this.#stuckKey,
        `waiting since ${new Date(open.since).toISOString()} for capture to re-send the events after ${open.afterKey || 'the start'} that were lost from the queue (up to ${open.missingUpTo})`,
      );
    // Dropping is safe: the checkpoint does not move past the gap, capture's
    // resume point is at or before it, and capture re-sends everything after it.
    await this.#reader.ack(delivered);
    this.#o.telemetry?.settled(this.partition, 'dropped_after_gap');
    return 'done';
  }

  /** A batch continues the chain: a gap it answers is healed, and its report removed. */
  async #healed(batch: ChangeBatch): Promise<void> {
    const healed = this.#gaps.continued(batch);
    if (!healed) return;
    this.#o.readiness.recover(this.#stuckKey);
    this.#o.logger.info(
      {
        partition: this.partition,
        afterKey: healed.gap.afterKey,
        forMs: Date.now() - healed.gap.since,
      },
      'gap healed: capture re-sent the lost batches',
    );
    const report = healed.report;
    if (!report) return;
    try {
      // Only that very report: a newer one written since stays.
      await this.#o.checkpoints.clearGap(report);
    } catch (error) {
      this.#o.logger.debug(
        { partition: this.partition, err: messageOf(error) },
        'could not remove the answered gap report; capture ignores answered reports',
      );
    }
  }

  /** Closing flushes after the acknowledgement; a failure is retried at maintenance. */
  async #closeFinishedFiles(): Promise<void> {
    try {
      await this.#writer.closeFinished();
    } catch (error) {
      if (classifyFailure(error).class === 'ownership') throw error;
      this.#o.logger.debug(
        { partition: this.partition, err: messageOf(error) },
        'closing a finished file failed; retried between batches',
      );
    }
  }
}

/** The encoded size of the events a batch's claim checks stand for. */
function claimedBytes(batch: ChangeBatch): number {
  return batch.events.reduce((sum, entry) => sum + (isClaimed(entry) ? entry.bytes : 0), 0);
}
