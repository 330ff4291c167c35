import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { translated } from './translate-error.ts';

/**
 * The id of what the partition queues hold. The first caller stores a random
 * id (`SET … NX GET`, one atomic step) and everyone reads the stored one; a
 * Redis that restarts empty loses the key with the queues, so the next call
 * stores a new id — which is how capture learns that batches were lost.
 */
export function readQueueEpoch(redis: Redis, key: string): Promise<string> {
  return translated('reading the queue epoch', async () => {
    const candidate = randomUUID();
    const stored = await redis.set(key, candidate, 'NX', 'GET');
    return stored ?? candidate;
  });
}
