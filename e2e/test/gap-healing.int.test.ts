import { requireRedis } from '@tributary/testing';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';

/**
 * Removes the next waiting batch of a partition that has at least two
 * waiting, as a Redis restarting from a stale file or a failover to a lagging
 * replica would lose it: no epoch changes, nothing tells capture. Atomic, so
 * a batch a writer is taking meanwhile is never the one removed.
 */
const REMOVE_WAITING = `
local n = redis.call('LREM', KEYS[1], 1, ARGV[1])
if n == 1 then redis.call('DEL', KEYS[2]) end
return n`;

async function deleteOneWaitingBatch(
  redisUrl: string,
  queueName: string,
  partitionCount: number,
): Promise<{ partition: number; id: string } | undefined> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for (let attempt = 0; attempt < 400; attempt += 1) {
      for (let partition = 0; partition < partitionCount; partition += 1) {
        const base = `tributary:${queueName}-p${partition}`;
        const waiting = await redis.lrange(`${base}:wait`, 0, -1);
        // BullMQ takes from the right: the last id is the next batch delivered.
        const next = waiting.at(-1);
        if (waiting.length < 2 || next === undefined) continue;
        const removed = await redis.eval(
          REMOVE_WAITING,
          2,
          `${base}:wait`,
          `${base}:${next}`,
          next,
        );
        if (removed === 1) return { partition, id: next };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return undefined;
  } finally {
    redis.disconnect();
  }
}

describe('batches lost from the queue without a sign', () => {
  let pipeline: Pipeline | undefined;
  beforeAll(() => requireRedis());
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('are re-sent from the source when a writer reports the gap: nothing lost, nothing repeated, no dead letters', async () => {
    pipeline = await Pipeline.start({
      lake: 'adls',
      env: { TRIBUTARY_GAP_CHECK_INTERVAL_MS: '300' },
    });
    const capture = await pipeline.startCapture();
    const writers = [pipeline.startWriter('w1'), pipeline.startWriter('w2')];
    // Slow appends keep batches waiting, so one can be taken out of the line.
    pipeline.adls?.faults.add({ operations: ['path.append'], latencyMs: 15 });
    const load = pipeline.startLoad(30);
    await load.reach(6);
    const lost = await deleteOneWaitingBatch(
      pipeline.env.REDIS_URL ?? '',
      pipeline.env.TRIBUTARY_QUEUE_NAME ?? '',
      Number(pipeline.env.TRIBUTARY_PARTITION_COUNT),
    );
    expect(lost).toBeDefined();
    await load.done;
    pipeline.adls?.faults.clear();

    expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
    const writerLogs = writers.map((w) => w.output()).join('\n');
    expect(writerLogs).toMatch(/asking capture to re-send from the checkpoint/);
    expect(writerLogs).toMatch(/gap healed/);
    expect(capture.output()).toMatch(/writers report batches lost from the queue/);
    expect(writerLogs).not.toMatch(/"msg":"batch sent to the dead letters"/);
    expect(await pipeline.transport().deadLetters().count()).toBe(0);
  }, 150_000);
});
