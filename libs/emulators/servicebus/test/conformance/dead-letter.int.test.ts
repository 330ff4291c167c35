import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  openTarget,
  testTimeout,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

describe('the dead-letter subqueue through the official SDK', { timeout: testTimeout() }, () => {
  let target: ConformanceTarget;

  beforeAll(async () => {
    target = await openTarget('dead-letter');
  }, SETUP_TIMEOUT_MS);
  afterAll(() => target.close(), SETUP_TIMEOUT_MS);

  it('dead-letters a message abandoned MaxDeliveryCount times, with MaxDeliveryCountExceeded', async () => {
    const queue = target.queue('retries');
    await target.client.createSender(queue).sendMessages({ body: 'poison', messageId: 'poison-1' });
    const receiver = target.client.createReceiver(queue);
    for (let attempt = 0; attempt < 2; attempt++) {
      const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(m?.deliveryCount).toBe(attempt);
      await receiver.abandonMessage(m!);
    }
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const dlq = target.client.createReceiver(queue, { subQueueType: 'deadLetter' });
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(dead?.messageId).toBe('poison-1');
    expect(dead?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    // The dead-letter article words it "Message couldn't be consumed after
    // maximum delivery attempts"; the exact text is the service's own.
    expect(dead?.deadLetterErrorDescription).toMatch(/delivery attempts/);
    await dlq.completeMessage(dead!);
  });

  it('dead-letters an expired message when the queue enables it (TTLExpiredException)', async () => {
    const queue = target.queue('expiring');
    await target.client.createSender(queue).sendMessages({ body: 'stale', timeToLive: 300 });
    await sleep(600);
    const receiver = target.client.createReceiver(queue);
    // The service expires messages as receivers reach them; the receive triggers it.
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
    const [dead] = await target.client
      .createReceiver(queue, { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' })
      .receiveMessages(1, { maxWaitTimeInMs: 10_000 });
    expect(dead?.body).toBe('stale');
    expect(dead?.deadLetterReason).toBe('TTLExpiredException');
  });

  it('drops an expired message when the queue does not dead-letter on expiry', async () => {
    const queue = target.queue('vanishing');
    await target.client.createSender(queue).sendMessages({ body: 'gone', timeToLive: 300 });
    await sleep(600);
    const receiver = target.client.createReceiver(queue);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
    const dlq = target.client.createReceiver(queue, { subQueueType: 'deadLetter' });
    expect(await dlq.peekMessages(5)).toEqual([]);
  });

  it('peeks the dead-letter subqueue from a sequence number, then receives and completes from it', async () => {
    const queue = target.queue('dlq');
    await target.client.createSender(queue).sendMessages([0, 1, 2].map((i) => ({ body: i })));
    const receiver = target.client.createReceiver(queue);
    const got = await receiver.receiveMessages(3, { maxWaitTimeInMs: 5000 });
    for (const m of got)
      await receiver.deadLetterMessage(m, {
        deadLetterReason: `r${String(m.body)}`,
        deadLetterErrorDescription: 'd',
      });
    const dlq = target.client.createReceiver(queue, { subQueueType: 'deadLetter' });
    // Numbers as the dead-letter subqueue reports them: whether dead-lettering
    // keeps a message's sequence number is not documented.
    const all = await dlq.peekMessages(10);
    expect(all.map((m) => m.body)).toEqual([0, 1, 2]);
    const peeked = await dlq.peekMessages(10, { fromSequenceNumber: all[1]!.sequenceNumber! });
    expect(peeked.map((m) => [m.body, m.deadLetterReason])).toEqual([
      [1, 'r1'],
      [2, 'r2'],
    ]);
    const dead = await dlq.receiveMessages(3, { maxWaitTimeInMs: 5000 });
    expect(dead.map((m) => m.body)).toEqual([0, 1, 2]);
    for (const m of dead) await dlq.completeMessage(m);
    expect(await dlq.peekMessages(10)).toEqual([]);
    expect(await receiver.peekMessages(10)).toEqual([]);
  });
});
