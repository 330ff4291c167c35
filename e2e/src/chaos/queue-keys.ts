import { Redis } from 'ioredis';

/**
 * The BullMQ key prefix of the Tributary transport. The harness reads Redis
 * from the outside, as an operator's tool would, so it names the keys the
 * adapter documents (libs/queue/src/bullmq/README.md) instead of importing
 * the adapter it is checking.
 */
const PREFIX = 'tributary';

/** Where partition `p`'s BullMQ queue keeps its lists, sets and jobs. */
export function partitionQueueKey(queueName: string, partition: number, part: string): string {
  return `${PREFIX}:${queueName}-p${partition}:${part}`;
}

/** How often a Redis operation of the harness is tried while Redis restarts. */
const ATTEMPTS = 20;
const ATTEMPT_PAUSE_MS = 250;

/**
 * Runs `use` with a short-lived connection of its own, tried again while
 * Redis is away (the harness restarts it): a harness that gave up on the
 * first refused connection would report a fault it caused itself.
 */
export async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', (error: unknown) => (lastError = error));
    try {
      await redis.connect();
      return await use(redis);
    } catch (error) {
      lastError = error;
    } finally {
      redis.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, ATTEMPT_PAUSE_MS));
  }
  throw new Error(`Redis at ${url} did not answer in ${ATTEMPTS} attempts`, { cause: lastError });
}
