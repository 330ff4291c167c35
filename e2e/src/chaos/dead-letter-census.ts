import { partitionQueueKey, withRedis } from './queue-keys.ts';

/** One batch found in a partition's dead-letter (BullMQ failed) set. */
export interface DeadLetterSighting {
  /** Which Redis lifetime it was seen in: a restart empties the sets, and ids may repeat after it. */
  readonly lifetime: number;
  readonly partition: number;
  readonly id: string;
  readonly reason: string;
  /** What the harness had just done when it first saw it (e.g. `round 17`). */
  readonly firstSeen: string;
}

/**
 * Counts dead letters across the whole run. They live in each partition
 * queue's failed set (`tributary:<queue>-p<n>:failed`), which a Redis
 * restart wipes, so the census samples before every restart, after every
 * round and at the end, and keeps every batch it ever saw. The chaos load has
 * no poison input, so every dead letter it finds is a false one.
 */
export class DeadLetterCensus {
  readonly #redisUrl: string;
  readonly #queueName: string;
  readonly #partitionCount: number;
  readonly #seen = new Map<string, DeadLetterSighting>();
  #lifetime = 0;

  constructor(options: { redisUrl: string; queueName: string; partitionCount: number }) {
    this.#redisUrl = options.redisUrl;
    this.#queueName = options.queueName;
    this.#partitionCount = options.partitionCount;
  }

  /** Every dead letter seen so far. */
  get all(): readonly DeadLetterSighting[] {
    return [...this.#seen.values()];
  }

  /** Call right after Redis restarted empty: what follows is a new lifetime. */
  redisRestarted(): void {
    this.#lifetime += 1;
  }

  /** Reads every partition's failed set; returns the dead letters not seen before. */
  async sample(label: string): Promise<DeadLetterSighting[]> {
    const found = await withRedis(this.#redisUrl, async (redis) => {
      const sightings: Array<{ partition: number; id: string; reason: string }> = [];
      for (let partition = 0; partition < this.#partitionCount; partition += 1) {
        const ids = await redis.zrange(
          partitionQueueKey(this.#queueName, partition, 'failed'),
          '0',
          '-1',
        );
        for (const id of ids) {
          const job = partitionQueueKey(this.#queueName, partition, id);
          const reason = (await redis.hget(job, 'failedReason')) ?? '';
          sightings.push({ partition, id, reason });
        }
      }
      return sightings;
    });
    const fresh: DeadLetterSighting[] = [];
    for (const { partition, id, reason } of found) {
      const key = `${this.#lifetime}/${partition}/${id}`;
      if (this.#seen.has(key)) continue;
      const sighting = { lifetime: this.#lifetime, partition, id, reason, firstSeen: label };
      this.#seen.set(key, sighting);
      fresh.push(sighting);
    }
    return fresh;
  }
}
