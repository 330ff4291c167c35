import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUrl, requireRedis } from '@tributary/testing';
import { beforeAll } from 'vitest';
import { createRedisCheckpointStore } from '../../src/redis/redis-checkpoint-store.ts';
import { describeCheckpointConformance } from '../checkpoint-conformance.ts';

beforeAll(async () => {
  await requireRedis();
});

describeCheckpointConformance('redis checkpoint store', async () => {
  // A fresh prefix per test: the shared Redis is never flushed.
  const keyPrefix = `test:checkpoint:${randomUUID()}:`;
  const store = createRedisCheckpointStore({ redisUrl: redisUrl(), keyPrefix });
  const otherStore = createRedisCheckpointStore({ redisUrl: redisUrl(), keyPrefix });
  const admin = new Redis(redisUrl());
  return {
    store,
    otherStore,
    async corruptPartition(partition) {
      await admin.hset(`${keyPrefix}partition:${partition}`, 'version', '1', 'value', '{"format":');
    },
    async dispose() {
      await store.close();
      await otherStore.close();
      const keys = Array.from({ length: 10 }, (_, p) => `${keyPrefix}partition:${p}`);
      await admin.del(
        ...keys,
        `${keyPrefix}origin`,
        `${keyPrefix}gaps`,
        `${keyPrefix}capture-presence`,
        `${keyPrefix}resume-override`,
      );
      await admin.quit();
    },
  };
});
