import type { Job } from 'bullmq';
import { QueueError } from '../queue-error.ts';
import { REQUEUED_AT_HEADER, type DeadLetter, type DeadLetterStore } from '../transport.ts';
import { bodyOf, decodePayload } from './job-payload.ts';
import type { PartitionQueues } from './partition-queues.ts';
import { translated } from './translate-error.ts';

const DEFAULT_LIST_LIMIT = 100;

/**
 * Dead letters are each partition's BullMQ failed set. `deadLetter` moves the
 * active job there in one BullMQ script (so a batch is never in both places
 * nor in neither), with the reason as `failedReason` and the time as
 * `finishedOn`; `failedAttempts` stays in the job data. BullMQ tooling (Bull
 * Board, Taskforce) shows them as failed jobs.
 */
export class BullmqDeadLetters implements DeadLetterStore {
  readonly #queues: PartitionQueues;

  constructor(queues: PartitionQueues) {
    this.#queues = queues;
  }

  count(): Promise<number> {
    return translated('counting dead letters', () =>
      this.#queues.sizeOf(this.#queues.layout.partitions(), ['failed']),
    );
  }

  /** Oldest first, across all partitions unless `partition` is given; at most `limit` (default 100). */
  async list(options: { partition?: number; limit?: number } = {}): Promise<DeadLetter[]> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (limit <= 0) return [];
    const partitions =
      options.partition === undefined ? this.#queues.layout.partitions() : [options.partition];
    const perPartition = await translated('listing dead letters', () =>
      Promise.all(
        partitions.map(async (p) =>
          (await this.#queues.ready(p)).getJobs(['failed'], 0, limit - 1, true),
        ),
      ),
    );
    return perPartition
      .flatMap((jobs, i) => jobs.map((job) => toDeadLetter(job as Job, partitions[i] as number)))
      .sort((a, b) => a.deadLetteredAt.getTime() - b.deadLetteredAt.getTime())
      .slice(0, limit);
  }

  /**
   * Puts a dead letter back at the BACK of its partition's line (BullMQ's
   * retry of a failed job) with `failedAttempts` reset to 0 — an operator
   * requeues after fixing the cause — and a {@link REQUEUED_AT_HEADER} header,
   * because a writer that drops keys at or below its checkpoint would
   * otherwise discard the old batch as already written.
   *
   * @throws QueueError `NOT_FOUND` when `id` is not a dead letter.
   */
  async requeue(id: string): Promise<void> {
    const partition = this.#queues.layout.partitionOfJobId(id);
    const notFound = () => new QueueError('NOT_FOUND', `No dead letter with id '${id}'.`);
    if (partition === undefined) throw notFound();
    const queue = await this.#queues.ready(partition);
    const doing = `requeueing dead letter ${id}`;
    const job = await translated(doing, () => queue.getJob(id));
    if (!job || !(await translated(doing, () => job.isFailed()))) throw notFound();
    const payload = decodePayload(job.data);
    if (payload) {
      await translated(doing, () =>
        job.updateData({
          ...payload,
          failedAttempts: 0,
          headers: { ...payload.headers, [REQUEUED_AT_HEADER]: new Date().toISOString() },
          // Kept: replay needs to know which of the events are in the lake.
          eventsInLake: payload.eventsInLake ?? [],
        }),
      );
    }
    try {
      await translated(doing, () => job.retry('failed'));
    } catch (error) {
      // Anything but an outage means another operator requeued (or removed) it first.
      throw (error as QueueError).code === 'UNAVAILABLE' ? error : notFound();
    }
  }
}

function toDeadLetter(job: Job, partition: number): DeadLetter {
  const payload = decodePayload(job.data);
  return {
    id: String(job.id),
    partition,
    body: payload ? bodyOf(payload) : new Uint8Array(),
    reason: job.failedReason ?? '',
    eventsInLake: payload?.eventsInLake ?? [],
    failedAttempts: payload?.failedAttempts ?? 0,
    deadLetteredAt: new Date(job.finishedOn ?? job.timestamp),
    headers: payload?.headers ?? {},
  };
}
