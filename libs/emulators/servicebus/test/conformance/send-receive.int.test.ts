import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  errorCode,
  onEmulator,
  openTarget,
  testTimeout,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

describe('sending and receiving through the official SDK', { timeout: testTimeout() }, () => {
  let target: ConformanceTarget;

  beforeAll(async () => {
    target = await openTarget('send-receive');
  }, SETUP_TIMEOUT_MS);
  afterAll(() => target.close(), SETUP_TIMEOUT_MS);

  it('delivers a sent message in peek-lock with its body, properties, lock and broker annotations', async () => {
    const queue = target.queue('basic');
    const sender = target.client.createSender(queue);
    const before = Date.now();
    await sender.sendMessages({
      body: { hello: 'world' },
      messageId: 'first',
      contentType: 'application/json',
      subject: 'greeting',
      correlationId: 'corr-1',
      applicationProperties: { tenant: 'acme', attempt: 3, urgent: true },
    });
    const receiver = target.client.createReceiver(queue);
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(message).toBeDefined();
    expect(message!.body).toEqual({ hello: 'world' });
    expect(message!.messageId).toBe('first');
    expect(message!.contentType).toBe('application/json');
    expect(message!.subject).toBe('greeting');
    expect(message!.correlationId).toBe('corr-1');
    expect(message!.applicationProperties).toEqual({ tenant: 'acme', attempt: 3, urgent: true });
    expect(message!.deliveryCount).toBe(0);
    expect(message!.state).toBe('active');
    expect(message!.lockToken).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(message!.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(before - 5000);
    expect(message!.lockedUntilUtc!.getTime()).toBeGreaterThan(message!.enqueuedTimeUtc!.getTime());
    expect(message!.sequenceNumber!.toNumber()).toBeGreaterThan(0);
    await receiver.completeMessage(message!);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
  });

  it('gives a message sent without a message id one of its own', async () => {
    const queue = target.queue('basic');
    await target.client.createSender(queue).sendMessages({ body: 'anonymous' });
    const receiver = target.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(message?.body).toBe('anonymous');
    expect(typeof message?.messageId).toBe('string');
    expect(String(message?.messageId).length).toBeGreaterThan(0);
  });

  it('announces the queue message size limit to createMessageBatch and delivers batches in order', async () => {
    const queue = target.queue('batches');
    const sender = target.client.createSender(queue);
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(256 * 1024);
    for (let i = 0; i < 50; i++)
      expect(batch.tryAddMessage({ body: { i }, messageId: `b-${i}` })).toBe(true);
    await sender.sendMessages(batch);
    await sender.sendMessages([{ body: { i: 50 } }, { body: { i: 51 } }]);
    const receiver = target.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const bodies: number[] = [];
    const sequenceNumbers: number[] = [];
    while (bodies.length < 52) {
      const got = await receiver.receiveMessages(52 - bodies.length, { maxWaitTimeInMs: 5000 });
      if (got.length === 0) break;
      for (const m of got) {
        bodies.push((m.body as { i: number }).i);
        sequenceNumbers.push(m.sequenceNumber!.toNumber());
      }
    }
    expect(bodies).toEqual(Array.from({ length: 52 }, (_, i) => i));
    expect([...sequenceNumbers].sort((a, b) => a - b)).toEqual(sequenceNumbers);
    expect(new Set(sequenceNumbers).size).toBe(52);
  });

  it('takes a larger limit from a Premium-sized queue', async () => {
    const queue = target.queue('big');
    const sender = target.client.createSender(queue);
    const batch = await sender.createMessageBatch();
    // A real Standard namespace caps every queue at 256 KiB.
    expect(batch.maxSizeInBytes).toBe(onEmulator ? 1024 * 1024 : 256 * 1024);
    const body = Buffer.alloc(onEmulator ? 900 * 1024 : 200 * 1024, 7);
    await sender.sendMessages({ body });
    const [message] = await target.client
      .createReceiver(queue, { receiveMode: 'receiveAndDelete' })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(Buffer.compare(message!.body as Buffer, body)).toBe(0);
  });

  it('reports the time to live the queue applied: its default for a message that sets none, and no longer', async () => {
    // The queue's DefaultMessageTimeToLive is 1 hour: "used for all messages
    // where TimeToLive is not explicitly set", "a ceiling for the TimeToLive
    // value", and ExpiresAtUtc = EnqueuedTimeUtc + TimeToLive (message-expiration).
    const hour = 3_600_000;
    const queue = target.queue('ttl');
    await target.client
      .createSender(queue)
      .sendMessages([
        { body: 'unset' },
        { body: 'longer', timeToLive: 2 * hour },
        { body: 'shorter', timeToLive: 600_000 },
      ]);
    const receiver = target.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const got: ServiceBusReceivedMessage[] = [];
    while (got.length < 3) {
      const more = await receiver.receiveMessages(3 - got.length, { maxWaitTimeInMs: 5000 });
      if (more.length === 0) break;
      got.push(...more);
    }
    expect(got.map((m) => m.body)).toEqual(['unset', 'longer', 'shorter']);
    const applied = [hour, hour, 600_000];
    // ExpiresAtUtc comes from the header's ttl: exact.
    expect(got.map((m) => m.expiresAtUtc!.getTime() - m.enqueuedTimeUtc!.getTime())).toEqual(
      applied,
    );
    // The SDK reads timeToLive as absolute-expiry-time (the service's) minus
    // creation-time (the sender's clock) when both are set: within clock skew.
    got.forEach((m, i) => expect(Math.abs(m.timeToLive! - applied[i]!)).toBeLessThan(60_000));
  });

  it('removes messages as it delivers them in receive-and-delete mode', async () => {
    const queue = target.queue('deletes');
    await target.client.createSender(queue).sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    const receiver = target.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const got = await receiver.receiveMessages(3, { maxWaitTimeInMs: 5000 });
    expect(got.map((m) => m.body)).toEqual([1, 2, 3]);
    expect(got.every((m) => m.lockToken === undefined)).toBe(true);
    const peeked = await receiver.peekMessages(10);
    expect(peeked).toEqual([]);
  });

  it('delivers to a streaming subscriber and completes automatically', async () => {
    const queue = target.queue('deletes');
    await target.client.createSender(queue).sendMessages([{ body: 'a' }, { body: 'b' }]);
    const receiver = target.client.createReceiver(queue);
    const seen: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = receiver.subscribe(
        {
          processMessage: async (m) => {
            seen.push(m.body);
            if (seen.length === 2) {
              // Stop after the handler returns so both are auto-completed.
              setTimeout(() => subscription.close().then(resolve, reject), 200);
            }
          },
          processError: async (args) => reject(args.error),
        },
        { autoCompleteMessages: true },
      );
    });
    expect(seen).toEqual(['a', 'b']);
    expect(await receiver.peekMessages(10)).toEqual([]);
  });

  it('keeps delivering on one peek-lock link past thousands of settled messages', async () => {
    // More than one AMQP session buffer (2048 deliveries in rhea) of settled messages.
    const queue = target.queue('deletes');
    const sender = target.client.createSender(queue);
    for (let sent = 0; sent < 2200;) {
      const batch = await sender.createMessageBatch();
      while (sent < 2200 && batch.tryAddMessage({ body: sent })) sent++;
      await sender.sendMessages(batch);
    }
    const receiver = target.client.createReceiver(queue);
    let completed = 0;
    while (completed < 2200) {
      const got = await receiver.receiveMessages(500, { maxWaitTimeInMs: 5000 });
      if (got.length === 0) break;
      await Promise.all(got.map((m) => receiver.completeMessage(m)));
      completed += got.length;
    }
    expect(completed).toBe(2200);
  });

  it('answers MessagingEntityNotFound for a queue that does not exist, sending and receiving', async () => {
    expect(
      await errorCode(target.client.createSender('no-such-queue').sendMessages({ body: 1 })),
    ).toBe('MessagingEntityNotFound');
    expect(
      await errorCode(
        target.client.createReceiver('no-such-queue').receiveMessages(1, { maxWaitTimeInMs: 1000 }),
      ),
    ).toBe('MessagingEntityNotFound');
  });

  it('answers MessageSizeExceeded for a single message over the limit', async () => {
    const sender = target.client.createSender(target.queue('batches'));
    expect(await errorCode(sender.sendMessages({ body: Buffer.alloc(300 * 1024) }))).toBe(
      'MessageSizeExceeded',
    );
    // The link stays usable.
    await sender.sendMessages({ body: 'after' });
    const [after] = await target.client
      .createReceiver(target.queue('batches'), { receiveMode: 'receiveAndDelete' })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(after?.body).toBe('after');
  });
});
