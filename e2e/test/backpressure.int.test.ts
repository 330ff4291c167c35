import { afterEach, expect, it } from 'vitest';
import { runMixedLoad } from '../src/mixed-load.ts';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';
import { residentMib, sampleDuring } from '../src/process-memory.ts';
import { describeOnTransports } from '../src/transports.ts';

const HIGH_WATER_MARK = 20;
const PARTITIONS = 8;
/** Growth of capture's resident memory allowed while the source keeps producing and capture is paused. */
const RSS_GROWTH_LIMIT_MIB = 40;

describeOnTransports('the pipeline under backpressure', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('pauses capture at the queue’s high-water mark with flat memory while the source keeps growing, then lands everything exactly once', async () => {
    pipeline = await Pipeline.start({
      transport,
      // The lake is not under test here; a local one keeps draining 20k+ events short.
      lake: 'local',
      partitionCount: PARTITIONS,
      env: {
        TRIBUTARY_QUEUE_HIGH_WATER_MARK: String(HIGH_WATER_MARK),
        TRIBUTARY_BATCH_MAX_EVENTS: '50',
      },
    });
    // What the broker holds, counted by the test rather than by capture.
    const queuedBatches = pipeline.queuedBatches.bind(pipeline);
    const capture = await pipeline.startCapture();
    const pid = capture.pid;
    if (pid === undefined) throw new Error('capture has no process id');

    // No writers: the queue fills up until capture stops reading.
    await runMixedLoad(pipeline.client, { rounds: 10, perRound: 30 });
    await capture.waitForLog(/"msg":"queue full: capture paused"/);
    await new Promise((r) => setTimeout(r, 1000));
    const pausedAt = { backlog: await queuedBatches(), rssMib: await residentMib(pid) };
    const sourceAtPause = pipeline.mongo.oplogEntries().length;

    // The source keeps growing by 20k+ events; capture's memory and the queue must not.
    const growing = runMixedLoad(pipeline.client, { rounds: 64, perRound: 100 });
    const backlogSeen = sampleDuring(queuedBatches, 250, growing);
    const rss = await sampleDuring(() => residentMib(pid), 250, growing);
    const backlog = await backlogSeen;
    const grownBy = pipeline.mongo.oplogEntries().length - sourceAtPause;
    const report = `source grew by ${grownBy} events while paused; backlog ${pausedAt.backlog} at pause, max ${backlog.max}; capture RSS ${pausedAt.rssMib.toFixed(1)} MiB at pause, max ${rss.max.toFixed(1)} MiB over ${rss.count} samples (+${(rss.max - pausedAt.rssMib).toFixed(1)} MiB)`;
    console.info(`backpressure: ${report}`);
    expect(grownBy, report).toBeGreaterThanOrEqual(20_000);
    expect(pausedAt.backlog, report).toBeGreaterThanOrEqual(HIGH_WATER_MARK);
    // Capture counts what it publishes between asks, so it stops at the mark; at most one batch
    // per partition, already cut, is still flushed as it pauses. Paused, the backlog stays put.
    expect(pausedAt.backlog, report).toBeLessThanOrEqual(HIGH_WATER_MARK + PARTITIONS);
    expect(backlog.max, report).toBeLessThanOrEqual(pausedAt.backlog + PARTITIONS);
    expect(rss.max - pausedAt.rssMib, report).toBeLessThan(RSS_GROWTH_LIMIT_MIB);
    expect(capture.running).toBe(true);
    expect(capture.output()).not.toMatch(/"msg":"queue has room: capture resumed"/);

    // Writers drain the queue; capture resumes and everything lands once.
    pipeline.startWriter('w1');
    pipeline.startWriter('w2');
    await capture.waitForLog(/"msg":"queue has room: capture resumed"/);
    // Reading the whole lake back is costly: only start once the queue is drained.
    await untilDrained(pipeline, 120_000);
    expectExactlyOnce(await pipeline.waitUntilComplete(120_000));
  });
});

/** Polls the batches the queue holds until there are none, or throws after `timeoutMs`. */
async function untilDrained(pipeline: Pipeline, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (
    let backlog = await pipeline.queuedBatches();
    backlog > 0;
    backlog = await pipeline.queuedBatches()
  ) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`${backlog} batches still queued after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
