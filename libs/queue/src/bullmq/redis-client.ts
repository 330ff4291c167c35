import { backoffDelayMs } from '@tributary/core';
import { Redis } from 'ioredis';
import type { ResolvedBullmqOptions } from './bullmq-options.ts';
import { translateError } from './translate-error.ts';

/**
 * The one Redis connection a transport shares between its BullMQ queues,
 * workers and lease scripts (each BullMQ worker adds its own blocking
 * duplicate, which this adapter never blocks on).
 *
 * - `maxRetriesPerRequest: null` — BullMQ requires it for connections its
 *   workers duplicate; commands are instead bounded by `commandTimeout`,
 *   which also covers time spent queued while reconnecting, so no call hangs
 *   longer than `operationTimeoutMs` when Redis is down.
 * - It reconnects forever with the shared backoff shape: Redis coming back
 *   (even empty) must be picked up without a restart.
 */
export function createRedisClient(options: ResolvedBullmqOptions): Redis {
  const client = new Redis(options.redisUrl, {
    maxRetriesPerRequest: null,
    commandTimeout: options.operationTimeoutMs,
    connectTimeout: options.operationTimeoutMs,
    retryStrategy: (attempt) =>
      backoffDelayMs({ ...options.reconnectBackoff, maxRetries: Infinity }, attempt, 0) ??
      options.reconnectBackoff.maxIntervalMs,
  });
  // ioredis emits every failed (re)connection attempt; the commands that need
  // the connection fail with their own, translated, error.
  client.on('error', (error) =>
    options.onBackgroundError(translateError(error, 'connecting to Redis')),
  );
  return client;
}

/** Closes a client politely when it is connected, at once otherwise; never throws. */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready' && (await client.quit().then(() => true, quitFailed))) return;
  client.disconnect();
}

/** QUIT failed because the connection dropped meanwhile: disconnecting is all that is left. */
function quitFailed(): false {
  return false;
}
