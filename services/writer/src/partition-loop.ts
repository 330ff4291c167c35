import {
  type BackoffPolicy,
  type Logger,
  backoffDelayMs,
  decodeBatch,
  isRetryable,
  isTributaryError,
  sleep,
} from '@tributary/core';
import { type DeliveredBatch, type PartitionReader, REQUEUED_AT_HEADER } from '@tributary/queue';
import type { InFlightBudget } from './in-flight-budget.ts';
import type { PartitionWriter } from './partition-writer.ts';

/** What a partition loop needs besides its reader and writer. */
export interface PartitionLoopOptions {
  readonly partitionCount: number;
  /** A batch failing this many times for a reason that will not go away is dead-lettered. */
  readonly maxDeliveryAttempts: number;
  /** Waits between attempts of a batch that failed for a passing reason. */
  readonly backoff: BackoffPolicy;
  /** How long `next` waits for a batch before the loop does file maintenance. */
  readonly pollMs: number;
  readonly budget: InFlightBudget;
  readonly logger: Logger;
  /** Told after each batch is acknowledged (metrics, tests). */
  readonly onBatch?: (partition: number, events: number) => void;
}

/**
 * Drives one owned partition: next batch in order → decode → write →
 * checkpoint → acknowledge. A batch that cannot be decoded, or that fails
 * for a reason retrying cannot fix, goes to the dead-letter set with that
 * reason and the partition goes on; a batch that fails for a passing reason
 * (lake throttling or outage) stays first in line and is retried with
 * backoff for as long as this writer owns the partition, so nothing is
 * skipped. Ends when ownership is lost or `stop` is called.
 */
export class PartitionLoop {
  readonly #reader: PartitionReader;
  readonly #writer: PartitionWriter;
  readonly #o: PartitionLoopOptions;
  readonly #stopping = new AbortController();
  #done: Promise<void> | undefined;

  constructor(reader: PartitionReader, writer: PartitionWriter, options: PartitionLoopOptions) {
    this.#reader = reader;
    this.#writer = writer;
    this.#o = options;
  }

  get partition(): number {
    return this.#reader.partition;
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
    return !this.#stopping.signal.aborted && !this.#reader.lost.aborted;
  }

  async #run(): Promise<void> {
    const { logger } = this.#o;
    const partition = this.partition;
    try {
      await this.#writer.recover();
      let failures = 0;
      while (this.#active()) {
        const batch = await this.#reader.next(this.#o.pollMs, this.#stopping.signal);
        if (!batch) {
          await this.#writer.maintain();
          continue;
        }
        const outcome = await this.#handle(batch);
        if (outcome === 'done') {
          failures = 0;
          continue;
        }
        failures += 1;
        const delay = backoffDelayMs(this.#o.backoff, failures, 0) ?? this.#o.backoff.maxIntervalMs;
        await sleep(delay, AbortSignal.any([this.#stopping.signal, this.#reader.lost]));
      }
    } catch (error) {
      if (isOwnershipLoss(error)) {
        logger.warn(
          { partition, err: error },
          'partition taken over by another writer; stopping it here',
        );
      } else {
        logger.error(
          { partition, err: error },
          'partition stopped on an unexpected error; releasing it',
        );
      }
    } finally {
      await this.#reader.release();
    }
  }

  /**
   * Records the broken chain, then dead-letters the batch. In this order a
   * crash between the two leaves the batch in line (it is judged again and
   * dead-lettered again); the other order could leave a new owner taking
   * every later batch for one that follows a gap, and dropping it.
   */
  async #deadLetter(batch: DeliveredBatch, reason: string): Promise<void> {
    await this.#writer.markChainBroken();
    await this.#reader.deadLetter(batch, reason);
  }

  /** One delivery: `done` when acknowledged or dead-lettered, `retry` when it stays first in line. */
  async #handle(batch: DeliveredBatch): Promise<'done' | 'retry'> {
    const { logger } = this.#o;
    let decoded;
    try {
      decoded = decodeBatch(batch.body, this.#o.partitionCount);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.error(
        { partition: this.partition, batch: batch.id, reason },
        'poison batch sent to the dead-letter set',
      );
      await this.#deadLetter(batch, reason);
      return 'done';
    }
    if (decoded.partition !== this.partition) {
      await this.#deadLetter(
        batch,
        `batch for partition ${decoded.partition} arrived on partition ${this.partition}`,
      );
      return 'done';
    }
    if (batch.headers[REQUEUED_AT_HEADER] !== undefined && this.#writer.isBehind(decoded)) {
      // A dead letter put back by an operator: its events never reached the
      // lake, but the checkpoint has moved past them, so writing would need
      // a replay this writer does not do yet. Dropping would lose them
      // silently; back to the dead-letter set, saying why, instead.
      await this.#deadLetter(
        batch,
        `requeued batch is behind the partition's checkpoint (${this.#writer.position?.key}); replaying dead letters behind the checkpoint is not supported yet — its events are not in the lake`,
      );
      return 'done';
    }
    if (this.#writer.followsGap(decoded)) {
      // Dropping is safe: nothing past the checkpoint is acknowledged as
      // written, and capture re-reads from the checkpoints after a queue loss.
      logger.warn(
        {
          partition: this.partition,
          batch: batch.id,
          previousKey: decoded.previousKey,
          position: this.#writer.position?.key,
        },
        'batches before this one were lost from the queue; dropping it until capture re-sends from the checkpoint',
      );
      await this.#reader.ack(batch);
      return 'done';
    }
    const release = await this.#o.budget.acquire(batch.body.byteLength);
    try {
      const outcome = await this.#writer.write(decoded);
      // Acknowledge last: the events are in the lake and the checkpoint that
      // covers them is stored. A crash before this line only causes a
      // redelivery, which the checkpoint turns into no-ops.
      await this.#reader.ack(batch);
      logger.debug(
        {
          partition: this.partition,
          batch: batch.id,
          written: outcome.written,
          dropped: outcome.dropped,
          previousKey: decoded.previousKey,
          position: decoded.position.key,
        },
        'batch written',
      );
      this.#o.onBatch?.(this.partition, outcome.written);
      return 'done';
    } catch (error) {
      if (isOwnershipLoss(error)) throw error;
      const attempts = batch.failedAttempts + 1;
      if (!isRetryable(error) && attempts >= this.#o.maxDeliveryAttempts) {
        const reason = `failed ${attempts} times: ${error instanceof Error ? error.message : String(error)}`;
        logger.error(
          { partition: this.partition, batch: batch.id, reason },
          'batch sent to the dead-letter set',
        );
        await this.#deadLetter(batch, reason);
        return 'done';
      }
      logger.warn(
        { partition: this.partition, batch: batch.id, attempts, err: error },
        'batch failed; it stays first in line and will be retried',
      );
      await this.#reader.fail(batch, error instanceof Error ? error : new Error(String(error)));
      return 'retry';
    } finally {
      release();
    }
  }
}

/** Another writer owns the partition now (lake or checkpoint conflict, lost lease). */
export function isOwnershipLoss(error: unknown): boolean {
  return isTributaryError(error) && (error.code === 'CONFLICT' || error.code === 'OWNERSHIP_LOST');
}
