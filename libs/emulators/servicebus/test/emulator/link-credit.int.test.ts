import rhea from 'rhea';
import { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../src/index.ts';

describe('link credit and drain', () => {
  let emulator: ServiceBusEmulator;
  let client: ServiceBusClient;

  beforeAll(async () => {
    emulator = await startServiceBusEmulator({
      queues: {
        q: {},
        s: { requiresSession: true },
        big: { maxMessageSizeBytes: 4 * 1024 * 1024 },
      },
    });
    client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
    });
  });
  afterAll(async () => {
    await client.close();
    await emulator.stop();
  });

  it('answers the SDK’s drain, so a receiver asking for more than there is keeps its link', async () => {
    await client.createSender('q').sendMessages({ body: 1 });
    const receiver = client.createReceiver('q', { receiveMode: 'receiveAndDelete' });
    // The SDK drains the credit it did not use; unanswered, it closes the link after 200 ms.
    expect(await receiver.receiveMessages(5, { maxWaitTimeInMs: 300 })).toHaveLength(1);
    expect(emulator.inspectQueue('q')?.counts.receivers).toBe(1);
    const started = Date.now();
    expect(await receiver.receiveMessages(5, { maxWaitTimeInMs: 200 })).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(emulator.inspectQueue('q')?.counts.receivers).toBe(1);
    await client.createSender('q').sendMessages({ body: 2 });
    expect((await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 }))[0]?.body).toBe(2);
    await receiver.close();
    expect(emulator.inspectQueue('q')?.counts.receivers).toBe(0);
  });

  it('answers a drain that arrives after the messages used up all the credit', async () => {
    // AMQP 1.0 part 2 §2.6.7: the sender answers a drain with a flow, even
    // with no credit left. rhea alone would not, and the receiver would wait.
    await client.createSender('q').sendMessages({ body: 'only one' });
    const container = rhea.create_container({ id: 'drain-test' });
    // rhea raises unhandled link errors on the container; this test checks its own events.
    container.on('error', () => undefined);
    const connection = container.connect({
      host: '127.0.0.1',
      port: emulator.port,
      reconnect: false,
      username: 'anon',
    } as never);
    try {
      const receiver = connection.open_receiver({
        source: { address: 'q' },
        credit_window: 0,
        autoaccept: true,
      });
      await new Promise((resolve) => receiver.once('receiver_open', resolve));
      const received = new Promise((resolve) => receiver.once('message', resolve));
      const drained = new Promise((resolve) => receiver.once('receiver_drained', resolve));
      // Credit for one, and at once the request to drain it: the flow and the
      // message cross, so the drain reaches the emulator with no credit left.
      receiver.add_credit(1);
      receiver.drain_credit();
      await received;
      const outcome = await Promise.race([
        drained.then(() => 'drained'),
        new Promise((r) => setTimeout(() => r('no answer'), 2000)),
      ]);
      expect(outcome).toBe('drained');
    } finally {
      await new Promise((resolve) => {
        connection.once('connection_close', resolve);
        connection.once('disconnected', resolve);
        connection.close();
      });
    }
  });

  it('sends no more than the credit granted', async () => {
    await client
      .createSender('q')
      .sendMessages(Array.from({ length: 10 }, (_, i) => ({ body: i })));
    const receiver = client.createReceiver('q', { maxAutoLockRenewalDurationInMs: 0 });
    const got = await receiver.receiveMessages(3, { maxWaitTimeInMs: 5000 });
    expect(got).toHaveLength(3);
    expect(emulator.inspectQueue('q')?.counts).toMatchObject({ locked: 3, active: 7 });
    for (const m of got) await receiver.completeMessage(m);
    const rest = await receiver.receiveMessages(7, { maxWaitTimeInMs: 5000 });
    expect(rest.map((m) => m.body)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    for (const m of rest) await receiver.completeMessage(m);
    await receiver.close();
  });

  it('takes and gives a message larger than one frame (the emulator announces 1 MiB frames)', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
    await client.createSender('big').sendMessages({ body });
    const [m] = await client
      .createReceiver('big', { receiveMode: 'receiveAndDelete' })
      .receiveMessages(1, { maxWaitTimeInMs: 10_000 });
    expect(Buffer.compare(m!.body as Buffer, body)).toBe(0);
  });

  it('counts a session receiver while it holds its session', async () => {
    const session = await client.acceptSession('s', 'one');
    expect(emulator.inspectQueue('s')?.counts.receivers).toBe(1);
    await session.close();
    expect(emulator.inspectQueue('s')?.counts.receivers).toBe(0);
  });
});
