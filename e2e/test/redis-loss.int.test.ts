import { type PrivateRedis, startPrivateRedis } from '@tributary/testing';
import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

/** Polls the batches the queue holds until some wait, so a loss is real; returns how many. */
async function untilBatchesWait(pipeline: Pipeline): Promise<number> {
  let waiting = await pipeline.queuedBatches();
  for (let i = 0; waiting === 0 && i < 400; i += 1) {
    await new Promise((r) => setTimeout(r, 25));
    waiting = await pipeline.queuedBatches();
  }
  return waiting;
}

describeOnTransports('the pipeline when the queue loses everything', (transport) => {
  let pipeline: Pipeline | undefined;
  let redis: PrivateRedis | undefined;
  afterEach(async () => {
    await pipeline?.close();
    await redis?.stop();
    pipeline = undefined;
    redis = undefined;
  });

  it.runIf(transport === 'bullmq')(
    'refills the queue from the checkpoints after Redis FLUSHALL mid-load: nothing lost, nothing repeated',
    async () => {
      // A Redis of its own: FLUSHALL on the shared one would wipe other suites.
      redis = await startPrivateRedis();
      pipeline = await Pipeline.start({ transport, lake: 'adls', redisUrl: redis.url });
      const capture = await pipeline.startCapture();
      pipeline.startWriter('w1');
      pipeline.startWriter('w2');
      // Slow appends keep batches waiting in the queue when it is flushed.
      pipeline.adls?.faults.add({ operations: ['path.append'], latencyMs: 10 });
      const load = pipeline.startLoad(30);
      await load.reach(10);
      // Flush only while batches are waiting, so the loss is real.
      expect(await untilBatchesWait(pipeline)).toBeGreaterThan(0);
      // (Capture may publish again the moment after: no backlog check here.)
      await redis.flushAll();
      await load.done;

      expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
      expect(capture.output()).toMatch(/the queue lost what it held/);
      // The flush wiped Redis's dead-letter sets too: the writers' own logs say none was made.
      for (const process of pipeline.processes)
        expect(process.output()).not.toMatch(/"msg":"batch sent to the dead letters"/);
      expect(await pipeline.transport().deadLetters().count()).toBe(0);
    },
  );

  it.runIf(transport === 'servicebus')(
    'refills the queue from the checkpoints after the Service Bus queue is deleted and created again mid-load: nothing lost, nothing repeated',
    async () => {
      pipeline = await Pipeline.start({
        transport,
        lake: 'adls',
        env: { TRIBUTARY_GAP_CHECK_INTERVAL_MS: '300' },
      });
      const capture = await pipeline.startCapture();
      pipeline.startWriter('w1');
      pipeline.startWriter('w2');
      // Slow appends keep batches waiting in the queue when it is deleted.
      pipeline.adls?.faults.add({ operations: ['path.append'], latencyMs: 10 });
      const load = pipeline.startLoad(30);
      await load.reach(10);
      // Delete only while batches are waiting, so the loss is real.
      expect(await untilBatchesWait(pipeline)).toBeGreaterThan(0);
      // The same queue, empty: its messages, locks, sessions and duplicate-detection history gone.
      await pipeline.restartServiceBus({ empty: true });
      await load.done;

      expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
      // No sign of the loss but the gaps the writers find: capture re-reads those partitions.
      const writerLogs = pipeline.processes.map((p) => p.output()).join('\n');
      expect(writerLogs).toMatch(/asking capture to re-send from the checkpoint/);
      expect(capture.output()).toMatch(/writers report batches lost from the queue/);
      for (const process of pipeline.processes)
        expect(process.output()).not.toMatch(/"msg":"batch sent to the dead letters"/);
      expect(await pipeline.transport().deadLetters().count()).toBe(0);
    },
  );
});
