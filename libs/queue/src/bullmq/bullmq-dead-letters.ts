import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueError } from '../queue-error.ts';
import {
  REQUEUED_AT_HEADER,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStore,
} from '../transport.ts';
import { bodyOf, decodePayload, type JobPayload } from './job-payload.ts';
import type { PartitionQueues } from './partition-queues.ts';
import { translated } from './translate-error.ts';

const DEFAULT_LIST_LIMIT = 100;

/**
 * Removes a job from a partition's failed set and deletes it, only while it
 * is in the failed set — in one script, because a check followed by BullMQ's
 * `remove` would race an operator requeueing the same dead letter and could
 * delete the batch after it went back into the line. Tributary's jobs have
 * no parents, children, deduplication or repeat keys, so the job hash and
 * its log are all there is to delete; the `removed` event is BullMQ's own.
 *
 * KEYS: failed set, job hash, events stream, queue meta. ARGV: job id.
 */
const PURGE_SCRIPT = {
  numberOfKeys: 4,
  lua: `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[2] .. ':logs')
local maxEvents = tonumber(redis.call('HGET', KEYS[4], 'opts.maxLenEvents') or '10000')
redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxEvents, '*', 'event', 'removed', 'jobId', ARGV[1], 'prev', 'failed')
return 1`,
};
const PURGE_COMMAND = 'tributaryDeadLetterPurge';
type PurgeCall = (...args: string[]) => Promise<unknown>;

/**
 * Dead letters are each partition's BullMQ failed set. `deadLetter` moves the
 * active job there in one BullMQ script (so a batch is never in both places
 * nor in neither), with the reason as `failedReason` and the time as
 * `finishedOn` (also the job's score in the failed set); `failedAttempts`
 * and `firstFailedAt` stay in the job data. BullMQ tooling (Bull Board,
 * Taskforce) shows them as failed jobs.
 */
export class BullmqDeadLetters implements DeadLetterStore {
  readonly #queues: PartitionQueues;
  readonly #redis: Redis;

  constructor(queues: PartitionQueues, redis: Redis) {
    this.#queues = queues;
    this.#redis = redis;
    if (!(PURGE_COMMAND in redis)) redis.defineCommand(PURGE_COMMAND, PURGE_SCRIPT);
  }

  count(): Promise<number> {
    return translated('counting dead letters', () =>
      this.#queues.sizeOf(this.#queues.layout.partitions(), ['failed']),
    );
  }

  /**
   * Oldest first, across all partitions unless `partition` is given, from
   * `since` on (the failed set's scores are the dead-lettering times); at
   * most `limit` (default 100).
   */
  async list(options: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (limit <= 0) return [];
    const partitions =
      options.partition === undefined ? this.#queues.layout.partitions() : [options.partition];
    const from = options.since === undefined ? '-inf' : String(options.since.getTime());
    const perPartition = await translated('listing dead letters', () =>
      Promise.all(
        partitions.map(async (p) => {
          const queue = await this.#queues.ready(p);
          const ids = await this.#redis.zrangebyscore(
            queue.toKey('failed'),
            from,
            '+inf',
            'LIMIT',
            0,
            limit,
          );
          // A job requeued or purged between the two reads is simply not listed.
          return (await Promise.all(ids.map((id) => this.#failedJob(queue, id)))).filter(
            (job) => job !== undefined,
          );
        }),
      ),
    );
    return perPartition
      .flatMap((jobs, i) => jobs.map((job) => toDeadLetter(job, partitions[i] as number)))
      .sort((a, b) => a.deadLetteredAt.getTime() - b.deadLetteredAt.getTime())
      .slice(0, limit);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const partition = this.#queues.layout.partitionOfJobId(id);
    if (partition === undefined) return undefined;
    const job = await translated(`reading dead letter ${id}`, async () =>
      this.#failedJob(await this.#queues.ready(partition), id),
    );
    return job && toDeadLetter(job, partition);
  }

  /**
   * Puts a dead letter back at the BACK of its partition's line (BullMQ's
   * retry of a failed job) with `failedAttempts` and `firstFailedAt` reset —
   * an operator requeues after fixing the cause — and a
   * {@link REQUEUED_AT_HEADER} header, because a writer that drops keys at or
   * below its checkpoint would otherwise discard the old batch as already
   * written.
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
      const requeued: JobPayload = {
        body: payload.body,
        failedAttempts: 0,
        headers: { ...payload.headers, [REQUEUED_AT_HEADER]: new Date().toISOString() },
        // Kept: replay needs to know which of the events are in the lake.
        eventsInLake: payload.eventsInLake ?? [],
      };
      await translated(doing, () => job.updateData(requeued));
    }
    try {
      await translated(doing, () => job.retry('failed'));
    } catch (error) {
      // Anything but an outage means another operator requeued (or removed) it first.
      throw (error as QueueError).code === 'UNAVAILABLE' ? error : notFound();
    }
  }

  /**
   * Deletes a dead letter, atomically with the check that it is one (see
   * {@link PURGE_SCRIPT}).
   *
   * @throws QueueError `NOT_FOUND` when `id` is not a dead letter.
   */
  async purge(id: string): Promise<void> {
    const partition = this.#queues.layout.partitionOfJobId(id);
    const notFound = () => new QueueError('NOT_FOUND', `No dead letter with id '${id}'.`);
    if (partition === undefined) throw notFound();
    const queue = await this.#queues.ready(partition);
    const removed = await translated(`purging dead letter ${id}`, () =>
      this.#runPurge(
        queue.toKey('failed'),
        queue.toKey(id),
        queue.toKey('events'),
        queue.toKey('meta'),
        id,
      ),
    );
    if (Number(removed) !== 1) throw notFound();
  }

  /** The job `id` of `queue` while it is a dead letter (in the failed set). */
  async #failedJob(queue: Queue, id: string): Promise<Job | undefined> {
    const job = await queue.getJob(id);
    return job && (await job.isFailed()) ? (job as Job) : undefined;
  }

  #runPurge(...args: string[]): Promise<unknown> {
    // defineCommand adds the method at run time; ioredis's types cannot know it.
    const commands = this.#redis as unknown as Record<typeof PURGE_COMMAND, PurgeCall>;
    return commands[PURGE_COMMAND].apply(this.#redis, args);
  }
}

function toDeadLetter(job: Job, partition: number): DeadLetter {
  const payload = decodePayload(job.data);
  const firstFailedAt =
    payload?.firstFailedAt === undefined ? NaN : Date.parse(payload.firstFailedAt);
  return {
    id: String(job.id),
    partition,
    body: payload ? bodyOf(payload) : new Uint8Array(),
    reason: job.failedReason ?? '',
    eventsInLake: payload?.eventsInLake ?? [],
    failedAttempts: payload?.failedAttempts ?? 0,
    ...(Number.isNaN(firstFailedAt) ? {} : { firstFailedAt: new Date(firstFailedAt) }),
    deadLetteredAt: new Date(job.finishedOn ?? job.timestamp),
    headers: payload?.headers ?? {},
  };
}
