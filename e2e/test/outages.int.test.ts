import { type PrivateRedis, startPrivateRedis } from '@tributary/testing';
import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { freePort, untilAnswer } from '../src/health.ts';
import { Pipeline } from '../src/pipeline.ts';
import type { ServiceProcess } from '../src/service-process.ts';
import { describeOnTransports, runsOnce } from '../src/transports.ts';

/** How long each dependency stays down: longer than any retry or lease. */
const DOWN_MS = 30_000;

/** Dead letters a service logged (Redis may have been emptied, so its sets say nothing). */
const deadLettersIn = (process: ServiceProcess) =>
  process
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"batch sent to the dead letters"'));

/** A capture and a writer serving readiness, and the ports to ask. */
async function startServing(pipeline: Pipeline) {
  const [capturePort, writerPort] = [await freePort(), await freePort()];
  const capture = await pipeline.startCapture({ TRIBUTARY_HEALTH_PORT: String(capturePort) });
  const writer = pipeline.startWriter('w1', { TRIBUTARY_HEALTH_PORT: String(writerPort) });
  await untilAnswer(writerPort, '/readyz', (a) => a.status === 200);
  return { capture, writer, capturePort, writerPort };
}

/** Readiness of `port` says 503 naming `dependency`, and later 200 again. */
const notReadyNaming = (port: number, dependency: string) =>
  untilAnswer(
    port,
    '/readyz',
    (a) => a.status === 503 && a.body.includes(`${dependency}:`),
    DOWN_MS,
  );

describeOnTransports('the pipeline while a dependency is down for 30 s', (transport) => {
  let pipeline: Pipeline | undefined;
  let redis: PrivateRedis | undefined;
  afterEach(async () => {
    await pipeline?.close();
    await redis?.stop();
    pipeline = undefined;
    redis = undefined;
  });

  // Between MongoDB and capture (the queue only waits): once, whatever the queue.
  it.runIf(runsOnce(transport))(
    'MongoDB: capture stays up, says MongoDB is missing, and reads on where it was once it is back',
    async () => {
      pipeline = await Pipeline.start({ transport, lake: 'adls', persistentMongo: true });
      const { capture, writer, capturePort } = await startServing(pipeline);
      await pipeline.startLoad(8).done;
      await pipeline.stopMongo();
      const down = await notReadyNaming(capturePort, 'mongodb');
      expect(down.body).toMatch(/MongoDB cannot be reached/);
      await new Promise((r) => setTimeout(r, DOWN_MS));
      expect([capture.running, writer.running]).toEqual([true, true]);
      await pipeline.restartMongo();
      await untilAnswer(capturePort, '/readyz', (a) => a.status === 200, 60_000);
      await pipeline.startLoad(8).done;

      expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
      expect([capture.running, writer.running]).toEqual([true, true]);
      expect(deadLettersIn(writer)).toEqual([]);
    },
    180_000,
  );

  it.runIf(transport === 'bullmq')(
    'Redis: both stay up, say the queue is missing, and the lake is exact after it comes back empty',
    async () => {
      redis = await startPrivateRedis();
      pipeline = await Pipeline.start({ transport, lake: 'adls', redisUrl: redis.url });
      const { capture, writer, capturePort, writerPort } = await startServing(pipeline);
      const load = pipeline.startLoad(60);
      await load.reach(8);
      await redis.kill();
      await notReadyNaming(writerPort, 'queue');
      await notReadyNaming(capturePort, 'queue');
      await new Promise((r) => setTimeout(r, DOWN_MS));
      expect([capture.running, writer.running]).toEqual([true, true]);
      await redis.restart();
      await load.done;

      expectExactlyOnce(await pipeline.waitUntilComplete(120_000));
      await untilAnswer(writerPort, '/readyz', (a) => a.status === 200, 60_000);
      await untilAnswer(capturePort, '/readyz', (a) => a.status === 200, 60_000);
      expect([capture.running, writer.running]).toEqual([true, true]);
      expect(deadLettersIn(writer)).toEqual([]);
    },
    240_000,
  );

  it.runIf(transport === 'servicebus')(
    'Service Bus: both stay up, say the queue is missing, and the lake is exact after it comes back with its messages',
    async () => {
      pipeline = await Pipeline.start({ transport, lake: 'adls' });
      const { capture, writer, capturePort, writerPort } = await startServing(pipeline);
      const load = pipeline.startLoad(60);
      await load.reach(8);
      await pipeline.stopServiceBus();
      await notReadyNaming(writerPort, 'queue');
      await notReadyNaming(capturePort, 'queue');
      await new Promise((r) => setTimeout(r, DOWN_MS));
      expect([capture.running, writer.running]).toEqual([true, true]);
      await pipeline.restartServiceBus();
      await load.done;

      expectExactlyOnce(await pipeline.waitUntilComplete(120_000));
      await untilAnswer(writerPort, '/readyz', (a) => a.status === 200, 60_000);
      await untilAnswer(capturePort, '/readyz', (a) => a.status === 200, 60_000);
      expect([capture.running, writer.running]).toEqual([true, true]);
      expect(deadLettersIn(writer)).toEqual([]);
      expect(await pipeline.transport().deadLetters().count()).toBe(0);
    },
    240_000,
  );

  // Between the writers and the lake: once, whatever the queue. (A writer holding its
  // partitions through a lake that refuses it is in lake-refusals, on every transport.)
  it.runIf(runsOnce(transport))(
    'ADLS: the writer stays up, says the lake is missing, and writes everything once it is back',
    async () => {
      pipeline = await Pipeline.start({ transport, lake: 'adls' });
      const { capture, writer, writerPort } = await startServing(pipeline);
      const load = pipeline.startLoad(60);
      await load.reach(8);
      await pipeline.stopAdls();
      const down = await notReadyNaming(writerPort, 'lake');
      expect(down.body).toMatch(/lake: the lake cannot be reached or failed/);
      await new Promise((r) => setTimeout(r, DOWN_MS));
      expect([capture.running, writer.running]).toEqual([true, true]);
      await pipeline.restartAdls();
      await load.done;

      expectExactlyOnce(await pipeline.waitUntilComplete(120_000));
      await untilAnswer(writerPort, '/readyz', (a) => a.status === 200, 60_000);
      expect([capture.running, writer.running]).toEqual([true, true]);
      expect(deadLettersIn(writer)).toEqual([]);
      expect(await pipeline.transport().deadLetters().count()).toBe(0);
    },
    240_000,
  );
});
