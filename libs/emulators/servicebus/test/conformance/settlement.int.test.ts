import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  SHORT_LOCK_MS,
  errorCode,
  onEmulator,
  openTarget,
  testTimeout,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

describe('settling messages through the official SDK', { timeout: testTimeout() }, () => {
  let target: ConformanceTarget;

  beforeAll(async () => {
    target = await openTarget('settlement');
  }, SETUP_TIMEOUT_MS);
  afterAll(() => target.close(), SETUP_TIMEOUT_MS);

  async function sendAndReceive(alias: string, body: unknown) {
    const queue = target.queue(alias);
    await target.client.createSender(queue).sendMessages({ body, messageId: `id-${String(body)}` });
    // No automatic lock renewal: the tests decide when a lock is renewed.
    const receiver = target.client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    if (!message) throw new Error(`no message ${String(body)}`);
    return { receiver, message };
  }

  it('redelivers an abandoned message with its delivery count raised', async () => {
    const { receiver, message } = await sendAndReceive('settle', 'abandon-me');
    await receiver.abandonMessage(message);
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(again?.body).toBe('abandon-me');
    expect(again?.deliveryCount).toBe(1);
    expect(again?.sequenceNumber?.toNumber()).toBe(message.sequenceNumber?.toNumber());
    expect(again?.lockToken).not.toBe(message.lockToken);
    await receiver.completeMessage(again!);
  });

  it('sets a deferred message aside until it is received by sequence number', async () => {
    const { receiver, message } = await sendAndReceive('settle', 'defer-me');
    await receiver.deferMessage(message);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const [peeked] = await receiver.peekMessages(1, {
      fromSequenceNumber: message.sequenceNumber!,
    });
    expect(peeked?.state).toBe('deferred');
    const [deferred] = await receiver.receiveDeferredMessages(message.sequenceNumber!);
    expect(deferred?.body).toBe('defer-me');
    expect(deferred?.state).toBe('deferred');
    expect(deferred?.deliveryCount).toBe(1);
    // Settled through $management (a deferred message has no link delivery).
    await receiver.completeMessage(deferred!);
    expect(await errorCode(receiver.receiveDeferredMessages(message.sequenceNumber!))).toBe(
      'MessageNotFound',
    );
  });

  it('returns an abandoned deferred message to the deferred set, counting the delivery', async () => {
    const { receiver, message } = await sendAndReceive('settle', 'defer-abandon');
    await receiver.deferMessage(message);
    const [deferred] = await receiver.receiveDeferredMessages(message.sequenceNumber!);
    await receiver.abandonMessage(deferred!);
    const [again] = await receiver.receiveDeferredMessages(message.sequenceNumber!);
    expect(again?.deliveryCount).toBe(2);
    expect(again?.state).toBe('deferred');
    await receiver.completeMessage(again!);
  });

  it('moves a dead-lettered message to the dead-letter subqueue with its reason and description', async () => {
    const { receiver, message } = await sendAndReceive('settle', 'dead-letter-me');
    await receiver.deadLetterMessage(message, {
      deadLetterReason: 'BadFormat',
      deadLetterErrorDescription: 'The body could not be parsed',
    });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const dlq = target.client.createReceiver(target.queue('settle'), {
      subQueueType: 'deadLetter',
    });
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(dead?.body).toBe('dead-letter-me');
    expect(dead?.deadLetterReason).toBe('BadFormat');
    expect(dead?.deadLetterErrorDescription).toBe('The body could not be parsed');
    // The service's dead-letter article says nothing of the number a
    // dead-lettered message has; this emulator keeps it (see its README).
    if (onEmulator)
      expect(dead?.sequenceNumber?.toNumber()).toBe(message.sequenceNumber?.toNumber());
    await dlq.completeMessage(dead!);
    expect(await dlq.peekMessages(5)).toEqual([]);
  });

  it('applies propertiesToModify on abandon, defer and dead-letter', async () => {
    const abandon = await sendAndReceive('props', 'p-abandon');
    await abandon.receiver.abandonMessage(abandon.message, { reason: 'retry', attempt: 2 });
    const [abandoned] = await abandon.receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(abandoned?.applicationProperties).toMatchObject({ reason: 'retry', attempt: 2 });
    await abandon.receiver.deferMessage(abandoned!, { parked: true });
    const [deferred] = await abandon.receiver.receiveDeferredMessages(abandoned!.sequenceNumber!);
    expect(deferred?.applicationProperties).toMatchObject({
      reason: 'retry',
      attempt: 2,
      parked: true,
    });
    await abandon.receiver.deadLetterMessage(deferred!, {
      deadLetterReason: 'gave up',
      deadLetterErrorDescription: 'too many tries',
      customProperty: 'x',
    });
    const [dead] = await target.client
      .createReceiver(target.queue('props'), {
        subQueueType: 'deadLetter',
        receiveMode: 'receiveAndDelete',
      })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(dead?.deadLetterReason).toBe('gave up');
    expect(dead?.applicationProperties).toMatchObject({ parked: true, customProperty: 'x' });
  });

  it(
    'answers MessageLockLost to a settlement after the lock expired, and redelivers the message',
    { timeout: testTimeout(SHORT_LOCK_MS + 700) },
    async () => {
      const { receiver, message } = await sendAndReceive('short', 'expires');
      await sleep(SHORT_LOCK_MS + 700);
      expect(await errorCode(receiver.completeMessage(message))).toBe('MessageLockLost');
      const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(again?.body).toBe('expires');
      expect(again?.deliveryCount).toBe(1);
      await receiver.completeMessage(again!);
    },
  );

  it(
    'keeps a message locked while its lock is renewed',
    { timeout: testTimeout(SHORT_LOCK_MS + 300) },
    async () => {
      const queue = target.queue('short');
      await target.client.createSender(queue).sendMessages({ body: 'renewed' });
      const receiver = target.client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      const firstUntil = message!.lockedUntilUtc!.getTime();
      await sleep(SHORT_LOCK_MS / 2);
      const renewedUntil = await receiver.renewMessageLock(message!);
      expect(renewedUntil.getTime()).toBeGreaterThan(firstUntil);
      await sleep(SHORT_LOCK_MS / 2 + 300);
      // Past the first expiry, still held: nobody else gets it, and it completes.
      const other = target.client.createReceiver(queue);
      expect(await other.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
      await receiver.completeMessage(message!);
    },
  );

  it('answers MessageLockLost to renewing a lock that is gone', async () => {
    const { receiver, message } = await sendAndReceive('settle', 'renew-gone');
    await receiver.completeMessage(message);
    expect(await errorCode(receiver.renewMessageLock(message))).toBe('MessageLockLost');
  });

  it('settles through $management once the receiving link is closed', async () => {
    const { receiver, message } = await sendAndReceive('settle', 'after-close');
    await receiver.close();
    const other = target.client.createReceiver(target.queue('settle'));
    await other.completeMessage(message);
    expect(await other.peekMessages(10)).toEqual([]);
  });
});
