import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConnectionRecorder, redisUrl, requireRedis } from '@tributary/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCheckpointStore } from '../../src/redis/redis-checkpoint-store.ts';
import { expectCheckpointError, sampleCheckpoint } from '../checkpoint-conformance.ts';

describe('redis checkpoint store failures', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    await requireRedis();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('reports an unreachable Redis as UNAVAILABLE without echoing its URL', async () => {
    const recorder = await ConnectionRecorder.listen();
    const port = recorder.port;
    await recorder.close(); // nothing listens there any more
    const store = createRedisCheckpointStore({
      redisUrl: `redis://:s3cret-password@127.0.0.1:${port}`,
      keyPrefix: 'unused:',
      connectTimeoutMs: 200,
      commandTimeoutMs: 500,
    });
    cleanups.push(() => store.close());
    const failure = await store.readPartition(0).catch((error: unknown) => error);
    await expectCheckpointError(Promise.reject(failure), 'UNAVAILABLE');
    expect(String((failure as Error).message)).not.toContain('s3cret');
    expect((failure as { retryable?: boolean }).retryable).toBe(true);
  });

  it('reports a partition key holding something else as CORRUPT, for reads and writes', async () => {
    const keyPrefix = `test:checkpoint:${randomUUID()}:`;
    const admin = new Redis(redisUrl());
    const store = createRedisCheckpointStore({ redisUrl: redisUrl(), keyPrefix });
    cleanups.push(
      () => admin.quit(),
      () => store.close(),
      () => admin.del(`${keyPrefix}partition:0`),
    );
    await admin.set(`${keyPrefix}partition:0`, 'a string, not a checkpoint hash');
    await expectCheckpointError(store.writePartition(sampleCheckpoint(0, 1), undefined), 'CORRUPT');
    await expectCheckpointError(store.readPartition(0), 'CORRUPT');
  });

  it('refuses to use the store after close, with UNAVAILABLE', async () => {
    const store = createRedisCheckpointStore({
      redisUrl: redisUrl(),
      keyPrefix: `test:${randomUUID()}:`,
    });
    await store.close();
    await expectCheckpointError(store.readOrigin(), 'UNAVAILABLE');
  });
});
