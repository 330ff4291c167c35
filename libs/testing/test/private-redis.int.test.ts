import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type PrivateRedis, redisAnswers, startPrivateRedis } from '../src/index.ts';

describe('a private Redis', () => {
  let redis: PrivateRedis | undefined;
  let client: Redis | undefined;
  afterEach(async () => {
    client?.disconnect();
    client = undefined;
    await redis?.stop();
    redis = undefined;
  });

  it('restarts empty on the same port, and a connected client finds the new, empty server', async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: 20 });
    await client.set('survives', 'no');
    const before = await client.info('server');
    await redis.restart({ downForMs: 200 });
    expect(await client.get('survives')).toBeNull();
    const after = await client.info('server');
    const runId = (info: string) => /run_id:(\w+)/.exec(info)?.[1];
    expect(runId(after)).toBeDefined();
    expect(runId(after)).not.toBe(runId(before));
  });

  it('is gone for good after stop, also when stopped after a restart', async () => {
    redis = await startPrivateRedis();
    await redis.restart();
    await redis.stop();
    expect(await redisAnswers(redis.url)).toBe(false);
    await expect(redis.restart()).rejects.toThrow(/stopped/);
  });
});
