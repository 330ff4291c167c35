import { QueueError } from '../queue-error.ts';
import type { BatchPublisher, OutgoingBatch } from '../transport.ts';
import type { ResolvedBullmqOptions } from './bullmq-options.ts';
import { encodePayload } from './job-payload.ts';
import type { PartitionQueues } from './partition-queues.ts';
import { translated } from './translate-error.ts';

/** The job name every batch carries (BullMQ requires one; routing is by queue). */
export const BATCH_JOB_NAME = 'batch';

/**
 * Publishes batches to their partition's queue. Per partition, calls are
 * chained so batches enter Redis in the order `publish` was called even when
 * the caller does not await each one; and when one fails, the calls queued
 * behind it fail too instead of landing after a gap (the caller republishes
 * from the failed one, duplicates of waiting batches being ignored).
 */
export class BullmqPublisher implements BatchPublisher {
  readonly #queues: PartitionQueues;
  readonly #options: ResolvedBullmqOptions;
  readonly #lines = new Map<number, { tail: Promise<void>; pending: number }>();
  #closing: Promise<void> | undefined;

  readonly #epoch: () => Promise<string>;
  readonly maxBatchBytes: number;

  constructor(
    queues: PartitionQueues,
    options: ResolvedBullmqOptions,
    epoch: () => Promise<string>,
  ) {
    this.#queues = queues;
    this.#options = options;
    this.#epoch = epoch;
    this.maxBatchBytes = options.maxBatchBytes;
  }

  /** BullMQ's limit is this transport's own setting: nothing to learn from Redis. */
  ready(): Promise<void> {
    if (this.#closing) return Promise.reject(new Error('This publisher is closed.'));
    return Promise.resolve();
  }

  /** A random id stored in Redis, which a Redis that lost everything no longer has. */
  contentsEpoch(): Promise<string> {
    if (this.#closing) return Promise.reject(new Error('This publisher is closed.'));
    return this.#epoch();
  }

  /**
   * Resolves once the job is in Redis.
   *
   * @throws QueueError `TOO_LARGE` above `maxBatchBytes`; `UNAVAILABLE` when
   *   Redis did not confirm in time — the batch may still land later, so
   *   republish the same batch before later ones (the copy is ignored while
   *   the first waits; a late copy after it was consumed is dropped by the
   *   writer's checkpoint).
   */
  publish(batch: OutgoingBatch): Promise<void> {
    if (this.#closing) return Promise.reject(new Error('This publisher is closed.'));
    const { partition } = batch;
    if (
      !Number.isInteger(partition) ||
      partition < 0 ||
      partition >= this.#options.partitionCount
    ) {
      return Promise.reject(
        new RangeError(`partition ${partition} is outside 0…${this.#options.partitionCount - 1}`),
      );
    }
    for (const field of ['generation', 'sequence'] as const) {
      if (!Number.isSafeInteger(batch[field]) || batch[field] < 0)
        return Promise.reject(
          new RangeError(`${field} must be a whole number ≥ 0 (got ${batch[field]})`),
        );
    }
    if (batch.body.byteLength > this.#options.maxBatchBytes) {
      return Promise.reject(
        new QueueError(
          'TOO_LARGE',
          `Batch of partition ${partition} is ${batch.body.byteLength} bytes; the limit is ${this.#options.maxBatchBytes}.`,
        ),
      );
    }
    const line = this.#lines.get(partition) ?? { tail: Promise.resolve(), pending: 0 };
    this.#lines.set(partition, line);
    const previous = line.pending === 0 ? Promise.resolve() : line.tail;
    line.pending += 1;
    const current = previous.then(
      () => this.#add(batch),
      (error: unknown) => {
        throw new QueueError(
          'UNAVAILABLE',
          `Not publishing a batch of partition ${partition}: an earlier batch of the partition failed to publish.`,
          { cause: error },
        );
      },
    );
    line.tail = current;
    return current.finally(() => {
      line.pending -= 1;
    });
  }

  async #add(batch: OutgoingBatch): Promise<void> {
    const { layout } = this.#queues;
    const jobId = layout.jobIdOf(batch.partition, batch.generation, batch.sequence);
    const queue = await this.#queues.ready(batch.partition);
    await translated(`publishing batch ${jobId}`, () =>
      queue.add(BATCH_JOB_NAME, encodePayload(batch.body, batch.headers), {
        jobId,
        // Acknowledged batches leave Redis at once: memory follows the backlog, not throughput.
        removeOnComplete: true,
        // Dead letters stay until an operator requeues them.
        removeOnFail: false,
        // Never BullMQ's automatic retry: it would put the batch at the back of the line.
        attempts: 1,
      }),
    );
  }

  /** Waiting batches (plus delayed or prioritized ones, which this adapter never creates). */
  backlog(): Promise<number> {
    return translated('counting the backlog', () =>
      this.#queues.sizeOf(this.#queues.layout.partitions(), ['wait', 'prioritized', 'delayed']),
    );
  }

  /** Waits for publishes in flight; later calls are refused. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled([...this.#lines.values()].map((l) => l.tail)).then(
      () => undefined,
    );
    return this.#closing;
  }
}
