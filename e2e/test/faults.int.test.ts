import { requireRedis } from '@tributary/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';

describe('the pipeline under faults', () => {
  let pipeline: Pipeline | undefined;
  beforeAll(() => requireRedis());
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('loses and repeats nothing while ADLS answers 503 to a fifth of the requests and loses some answers to work it did', async () => {
    pipeline = await Pipeline.start({
      lake: 'adls',
      // Fewer, larger batches and rarer heartbeats: every request risks a fault and a backoff.
      env: { TRIBUTARY_BATCH_MAX_WAIT_MS: '250', TRIBUTARY_HEARTBEAT_INTERVAL_MS: '2000' },
    });
    const adls = pipeline.requireAdls();
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    pipeline.startWriter('w2');
    adls.faults.seed(20_260_121);
    // Throttling: the request is refused and must be retried.
    const busy = adls.faults.add({ status: 503, probability: 0.2 });
    // Lost answers: appends and flushes are done, but the writer hears a failure and must not repeat them.
    const lost = adls.faults.add({
      operations: ['path.append', 'path.flush'],
      status: 500,
      probability: 0.05,
      phase: 'after',
    });
    const load = pipeline.startLoad(12);
    await load.done;

    const verification = await pipeline.waitUntilComplete(90_000);
    const fired = Object.fromEntries(adls.faults.list().map((rule) => [rule.id, rule.fired]));
    expect(fired[busy]).toBeGreaterThan(20);
    expect(fired[lost]).toBeGreaterThan(0);
    expectExactlyOnce(verification);
  });

  it('loses and repeats nothing when the change stream’s connection is closed under it, and capture keeps running', async () => {
    pipeline = await Pipeline.start({ lake: 'adls' });
    const capture = await pipeline.startCapture();
    pipeline.startWriter('w1');
    pipeline.startWriter('w2');
    const load = pipeline.startLoad(30);
    await load.reach(10);
    const admin = pipeline.client.db('admin');
    // Capture's next three getMores die with their connection; the driver must resume the stream.
    await admin.command({
      configureFailPoint: 'failCommand',
      mode: { times: 3 },
      data: { failCommands: ['getMore'], closeConnection: true, appName: 'tributary-capture' },
    });
    await load.done;

    const verification = await pipeline.waitUntilComplete();
    // Turning the fail point off reports how often it fired.
    const { count } = await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
    expect(count).toBe(3);
    expect(capture.running).toBe(true);
    expect(capture.output()).not.toMatch(/"level":(50|60),/);
    expectExactlyOnce(verification);
  });
});
