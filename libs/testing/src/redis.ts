import { Redis } from 'ioredis';

/** The Redis the integration suites use: `REDIS_URL`, or the local default. */
export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/**
 * Fails fast, with what to do, when the test Redis is not reachable —
 * instead of letting a suite hang on retries until its timeout.
 */
export async function requireRedis(url = redisUrl()): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', ignoreConnectionNoise);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Redis is not reachable at ${new URL(url).host} (${reason}). ` +
        'These integration tests need a real Redis: start one with `redis-server --daemonize yes`, ' +
        'or point REDIS_URL at one.',
      { cause: error },
    );
  } finally {
    client.disconnect();
  }
}

/** Connection errors surface through `connect()`; the event would only duplicate them. */
function ignoreConnectionNoise(): void {}
