import rhea from 'rhea';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseMessage } from '../../src/amqp/message-codec.ts';
import type { JournalRecord } from '../../src/broker/journal-port.ts';
import { QueueEntity } from '../../src/broker/queue-entity.ts';
import { encodeStoredMessage, type StoredMessage } from '../../src/broker/stored-message.ts';
import { resolveQueueProperties, type QueueProperties } from '../../src/config/queue-properties.ts';
import { isEmulatorError } from '../../src/emulator-error.ts';

const HOLDER = {};

function queueWith(properties: Partial<QueueProperties> = {}) {
  const records: JournalRecord[] = [];
  const queue = new QueueEntity('q', resolveQueueProperties('test', properties), {
    append: (r) => records.push(r),
    barrier: () => Promise.resolve(),
  });
  const send = (fields: Record<string, unknown> = {}): StoredMessage => {
    const message = queue.accept(parseMessage(rhea.message.encode({ body: 'x', ...fields })));
    if (!message) throw new Error('dropped as a duplicate');
    queue.admit(message);
    return message;
  };
  const receive = () => {
    const message = queue.take(queue.main);
    return message ? queue.lock(message, HOLDER) : undefined;
  };
  return { queue, records, send, receive };
}

function conditionOf(action: () => void): string | undefined {
  try {
    action();
  } catch (error) {
    return isEmulatorError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('a queue', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('assigns increasing sequence numbers and delivers lowest first, an abandoned message back in its place', () => {
    const { send, receive, queue } = queueWith();
    const [a, b] = [send(), send()];
    expect(b.sequenceNumber).toBe(a.sequenceNumber + 1);
    const first = receive()!;
    const second = receive()!;
    queue.abandon(first, undefined);
    expect(receive()!.message).toBe(a);
    expect(second.message).toBe(b);
  });

  it('counts deliveries: 0 first, +1 for abandon, defer and an expired lock, none for complete', () => {
    const { send, receive, queue } = queueWith({ lockDurationMs: 1000 });
    const m = send();
    queue.abandon(receive()!, undefined);
    expect(m.deliveryCount).toBe(1);
    receive();
    vi.advanceTimersByTime(1001);
    expect(m.deliveryCount).toBe(2);
    expect(m.lock).toBeUndefined();
    queue.defer(receive()!, undefined);
    expect([m.deliveryCount, m.state]).toEqual([3, 'deferred']);
    const [deferred] = queue.deferredMessages([m.sequenceNumber], undefined);
    queue.complete(queue.lock(deferred!, HOLDER));
    expect(m.removed).toBe(true);
  });

  it('dead-letters a message that reaches MaxDeliveryCount, with the service reason', () => {
    const { send, receive, queue } = queueWith({ maxDeliveryCount: 2 });
    const m = send();
    queue.abandon(receive()!, undefined);
    expect(m.subqueue).toBe('main');
    queue.abandon(receive()!, undefined);
    expect(m.subqueue).toBe('deadletter');
    const props = rhea.message.decode(encodeStoredMessage(m)).application_properties;
    expect(props).toMatchObject({
      DeadLetterReason: 'MaxDeliveryCountExceeded',
      DeadLetterErrorDescription: 'Message could not be consumed after 2 delivery attempts.',
    });
    expect(queue.take(queue.deadLetter)).toBe(m);
  });

  it('answers message-lock-lost to settling with a lock that expired, was settled, or was replaced', () => {
    const { send, receive, queue } = queueWith({ lockDurationMs: 1000 });
    send();
    const expired = receive()!;
    vi.advanceTimersByTime(1500);
    expect(conditionOf(() => queue.complete(expired))).toBe('com.microsoft:message-lock-lost');
    const current = receive()!;
    queue.complete(current);
    expect(conditionOf(() => queue.abandon(current, undefined))).toBe(
      'com.microsoft:message-lock-lost',
    );
    expect(conditionOf(() => queue.renewLock(current))).toBe('com.microsoft:message-lock-lost');
  });

  it('treats a lock as expired at its time even before its timer has run', () => {
    const { send, receive, queue } = queueWith({ lockDurationMs: 1000 });
    const m = send();
    const lock = receive()!;
    vi.setSystemTime(Date.now() + 1000);
    expect(conditionOf(() => queue.complete(lock))).toBe('com.microsoft:message-lock-lost');
    expect(m.deliveryCount).toBe(1);
    expect(m.removed).toBe(false);
  });

  it('renews a lock by the lock duration', () => {
    const { send, receive, queue } = queueWith({ lockDurationMs: 1000 });
    send();
    const lock = receive()!;
    vi.advanceTimersByTime(800);
    expect(queue.renewLock(lock)).toBe(Date.now() + 1000);
    vi.advanceTimersByTime(800);
    queue.complete(lock);
  });

  it('expires a message past its time to live, or dead-letters it when the queue says so', () => {
    const plain = queueWith({ defaultMessageTimeToLiveMs: 1000 });
    const gone = plain.send();
    vi.advanceTimersByTime(1001);
    expect(gone.removed).toBe(true);
    expect(plain.queue.take(plain.queue.main)).toBeUndefined();

    const dlq = queueWith({ deadLetteringOnMessageExpiration: true });
    const expiring = dlq.send({ ttl: 500 });
    vi.advanceTimersByTime(501);
    expect(expiring.subqueue).toBe('deadletter');
    expect(rhea.message.decode(encodeStoredMessage(expiring)).application_properties).toMatchObject(
      {
        DeadLetterReason: 'TTLExpiredException',
      },
    );
  });

  it('delivers the time to live it applies: the queue default for none, capped at the default, counted from activation', () => {
    const hour = 3_600_000;
    const { send } = queueWith({ defaultMessageTimeToLiveMs: hour });
    const delivered = (m: StoredMessage) => rhea.message.decode(encodeStoredMessage(m));
    const cases = [
      { sent: {}, applied: hour },
      { sent: { ttl: 2 * hour, creation_time: new Date() }, applied: hour },
      { sent: { ttl: 60_000 }, applied: 60_000 },
    ];
    for (const { sent, applied } of cases) {
      const m = send({ ...sent, absolute_expiry_time: new Date(Date.now() + 9 * hour) });
      expect(m.expiresAtMs).toBe(m.enqueuedTimeMs + applied);
      const message = delivered(m);
      expect(message.ttl).toBe(applied);
      expect(message.absolute_expiry_time?.getTime()).toBe(m.expiresAtMs);
    }
    const unlimited = queueWith().send();
    expect(delivered(unlimited).ttl).toBeUndefined();
    const at = Date.now() + 5000;
    const scheduled = send({
      ttl: 60_000,
      message_annotations: { 'x-opt-scheduled-enqueue-time': new Date(at) },
    });
    vi.advanceTimersByTime(5000);
    expect(delivered(scheduled).absolute_expiry_time?.getTime()).toBe(at + 60_000);
  });

  it('lets a locked message expire only when its lock ends', () => {
    const { send, receive, queue } = queueWith({
      defaultMessageTimeToLiveMs: 1000,
      lockDurationMs: 5000,
    });
    const m = send();
    const lock = receive()!;
    vi.advanceTimersByTime(2000);
    expect(m.removed).toBe(false);
    queue.abandon(lock, undefined);
    expect(m.removed).toBe(true);
  });

  it('makes a scheduled message active at its time under a new sequence number, behind those already waiting', () => {
    const { send, queue, records } = queueWith();
    const at = Date.now() + 5000;
    const m = send({ message_annotations: { 'x-opt-scheduled-enqueue-time': new Date(at) } });
    const scheduledAs = m.sequenceNumber;
    expect(m.state).toBe('scheduled');
    const waiting = send();
    expect(queue.take(queue.main)).toBe(waiting);
    vi.advanceTimersByTime(5000);
    expect(m.state).toBe('active');
    expect(m.enqueuedTimeMs).toBe(at);
    expect(m.sequenceNumber).toBe(waiting.sequenceNumber + 1);
    expect(queue.main.messages.get(m.sequenceNumber)).toBe(m);
    expect(records.at(-1)).toMatchObject({
      kind: 'activate',
      scheduledSequenceNumber: scheduledAs,
      sequenceNumber: m.sequenceNumber,
    });
    // The scheduling-time number is valid only while the message is scheduled.
    expect(conditionOf(() => queue.cancelScheduled(scheduledAs))).toBe(
      'com.microsoft:message-not-found',
    );
    expect(queue.take(queue.main)).toBe(m);
  });

  it('cancels a scheduled message, and refuses to cancel one that is not scheduled', () => {
    const { send, queue } = queueWith();
    const scheduled = send({
      message_annotations: { 'x-opt-scheduled-enqueue-time': new Date(Date.now() + 9000) },
    });
    const active = send();
    queue.cancelScheduled(scheduled.sequenceNumber);
    expect(scheduled.removed).toBe(true);
    expect(conditionOf(() => queue.cancelScheduled(active.sequenceNumber))).toBe(
      'com.microsoft:message-not-found',
    );
  });

  it('drops a message whose id was seen within the duplicate-detection window, not after', () => {
    const { queue } = queueWith({
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindowMs: 1000,
    });
    const encoded = parseMessage(rhea.message.encode({ message_id: 'same', body: 1 }));
    expect(queue.accept(encoded)).toBeDefined();
    expect(queue.accept(encoded)).toBeUndefined();
    vi.advanceTimersByTime(1001);
    expect(queue.accept(encoded)).toBeDefined();
  });

  it('refuses a message without a session id on a session queue', () => {
    const { queue } = queueWith({ requiresSession: true });
    expect(conditionOf(() => queue.accept(parseMessage(rhea.message.encode({ body: 1 }))))).toBe(
      'amqp:not-allowed',
    );
  });

  it('journals every change it makes', () => {
    const { send, receive, queue, records } = queueWith({ maxDeliveryCount: 1 });
    const m = send();
    queue.abandon(receive()!, undefined);
    const sent = send();
    queue.complete(receive()!);
    expect(records.map((r) => r.kind)).toEqual(['enqueue', 'dead-letter', 'enqueue', 'remove']);
    expect(m.subqueue).toBe('deadletter');
    expect(sent.removed).toBe(true);
  });
});

describe('sessions of a queue', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  function holder() {
    return { notify: vi.fn(), sessionLost: vi.fn() };
  }

  it('gives one holder a session at a time and its messages in order', () => {
    const { send, queue } = queueWith({ requiresSession: true });
    send({ group_id: 'a', body: 1 });
    send({ group_id: 'a', body: 2 });
    const sessions = queue.sessions!;
    const first = holder();
    const session = sessions.accept('a', first);
    expect(conditionOf(() => sessions.accept('a', holder()))).toBe(
      'com.microsoft:session-cannot-be-locked',
    );
    const one = sessions.take(session)!;
    const two = sessions.take(session)!;
    expect([one.sequenceNumber, two.sequenceNumber]).toEqual([1, 2]);
  });

  it('hands the next free session to a waiter as soon as one has messages, and times out otherwise', () => {
    const { send, queue } = queueWith({ requiresSession: true });
    const sessions = queue.sessions!;
    const granted: Array<string | undefined> = [];
    sessions.acceptNext(holder(), 1000, (s) => granted.push(s?.id));
    send({ group_id: 'late' });
    expect(granted).toEqual(['late']);
    sessions.acceptNext(holder(), 1000, (s) => granted.push(s?.id));
    vi.advanceTimersByTime(1001);
    expect(granted).toEqual(['late', undefined]);
  });

  it('returns a lost session lock’s messages with one more delivery and tells the holder', () => {
    const { send, queue } = queueWith({ requiresSession: true, lockDurationMs: 1000 });
    const m = send({ group_id: 's' });
    const h = holder();
    const session = queue.sessions!.accept('s', h);
    const lock = queue.lock(queue.sessions!.take(session)!, h);
    vi.advanceTimersByTime(1001);
    expect(h.sessionLost).toHaveBeenCalledTimes(1);
    expect(m.deliveryCount).toBe(1);
    expect(conditionOf(() => queue.complete(lock))).toBe('com.microsoft:message-lock-lost');
    const next = holder();
    expect(queue.sessions!.take(queue.sessions!.accept('s', next))).toBe(m);
  });

  it('keeps session state for the lock holder only', () => {
    const { queue } = queueWith({ requiresSession: true });
    const h = holder();
    queue.sessions!.accept('st', h);
    queue.sessions!.setState('st', Buffer.from('state'), h);
    expect(queue.sessions!.getState('st', h)?.toString()).toBe('state');
    expect(conditionOf(() => queue.sessions!.getState('st', holder()))).toBe(
      'com.microsoft:session-lock-lost',
    );
  });
});
