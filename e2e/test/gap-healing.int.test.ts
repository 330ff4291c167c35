import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { tributary } from '../src/operator.ts';
import { Pipeline } from '../src/pipeline.ts';
import type { ServiceProcess } from '../src/service-process.ts';
import { describeOnTransports } from '../src/transports.ts';

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

/** How long a message lives in the Service Bus queue of the expiry case. */
const TIME_TO_LIVE_MS = 4_000;

describeOnTransports('batches lost from the queue without a sign', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it.runIf(transport === 'bullmq')(
    'are re-sent from the source when a writer reports the gap: nothing lost, nothing repeated, no dead letters',
    async () => {
      pipeline = await Pipeline.start({
        transport,
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
      await expectHealed(pipeline, capture, writers);
    },
    150_000,
  );

  it.runIf(transport === 'servicebus')(
    'expired in the queue while the writers were stopped, and dead-lettered by the service: re-sent from the source, nothing lost or repeated, none taken for a poison batch',
    async () => {
      pipeline = await Pipeline.start({
        transport,
        lake: 'adls',
        serviceBusQueue: { defaultMessageTimeToLiveMs: TIME_TO_LIVE_MS },
        env: { TRIBUTARY_GAP_CHECK_INTERVAL_MS: '300' },
      });
      const capture = await pipeline.startCapture();
      const first = [pipeline.startWriter('w1'), pipeline.startWriter('w2')];
      const load = pipeline.startLoad(24);
      await load.reach(4);
      // No writer reads while the load goes on: what capture sends outlives its time to live.
      await Promise.all(first.map((writer) => writer.stop('SIGTERM')));
      await load.reach(10);
      const waiting = await pipeline.queuedBatches();
      expect(waiting).toBeGreaterThan(0);
      // Expiry is FIFO: once that many more are dead-lettered, every one waiting now is.
      const expired = pipeline.serviceBusDeadLetters() + waiting;
      await until(() => pipeline?.serviceBusDeadLetters() ?? 0, expired, 30_000);
      const reasons = new Set(await pipeline.serviceBusDeadLetterReasons());
      expect([...reasons]).toEqual(['TTLExpiredException']);
      const writers = [pipeline.startWriter('w3'), pipeline.startWriter('w4')];
      await load.done;

      expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
      await expectHealed(pipeline, capture, writers, 'TTLExpiredException');
    },
    150_000,
  );

  it.runIf(transport === 'servicebus')(
    'dead-lettered by the service after their session lock was lost too often (MaxDeliveryCount): re-sent from the source, nothing lost or repeated, none taken for a poison batch',
    async () => {
      pipeline = await Pipeline.start({
        transport,
        lake: 'adls',
        serviceBusQueue: { maxDeliveryCount: 2 },
        env: { TRIBUTARY_GAP_CHECK_INTERVAL_MS: '300' },
      });
      const serviceBus = pipeline.requireServiceBus();
      const adls = pipeline.requireAdls();
      const capture = await pipeline.startCapture();
      const writers = [pipeline.startWriter('w1'), pipeline.startWriter('w2')];
      await Promise.all(writers.map((writer) => writer.waitForLog(/"msg":"writer started"/)));
      const load = pipeline.startLoad(24);
      await load.reach(2);
      // shop.orders' partition can append nothing (the lake's fault, retried, never the
      // batch's): its batch in hand stays in the writer's hand, none of it in the lake.
      const orders = pipeline.partitionOfCollection('shop', 'orders');
      const refused = adls.faults.add({
        operations: ['path.append'],
        pathContains: `part-${String(orders).padStart(4, '0')}-`,
        status: 503,
      });
      // Its session lock ends, again and again, as when a writer cannot renew it: each
      // time the batch comes back with one more delivery counted, and the service
      // dead-letters it at the second.
      // (Other partitions' batches in hand count deliveries too; some may be dead-lettered
      // after their events reached the lake, which heals nothing: the wait is for this one.)
      const deadLetters = pipeline.transport().deadLetters();
      const started = Date.now();
      while ((await deadLetters.list({ partition: orders })).length === 0) {
        if (Date.now() - started > 60_000)
          throw new Error(
            `the service dead-lettered no batch of partition ${orders} within 60 s of expiring locks`,
          );
        if (adls.faults.list().some((rule) => rule.id === refused && rule.fired > 0))
          serviceBus.faults.expireLocks(pipeline.queueName);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      adls.faults.remove(refused);
      const reasons = new Set(await pipeline.serviceBusDeadLetterReasons());
      expect([...reasons]).toEqual(['MaxDeliveryCountExceeded']);
      await load.done;

      expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
      await expectHealed(pipeline, capture, writers, 'MaxDeliveryCountExceeded');

      // An operator requeues them (a batch that failed too often, as the
      // reason says): their events are in the lake already, re-sent by the
      // healing, and the replay writes none of them again.
      const requeue = await tributary(pipeline.env, ['dead-letters', 'requeue', '--all', '--yes']);
      expect(requeue.code).toBe(0);
      const requeued = (requeue.stdout.match(/^Requeued /gm) ?? []).length;
      expect(requeued).toBeGreaterThan(0);
      const replays = () =>
        writers
          .flatMap((w) => w.output().split('\n'))
          .filter((l) =>
            l.includes('"msg":"requeued dead letter behind the checkpoint written as a replay"'),
          );
      await until(() => replays().length, requeued, 60_000);
      expect(replays().map((l) => (JSON.parse(l) as { written: number }).written)).toEqual(
        replays().map(() => 0),
      );
      expect(await deadLetters.count()).toBe(0);
      expectExactlyOnce(await pipeline.waitUntilComplete(30_000));
    },
    150_000,
  );
});

/**
 * The pipeline noticed and healed the loss: the writers reported the gap and
 * saw it filled, capture re-read the partitions, and no writer sent a batch
 * to the dead letters — neither in its log nor in what the transport lists.
 * On Service Bus the dead-letter subqueue keeps what the service itself
 * moved there (listed for operators with the service's reason, e.g.
 * `TTLExpiredException`): those, and only those, may be listed.
 */
async function expectHealed(
  pipeline: Pipeline,
  capture: ServiceProcess,
  writers: readonly ServiceProcess[],
  serviceReason?: string,
): Promise<void> {
  const writerLogs = writers.map((w) => w.output()).join('\n');
  expect(writerLogs).toMatch(/asking capture to re-send from the checkpoint/);
  expect(writerLogs).toMatch(/gap healed/);
  expect(capture.output()).toMatch(/writers report batches lost from the queue/);
  for (const process of pipeline.processes)
    expect(process.output()).not.toMatch(/"msg":"batch sent to the dead letters"/);
  const deadLetters = pipeline.transport().deadLetters();
  if (serviceReason === undefined) expect(await deadLetters.count()).toBe(0);
  else {
    const reasons = (await deadLetters.list()).map((letter) => letter.reason);
    expect(reasons.filter((reason) => !reason.startsWith(serviceReason))).toEqual([]);
  }
}

/** Polls `count` until it reaches `target`, or throws after `timeoutMs`. */
async function until(count: () => number, target: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (let seen = count(); seen < target; seen = count()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`${seen} of ${target} expected after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
