import type { QueueTransport } from '@tributary/queue';
import { type PrivateRedis, requireRedis, startPrivateRedis } from '@tributary/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';

describe('the pipeline when Redis loses everything', () => {
  let pipeline: Pipeline | undefined;
  let redis: PrivateRedis | undefined;
  let transport: QueueTransport | undefined;
  beforeAll(() => requireRedis());
  afterEach(async () => {
    transport = undefined;
    await pipeline?.close();
    await redis?.stop();
    pipeline = undefined;
  });

  it('refills the queue from the checkpoints after FLUSHALL mid-load: nothing lost, nothing repeated', async () => {
    // A Redis of its own: FLUSHALL on the shared one would wipe other suites.
    redis = await startPrivateRedis();
    pipeline = await Pipeline.start({ lake: 'adls', redisUrl: redis.url });
    const capture = await pipeline.startCapture();
    pipeline.startWriter('w1');
    pipeline.startWriter('w2');
    // Slow appends keep batches waiting in the queue when it is flushed.
    pipeline.adls?.faults.add({ operations: ['path.append'], latencyMs: 10 });
    const load = pipeline.startLoad(30);
    await load.reach(10);
    transport = pipeline.transport();
    // Flush only while batches are waiting, so the loss is real.
    const publisher = transport.publisher();
    let waiting = await publisher.backlog();
    for (let i = 0; waiting === 0 && i < 400; i += 1) {
      await new Promise((r) => setTimeout(r, 25));
      waiting = await publisher.backlog();
    }
    expect(waiting).toBeGreaterThan(0);
    // (Capture may publish again the moment after: no backlog check here.)
    await redis.flushAll();
    await load.done;

    expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
    expect(capture.output()).toMatch(/the queue lost what it held/);
    // The flush wiped Redis's dead-letter sets too: the writers' own logs say none was made.
    for (const process of pipeline.processes)
      expect(process.output()).not.toMatch(/"msg":"batch sent to the dead letters"/);
    expect(await pipeline.transport().deadLetters().count()).toBe(0);
  });
});
