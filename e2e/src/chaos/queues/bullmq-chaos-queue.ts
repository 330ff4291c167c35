import { type PrivateRedis, startPrivateRedis } from '@tributary/testing';
import { partitionQueueKey, withRedis } from '../queue-keys.ts';
import { deleteWaitingBatch, waitingBatches } from '../queued-batches.ts';
import type { ChaosQueue, DeadLetterRecord } from './chaos-queue.ts';

/**
 * BullMQ on a private redis-server the harness can restart empty; a lost
 * batch is a waiting job deleted, as when Redis comes back from a stale file.
 */
export class BullmqChaosQueue implements ChaosQueue {
  readonly transport = 'bullmq';
  readonly restartEmptyWords = 'restart Redis empty';
  readonly loseWords = 'delete';
  readonly env: Readonly<Record<string, string>>;
  readonly #redis: PrivateRedis;
  readonly #queueName: string;
  readonly #partitionCount: number;

  private constructor(redis: PrivateRedis, queueName: string, partitionCount: number) {
    this.#redis = redis;
    this.#queueName = queueName;
    this.#partitionCount = partitionCount;
    this.env = { TRIBUTARY_TRANSPORT: 'bullmq', REDIS_URL: redis.url };
  }

  static async start(queueName: string, partitionCount: number): Promise<BullmqChaosQueue> {
    return new BullmqChaosQueue(await startPrivateRedis(), queueName, partitionCount);
  }

  waitingBatches(partition: number) {
    return waitingBatches(this.#redis.url, this.#queueName, this.#partitionCount, partition);
  }

  loseWaitingBatch(partition: number, id: string): Promise<boolean> {
    return deleteWaitingBatch(this.#redis.url, this.#queueName, partition, id);
  }

  /** A deleted job leaves no record behind. */
  isLostByFault(): boolean {
    return false;
  }

  restartEmpty(downForMs: number): Promise<void> {
    return this.#redis.restart({ downForMs });
  }

  /** Every partition queue's failed set (`tributary:<queue>-p<n>:failed`) with each job's reason. */
  deadLetters(): Promise<DeadLetterRecord[]> {
    return withRedis(this.#redis.url, async (redis) => {
      const records: DeadLetterRecord[] = [];
      for (let partition = 0; partition < this.#partitionCount; partition += 1) {
        const ids = await redis.zrange(
          partitionQueueKey(this.#queueName, partition, 'failed'),
          '0',
          '-1',
        );
        for (const id of ids) {
          const job = partitionQueueKey(this.#queueName, partition, id);
          const reason = (await redis.hget(job, 'failedReason')) ?? '';
          records.push({ partition, id, reason });
        }
      }
      return records;
    });
  }

  close(): Promise<void> {
    return this.#redis.stop();
  }
}
