import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  SHORT_LOCK_MS,
  errorCode,
  openTarget,
  testTimeout,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

describe('sessions through the official SDK', { timeout: testTimeout() }, () => {
  let target: ConformanceTarget;

  beforeAll(async () => {
    target = await openTarget('sessions');
  }, SETUP_TIMEOUT_MS);
  afterAll(() => target.close(), SETUP_TIMEOUT_MS);

  it('delivers a named session’s messages in order, to one receiver at a time', async () => {
    const queue = target.queue('sessions');
    await target.client.createSender(queue).sendMessages([
      { body: 'a1', sessionId: 'alpha' },
      { body: 'b1', sessionId: 'beta' },
      { body: 'a2', sessionId: 'alpha' },
      { body: 'a3', sessionId: 'alpha' },
    ]);
    const receiver = await target.client.acceptSession(queue, 'alpha');
    expect(receiver.sessionId).toBe('alpha');
    expect(receiver.sessionLockedUntilUtc!.getTime()).toBeGreaterThan(Date.now());
    expect(await errorCode(target.client.acceptSession(queue, 'alpha'))).toBe(
      'SessionCannotBeLocked',
    );
    const got = await receiver.receiveMessages(3, { maxWaitTimeInMs: 5000 });
    expect(got.map((m) => m.body)).toEqual(['a1', 'a2', 'a3']);
    expect(got.every((m) => m.sessionId === 'alpha')).toBe(true);
    // Abandoned, a message comes back before the ones after it.
    await receiver.abandonMessage(got[0]!);
    await receiver.completeMessage(got[1]!);
    await receiver.completeMessage(got[2]!);
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect([again?.body, again?.deliveryCount]).toEqual(['a1', 1]);
    await receiver.completeMessage(again!);
    await receiver.close();
    // Closed, the session is free again.
    const reopened = await target.client.acceptSession(queue, 'alpha');
    expect(await reopened.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    await reopened.close();
    const beta = await target.client.acceptSession(queue, 'beta', {
      receiveMode: 'receiveAndDelete',
    });
    expect((await beta.receiveMessages(1, { maxWaitTimeInMs: 5000 }))[0]?.body).toBe('b1');
    await beta.close();
  });

  it('accepts the next available session, skipping locked ones', async () => {
    const queue = target.queue('next');
    await target.client.createSender(queue).sendMessages([
      { body: 1, sessionId: 's1' },
      { body: 2, sessionId: 's2' },
    ]);
    const first = await target.client.acceptNextSession(queue);
    const second = await target.client.acceptNextSession(queue);
    expect([first.sessionId, second.sessionId].sort()).toEqual(['s1', 's2']);
    for (const r of [first, second]) {
      const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(m?.sessionId).toBe(r.sessionId);
      await r.completeMessage(m!);
      await r.close();
    }
  });

  it('waits for a session to become available within the accept timeout', async () => {
    const queue = target.queue('next');
    const accepting = target.client.acceptNextSession(queue);
    await sleep(300);
    await target.client.createSender(queue).sendMessages({ body: 'late', sessionId: 'late' });
    const receiver = await accepting;
    expect(receiver.sessionId).toBe('late');
    await receiver.completeMessage(
      (await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 }))[0]!,
    );
    await receiver.close();
  });

  it('answers ServiceTimeout when no session is free within the accept timeout', async () => {
    const client = target.clientWith({ retryOptions: { maxRetries: 0, timeoutInMs: 1500 } });
    const started = Date.now();
    expect(await errorCode(client.acceptNextSession(target.queue('next')))).toBe('ServiceTimeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('keeps session state for the session and renews the session lock', async () => {
    const queue = target.queue('sessions');
    const receiver = await target.client.acceptSession(queue, 'stateful', {
      maxAutoLockRenewalDurationInMs: 0,
    });
    // No state yet: the SDK's own session tests only require "no value" (null or undefined).
    expect(await receiver.getSessionState()).toBeFalsy();
    await receiver.setSessionState({ step: 3 });
    expect(await receiver.getSessionState()).toEqual({ step: 3 });
    const before = receiver.sessionLockedUntilUtc!.getTime();
    await sleep(50);
    await receiver.renewSessionLock();
    expect(receiver.sessionLockedUntilUtc!.getTime()).toBeGreaterThan(before);
    await receiver.close();
    const again = await target.client.acceptSession(queue, 'stateful');
    expect(await again.getSessionState()).toEqual({ step: 3 });
    await again.setSessionState(null);
    await again.close();
  });

  it(
    'loses an unrenewed session lock, answering SessionLockLost, and returns its messages',
    { timeout: testTimeout(SHORT_LOCK_MS + 700) },
    async () => {
      const queue = target.queue('expiring');
      await target.client.createSender(queue).sendMessages({ body: 'held', sessionId: 'exp' });
      const receiver = await target.client.acceptSession(queue, 'exp', {
        maxAutoLockRenewalDurationInMs: 0,
      });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      await sleep(SHORT_LOCK_MS + 700);
      expect(await errorCode(receiver.completeMessage(message!))).toBe('SessionLockLost');
      const next = await target.client.acceptSession(queue, 'exp');
      const [again] = await next.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect([again?.body, again?.deliveryCount]).toEqual(['held', 1]);
      await next.completeMessage(again!);
      await next.close();
    },
  );

  it('returns a closed session’s unsettled messages without counting a delivery', async () => {
    // message-sessions, "Impact of delivery count": accepted, messages not
    // completed (even if locked), session closed: not incremented.
    const queue = target.queue('sessions');
    await target.client.createSender(queue).sendMessages([
      { body: 'c1', sessionId: 'closing' },
      { body: 'c2', sessionId: 'closing' },
    ]);
    for (let round = 0; round < 2; round++) {
      const receiver = await target.client.acceptSession(queue, 'closing');
      const got = await receiver.receiveMessages(2, { maxWaitTimeInMs: 5000 });
      expect(got.map((m) => [m.body, m.deliveryCount])).toEqual([
        ['c1', 0],
        ['c2', 0],
      ]);
      await receiver.close();
    }
    const last = await target.client.acceptSession(queue, 'closing', {
      receiveMode: 'receiveAndDelete',
    });
    const left = await last.receiveMessages(2, { maxWaitTimeInMs: 5000 });
    expect(left.map((m) => [m.body, m.deliveryCount])).toEqual([
      ['c1', 0],
      ['c2', 0],
    ]);
    await last.close();
  });

  it('streams a session’s messages in order to a subscriber, completing each', async () => {
    const queue = target.queue('sessions');
    await target.client
      .createSender(queue)
      .sendMessages(Array.from({ length: 20 }, (_, i) => ({ body: i, sessionId: 'streamed' })));
    const receiver = await target.client.acceptSession(queue, 'streamed');
    const seen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = receiver.subscribe(
        {
          processMessage: async (m) => {
            seen.push(m.body as number);
            if (seen.length === 20)
              setTimeout(() => subscription.close().then(resolve, reject), 200);
          },
          processError: async (args) => reject(args.error),
        },
        { autoCompleteMessages: true, maxConcurrentCalls: 1 },
      );
    });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await receiver.peekMessages(5)).toEqual([]);
    await receiver.close();
  });

  it('refuses a message without a session id on a session queue', async () => {
    const sender = target.client.createSender(target.queue('sessions'));
    // amqp:not-allowed, which the SDK reports as a GeneralError.
    expect(await errorCode(sender.sendMessages({ body: 'no id' }))).toBe('GeneralError');
  });
});
