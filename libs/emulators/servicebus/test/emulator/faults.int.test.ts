import { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../src/index.ts';
import { errorCode } from '../support/conformance-target.ts';

describe('fault injection', () => {
  let emulator: ServiceBusEmulator;
  let client: ServiceBusClient;
  const admin = (route: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${emulator.port}/_emulator/${route}`, init);

  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ queues: { q: {}, s: { requiresSession: true } } });
    client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
    });
  });
  afterAll(async () => {
    await client.close();
    await emulator.stop();
  });

  async function receiveOne(queue = 'q') {
    const receiver = client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    if (!m) throw new Error('nothing received');
    return { receiver, m };
  }

  it('answers ServerBusy to the next send, then lets the one after through', async () => {
    const sender = client.createSender('q');
    emulator.faults.serverBusy({ operations: ['send'], times: 1 });
    expect(await errorCode(sender.sendMessages({ body: 'refused' }))).toBe('ServiceBusy');
    await sender.sendMessages({ body: 'accepted' });
    const { receiver, m } = await receiveOne();
    expect(m.body).toBe('accepted');
    await receiver.completeMessage(m);
    expect(emulator.faults.list()).toEqual([]);
  });

  it('answers ServerBusy to a management request, skipping as many as asked first', async () => {
    const receiver = client.createReceiver('q');
    emulator.faults.serverBusy({ operations: ['management'], skip: 1, times: 1 });
    expect(await receiver.peekMessages(1)).toEqual([]);
    expect(await errorCode(receiver.peekMessages(1))).toBe('ServiceBusy');
    expect(await receiver.peekMessages(1)).toEqual([]);
  });

  it('expires every lock now: settling answers MessageLockLost and the message comes back counted', async () => {
    await client.createSender('q').sendMessages({ body: 'locked' });
    const { receiver, m } = await receiveOne();
    expect(emulator.faults.expireLocks('q')).toBe(1);
    expect(await errorCode(receiver.completeMessage(m))).toBe('MessageLockLost');
    const again = await receiveOne();
    expect([again.m.body, again.m.deliveryCount]).toEqual(['locked', 1]);
    await again.receiver.completeMessage(again.m);
  });

  it('expires session locks too: the session receiver is told SessionLockLost', async () => {
    await client.createSender('s').sendMessages({ body: 'in session', sessionId: 'x' });
    const session = await client.acceptSession('s', 'x', { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await session.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(emulator.faults.expireLocks('s')).toBeGreaterThanOrEqual(1);
    // The receiver learns of it from the detach (as when the service's session lock expires).
    await new Promise((r) => setTimeout(r, 100));
    expect(await errorCode(session.completeMessage(m!))).toBe('SessionLockLost');
    const next = await client.acceptSession('s', 'x');
    const [back] = await next.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect([back?.body, back?.deliveryCount]).toEqual(['in session', 1]);
    await next.completeMessage(back!);
    await next.close();
  });

  it('expires one waiting message of a session as its time to live would, never one a receiver holds', async () => {
    const ttlQueue = 'expiring';
    const stopped = await startServiceBusEmulator({
      queues: { [ttlQueue]: { requiresSession: true, deadLetteringOnMessageExpiration: true } },
    });
    const own = new ServiceBusClient(stopped.connectionString);
    try {
      const sender = own.createSender(ttlQueue);
      for (const id of ['first', 'second', 'third'])
        await sender.sendMessages({ body: id, messageId: id, sessionId: 'p0' });
      const session = await own.acceptSession(ttlQueue, 'p0', {
        maxAutoLockRenewalDurationInMs: 0,
      });
      const [held] = await session.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(held?.messageId).toBe('first');
      expect(stopped.faults.expireMessage(ttlQueue, 'first')).toBe(false);
      expect(stopped.faults.expireMessage(ttlQueue, 'second')).toBe(true);
      expect(stopped.faults.expireMessage(ttlQueue, 'second')).toBe(false);
      expect(stopped.faults.expireMessage(ttlQueue, 'unknown')).toBe(false);
      await session.completeMessage(held!);
      const [next] = await session.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(next?.messageId).toBe('third');
      await session.completeMessage(next!);
      await session.close();
      const [dead] = await own
        .createReceiver(ttlQueue, { subQueueType: 'deadLetter' })
        .peekMessages(5);
      expect([dead?.messageId, dead?.deadLetterReason]).toEqual(['second', 'TTLExpiredException']);
      const overHttp = await fetch(
        `http://127.0.0.1:${stopped.port}/_emulator/faults/expire-message`,
        { method: 'POST', body: JSON.stringify({ entity: ttlQueue }) },
      );
      expect(overHttp.status).toBe(400);
    } finally {
      await own.close();
      await stopped.stop();
    }
  });

  it('holds settlement answers for the given delay', async () => {
    await client.createSender('q').sendMessages({ body: 'slow' });
    const { receiver, m } = await receiveOne();
    emulator.faults.delaySettlements(400, { times: 1 });
    const started = Date.now();
    await receiver.completeMessage(m);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
  });

  it('detaches links with a retryable error; the SDK, retrying as it does by default, sends again', async () => {
    // A send racing the detach is answered after the client has let go of the
    // link, so the SDK only retries it after its operation timeout: keep that short.
    const retrying = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 3, retryDelayInMs: 50, timeoutInMs: 2000 },
    });
    try {
      const sender = retrying.createSender('q');
      await sender.sendMessages({ body: 'before' });
      expect(emulator.faults.detachLinks({ entity: 'q' })).toBeGreaterThanOrEqual(1);
      await sender.sendMessages({ body: 'after' });
      const receiver = retrying.createReceiver('q', { receiveMode: 'receiveAndDelete' });
      const got = await receiver.receiveMessages(2, { maxWaitTimeInMs: 5000 });
      expect(got.map((x) => x.body)).toEqual(['before', 'after']);
    } finally {
      await retrying.close();
    }
  }, 15_000);

  it('drops connections; the SDK reconnects, and a dropped receiver’s locked message returns after its lock', async () => {
    const own = await startServiceBusEmulator({ queues: { short: { lockDurationMs: 500 } } });
    const c = new ServiceBusClient(own.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
    });
    try {
      await c.createSender('short').sendMessages({ body: 'held' });
      const [m] = await c
        .createReceiver('short', { maxAutoLockRenewalDurationInMs: 0 })
        .receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(m?.body).toBe('held');
      expect(own.faults.dropConnections()).toBe(1);
      expect(own.inspectQueue('short')?.counts.locked).toBe(1);
      await new Promise((r) => setTimeout(r, 700));
      const [again] = await c
        .createReceiver('short', { receiveMode: 'receiveAndDelete' })
        .receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect([again?.body, again?.deliveryCount]).toEqual(['held', 1]);
    } finally {
      await c.close();
      await own.stop();
    }
  });

  it('keeps a dropped client’s session locked until the lock expires, then lets another take it over', async () => {
    const own = await startServiceBusEmulator({
      queues: { s: { requiresSession: true, lockDurationMs: 2000 } },
    });
    const crashed = new ServiceBusClient(own.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
    });
    const survivor = new ServiceBusClient(own.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
    });
    try {
      await survivor.createSender('s').sendMessages({ body: 'in flight', sessionId: 'p0' });
      const owner = await crashed.acceptSession('s', 'p0', { maxAutoLockRenewalDurationInMs: 0 });
      const lockedUntil = owner.sessionLockedUntilUtc!.getTime();
      const [m] = await owner.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(m?.body).toBe('in flight');
      expect(own.faults.dropConnections('s')).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 100));
      // The crashed owner never closed its receiver: its session stays locked.
      expect(own.inspectQueue('s')?.counts.receivers).toBe(1);
      expect(await errorCode(survivor.acceptSession('s', 'p0'))).toBe('SessionCannotBeLocked');
      let next;
      while (!next) {
        try {
          next = await survivor.acceptSession('s', 'p0');
        } catch (error) {
          expect((error as { code?: string }).code).toBe('SessionCannotBeLocked');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(Date.now()).toBeGreaterThanOrEqual(lockedUntil - 50);
      const [again] = await next.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect([again?.body, again?.deliveryCount]).toEqual(['in flight', 1]);
      await next.completeMessage(again!);
      await next.close();
    } finally {
      // This client's connection was dropped on purpose; closing it may report that.
      await crashed.close().catch(() => undefined);
      await survivor.close();
      await own.stop();
    }
  });

  it('offers the same faults and the queue counts over the admin route', async () => {
    expect(await (await admin('health')).json()).toEqual({ status: 'ok' });
    const created = await admin('faults', {
      method: 'POST',
      body: JSON.stringify({ kind: 'server-busy', operations: ['send'], times: 1 }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect(
      ((await (await admin('faults')).json()) as { rules: Array<{ id: string }> }).rules.map(
        (r) => r.id,
      ),
    ).toEqual([id]);
    expect(await errorCode(client.createSender('q').sendMessages({ body: 'x' }))).toBe(
      'ServiceBusy',
    );
    const bad = await admin('faults', {
      method: 'POST',
      body: JSON.stringify({ kind: 'meteor-strike' }),
    });
    expect(bad.status).toBe(400);
    await client.createSender('q').sendMessages({ body: 'counted' });
    const { receiver, m } = await receiveOne();
    const view = (await (await admin('queues/q')).json()) as { counts: { locked: number } };
    expect(view.counts.locked).toBe(1);
    const expired = (await (
      await admin('faults/expire-locks', { method: 'POST', body: '{"entity":"q"}' })
    ).json()) as { expired: number };
    expect(expired.expired).toBe(1);
    expect(await errorCode(receiver.completeMessage(m))).toBe('MessageLockLost');
    expect((await admin('faults', { method: 'DELETE' })).status).toBe(204);
    expect((await admin('nothing-here')).status).toBe(404);
    const drained = client.createReceiver('q', { receiveMode: 'receiveAndDelete' });
    expect((await drained.receiveMessages(1, { maxWaitTimeInMs: 5000 }))[0]?.body).toBe('counted');
  });
});
