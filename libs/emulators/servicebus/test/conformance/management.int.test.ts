import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import Long from 'long';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  errorCode,
  onEmulator,
  openTarget,
  testTimeout,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

describe('$management operations through the official SDK', { timeout: testTimeout() }, () => {
  let target: ConformanceTarget;

  beforeAll(async () => {
    target = await openTarget('management');
  }, SETUP_TIMEOUT_MS);
  afterAll(() => target.close(), SETUP_TIMEOUT_MS);

  it('peeks without locking, from a sequence number on, and continues where the last peek ended', async () => {
    const queue = target.queue('peek');
    await target.client
      .createSender(queue)
      .sendMessages(Array.from({ length: 5 }, (_, i) => ({ body: i })));
    const receiver = target.client.createReceiver(queue);
    const first = await receiver.peekMessages(2);
    const next = await receiver.peekMessages(2);
    expect([...first, ...next].map((m) => m.body)).toEqual([0, 1, 2, 3]);
    const third = first[0]!.sequenceNumber!.add(2);
    const fromThird = await receiver.peekMessages(10, { fromSequenceNumber: third });
    expect(fromThird.map((m) => m.body)).toEqual([2, 3, 4]);
    expect(fromThird.every((m) => m.lockToken === undefined && m.deliveryCount === 0)).toBe(true);
    // Peeking locked nothing: all five are still there to receive.
    const got = await target.client
      .createReceiver(queue, { receiveMode: 'receiveAndDelete' })
      .receiveMessages(5, { maxWaitTimeInMs: 5000 });
    expect(got).toHaveLength(5);
  });

  it('peeks, schedules and cancels on a fresh connection that opened no other link', async () => {
    // The SDK asks for a token for `<entity>/$management` only; that claim
    // must be enough for the management link (no send or receive link first).
    const queue = target.queue('fresh');
    await target.client.createSender(queue).sendMessages({ body: 'waiting' });
    const fresh = target.clientWith({});
    const [peeked] = await fresh.createReceiver(queue).peekMessages(1);
    expect(peeked?.body).toBe('waiting');
    const other = target.clientWith({});
    const [scheduled] = await other
      .createSender(queue)
      .scheduleMessages({ body: 'later' }, new Date(Date.now() + 60_000));
    await other.createSender(queue).cancelScheduledMessages(scheduled!);
    const left = await fresh
      .createReceiver(queue)
      .peekMessages(10, { fromSequenceNumber: peeked!.sequenceNumber! });
    expect(left.map((m) => m.body)).toEqual(['waiting']);
  });

  it('peeks an empty queue as no messages (204)', async () => {
    const receiver = target.client.createReceiver(target.queue('empty'));
    expect(await receiver.peekMessages(10)).toEqual([]);
    expect(await receiver.peekMessages(10, { fromSequenceNumber: Long.fromNumber(1000) })).toEqual(
      [],
    );
  });

  it('schedules messages that join the queue at their time, behind those already waiting, and cancels others', async () => {
    const queue = target.queue('schedule');
    const sender = target.client.createSender(queue);
    const at = new Date(Date.now() + 1200);
    const [keep, cancel] = await sender.scheduleMessages(
      [{ body: 'scheduled' }, { body: 'cancelled' }],
      at,
    );
    expect(keep!.toNumber()).toBeLessThan(cancel!.toNumber());
    const receiver = target.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const peeked = await receiver.peekMessages(5);
    expect(peeked.map((m) => [m.body, m.state, m.sequenceNumber?.toNumber()])).toEqual([
      ['scheduled', 'scheduled', keep!.toNumber()],
      ['cancelled', 'scheduled', cancel!.toNumber()],
    ]);
    await sender.cancelScheduledMessages(cancel!);
    // Sent after scheduling, before the scheduled time.
    await sender.sendMessages({ body: 'waiting' });
    await sleep(Math.max(0, at.getTime() - Date.now()) + 100);
    const got: ServiceBusReceivedMessage[] = [];
    while (got.length < 2) {
      const more = await receiver.receiveMessages(2 - got.length, { maxWaitTimeInMs: 3000 });
      if (more.length === 0) break;
      got.push(...more);
    }
    // "Appended to the queue as if it had been enqueued at the current
    // instant, which includes assigning a new SequenceNumber" (message-sequencing).
    expect(got.map((m) => m.body)).toEqual(['waiting', 'scheduled']);
    const [waiting, delivered] = got.map((m) => m.sequenceNumber!.toNumber());
    expect(waiting).toBeGreaterThan(cancel!.toNumber());
    expect(delivered).toBeGreaterThan(waiting!);
    expect(got[1]!.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(at.getTime() - 1000);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
  });

  it('schedules a message sent with scheduledEnqueueTimeUtc', async () => {
    const queue = target.queue('schedule');
    await target.client
      .createSender(queue)
      .sendMessages({ body: 'later', scheduledEnqueueTimeUtc: new Date(Date.now() + 800) });
    const receiver = target.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    const [later] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(later?.body).toBe('later');
  });

  it('refuses to schedule a message larger than the queue allows, as it refuses to send one', async () => {
    const queue = target.queue('oversized');
    const sender = target.client.createSender(queue);
    const body = Buffer.alloc(400 * 1024, 1);
    const later = new Date(Date.now() + 60_000);
    // Standard tier (and Microsoft's emulator): 256 KiB. The quotas article
    // says only that such messages are rejected; this emulator answers as to a send.
    const scheduling = await errorCode(sender.scheduleMessages({ body }, later));
    expect(await errorCode(sender.sendMessages({ body }))).toBe('MessageSizeExceeded');
    if (onEmulator) expect(scheduling).toBe('MessageSizeExceeded');
    expect(await target.client.createReceiver(queue).peekMessages(10)).toEqual([]);
  });

  it('answers MessageNotFound for a deferred receive of a message that is not deferred', async () => {
    const queue = target.queue('empty');
    const receiver = target.client.createReceiver(queue);
    expect(await errorCode(receiver.receiveDeferredMessages(Long.fromNumber(424242)))).toBe(
      'MessageNotFound',
    );
  });
});
