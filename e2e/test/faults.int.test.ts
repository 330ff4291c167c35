import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';
import type { ServiceProcess } from '../src/service-process.ts';
import { describeOnTransports, runsOnce } from '../src/transports.ts';

describeOnTransports('the pipeline under faults', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('loses and repeats nothing while ADLS answers 503 to a fifth of the requests and loses some answers to work it did', async () => {
    pipeline = await Pipeline.start({
      transport,
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

  // Between MongoDB and capture: once, whatever the queue.
  it.runIf(runsOnce(transport))(
    'loses and repeats nothing when the change stream’s connection is closed under it, and capture keeps running',
    async () => {
      pipeline = await Pipeline.start({ transport, lake: 'adls' });
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
    },
  );

  it.runIf(transport === 'servicebus')(
    'loses and repeats nothing when Service Bus drops every connection and then detaches every link mid-load, and no process stops',
    async () => {
      pipeline = await Pipeline.start({ transport, lake: 'adls' });
      const serviceBus = pipeline.requireServiceBus();
      await pipeline.startCapture();
      const writers = [pipeline.startWriter('w1'), pipeline.startWriter('w2')];
      await Promise.all(writers.map((writer) => writer.waitForLog(/"msg":"writer started"/)));
      const load = pipeline.startLoad(30);
      await load.reach(6);
      // TCP connections destroyed without an AMQP close: capture's and both
      // writers' (at least one each) at once.
      expect(serviceBus.faults.dropConnections()).toBeGreaterThanOrEqual(3);
      await load.reach(16);
      // Links detached with amqp:link:detach-forced; the connections stay.
      expect(serviceBus.faults.detachLinks({ entity: pipeline.queueName })).toBeGreaterThan(0);
      await load.done;

      expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
      expect(pipeline.processes.map((p) => p.running)).toEqual([true, true, true]);
      expect(deadLettersIn(pipeline.processes)).toEqual([]);
      expect(await pipeline.transport().deadLetters().count()).toBe(0);
    },
    150_000,
  );

  it.runIf(transport === 'servicebus')(
    'loses and repeats nothing while Service Bus answers ServerBusy to sends, receives and management requests',
    async () => {
      pipeline = await Pipeline.start({ transport, lake: 'adls' });
      const { faults } = pipeline.requireServiceBus();
      await pipeline.startCapture();
      pipeline.startWriter('w1');
      pipeline.startWriter('w2');
      const load = pipeline.startLoad(24);
      await load.reach(4);
      // Each rule disarms after its last refusal: a throttled namespace that recovers.
      faults.serverBusy({ entity: pipeline.queueName, operations: ['send'], times: 3 });
      faults.serverBusy({ entity: pipeline.queueName, operations: ['receive'], times: 3 });
      faults.serverBusy({ entity: pipeline.queueName, operations: ['management'], times: 2 });
      await load.done;

      const verification = await pipeline.waitUntilComplete(90_000);
      // Every refusal was made (a rule leaves the list once it has acted its times).
      expect(faults.list()).toEqual([]);
      expectExactlyOnce(verification);
      expect(pipeline.processes.map((p) => p.running)).toEqual([true, true, true]);
      expect(deadLettersIn(pipeline.processes)).toEqual([]);
      expect(await pipeline.transport().deadLetters().count()).toBe(0);
    },
    150_000,
  );
});

/** The dead letters services logged: environment faults must never make one. */
function deadLettersIn(processes: readonly ServiceProcess[]): string[] {
  return processes
    .flatMap((p) => p.output().split('\n'))
    .filter((line) => line.includes('"msg":"batch sent to the dead letters"'));
}
