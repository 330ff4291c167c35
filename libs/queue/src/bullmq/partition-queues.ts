import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ResolvedBullmqOptions } from './bullmq-options.ts';
import type { PartitionLayout } from './partition-layout.ts';
import type { QueueError } from '../queue-error.ts';
import { withDeadline } from './deadline.ts';
import { bestEffort, translateError, translated } from './translate-error.ts';

/** BullMQ states counted by {@link PartitionQueues.sizeOf}: its wait list and sorted sets. */
export type CountedState = 'wait' | 'prioritized' | 'delayed' | 'failed';

/**
 * The BullMQ `Queue` of each partition, opened on first use over the
 * transport's shared connection (a Queue on a shared ioredis client opens no
 * socket of its own) and closed with the transport.
 */
export class PartitionQueues {
  readonly layout: PartitionLayout;
  readonly #redis: Redis;
  readonly #options: ResolvedBullmqOptions;
  readonly #queues = new Map<number, Queue>();

  constructor(redis: Redis, layout: PartitionLayout, options: ResolvedBullmqOptions) {
    this.#redis = redis;
    this.layout = layout;
    this.#options = options;
  }

  /**
   * The queue of partition `p` once its connection is ready. A queue whose
   * start failed (Redis was down when it was first used) stays broken in
   * BullMQ, so it is dropped and the next call opens a new one.
   *
   * @throws QueueError `UNAVAILABLE` when it is not ready within `operationTimeoutMs`.
   */
  async ready(partition: number): Promise<Queue> {
    const queue = this.of(partition);
    const doing = `opening the queue of partition ${partition}`;
    const started = queue.waitUntilReady().then(
      () => true,
      (error: unknown) => {
        this.#discard(partition, queue, translateError(error, doing));
        throw error;
      },
    );
    await translated(doing, () => withDeadline(started, this.#options.operationTimeoutMs, doing));
    return queue;
  }

  /** The queue of partition `p`, opened if needed (for key names; use {@link ready} to talk to it). */
  of(partition: number): Queue {
    let queue = this.#queues.get(partition);
    if (!queue) {
      queue = new Queue(this.layout.queueOf(partition), {
        connection: this.#redis,
        prefix: this.layout.prefix,
        streams: { events: { maxLen: this.#options.maxEventStreamLength } },
        ...(this.#options.telemetry ? { telemetry: this.#options.telemetry } : {}),
      });
      const doing = `queue of partition ${partition}`;
      queue.on('error', (error) => this.#options.onBackgroundError(translateError(error, doing)));
      this.#queues.set(partition, queue);
    }
    return queue;
  }

  /**
   * Sums the sizes of the given BullMQ states over `partitions` in one round
   * trip (cheap enough for capture to poll every few hundred ms).
   */
  async sizeOf(partitions: readonly number[], states: readonly CountedState[]): Promise<number> {
    const pipeline = this.#redis.pipeline();
    for (const partition of partitions) {
      const queue = this.of(partition);
      for (const state of states) {
        if (state === 'wait') pipeline.llen(queue.toKey(state));
        else pipeline.zcard(queue.toKey(state));
      }
    }
    let total = 0;
    for (const [error, size] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      total += Number(size);
    }
    return total;
  }

  #discard(partition: number, queue: Queue, cause: QueueError): void {
    if (this.#queues.get(partition) !== queue) return;
    this.#queues.delete(partition);
    this.#options.onBackgroundError(cause);
    void bestEffort(`closing ${queue.name}`, () => queue.close(), this.#options.onBackgroundError);
  }

  /** Closes every queue opened so far; the shared connection stays open. */
  async close(): Promise<void> {
    const queues = [...this.#queues.values()];
    this.#queues.clear();
    await Promise.all(
      queues.map((queue) =>
        bestEffort(
          `closing queue ${queue.name}`,
          () => queue.close(),
          this.#options.onBackgroundError,
        ),
      ),
    );
  }
}
