import { randomUUID } from 'node:crypto';
import type { MapEntries } from '../amqp/amqp-writer.ts';
import { withAbsoluteExpiryTime, withMessageId } from '../amqp/properties-section.ts';
import { FOREVER_MS } from '../config/queue-properties.ts';
import type { LockToken } from '../amqp/lock-token.ts';
import {
  MESSAGE_STATE,
  encodeDelivery,
  stableAnnotations,
  type ParsedMessage,
} from '../amqp/message-codec.ts';
import { deadlineEntry, type DeadlineEntry } from './deadline-list.ts';

/**
 * Where a message is in its life (Service Bus message states:
 * https://learn.microsoft.com/azure/service-bus-messaging/message-transfers-locks-settlement).
 * A locked message keeps its state (a deferred message received by sequence
 * number is still deferred) and has a {@link MessageLock}.
 */
export type MessageState = 'active' | 'deferred' | 'scheduled';

/** Which subqueue of a queue holds a message. */
export type SubqueueKind = 'main' | 'deadletter';

/** A peek-lock on one message. */
export interface MessageLock extends DeadlineEntry {
  token: LockToken;
  message: StoredMessage;
  /** Lock expiry; for a message of a session, the session's lock expiry. */
  lockedUntilMs: number;
  /** The receiving link (by identity) that holds the lock; `undefined` for `$management`. */
  holder: object | undefined;
}

/** A message held by a queue. */
export interface StoredMessage {
  /**
   * Assigned on acceptance; a scheduled message gets a new one when it
   * becomes active (its scheduling-time number is valid only while it is
   * scheduled).
   */
  sequenceNumber: number;
  /** When the message became active (for a scheduled message: its scheduled time until then). */
  enqueuedTimeMs: number;
  /** When it expires (ms); `Infinity` for never. */
  expiresAtMs: number;
  readonly durable: boolean;
  readonly priority: number;
  /**
   * The time to live the queue applied: the message's own, capped by the
   * queue's `DefaultMessageTimeToLive`, or that default when it set none
   * ({@link FOREVER_MS}: never). Delivered in the header, from which the SDK
   * reports `timeToLive` and `expiresAtUtc` (enqueued time + time to live).
   */
  readonly ttlMs: number;
  readonly messageId: string | undefined;
  readonly sessionId: string | undefined;
  readonly partitionKey: string | undefined;
  /** The sender's own annotations. */
  readonly ownAnnotations: MapEntries;
  /** Own annotations plus the broker's stable ones (sequence number, enqueued time). */
  stable: MapEntries;
  /** The sender's sections from `properties` on (rewritten when properties are modified). */
  rest: Buffer;
  deliveryCount: number;
  state: MessageState;
  subqueue: SubqueueKind;
  lock: MessageLock | undefined;
  /** Set once the message is gone (completed, expired, moved): late references see it. */
  removed: boolean;
  /** Bumped whenever the message enters an available queue (stale heap entries are skipped). */
  availableEpoch: number;
  /** Timer entry for the scheduled enqueue time or expiry, when one is pending. */
  readonly timer: MessageTimer;
}

/** A message's pending deadline: becoming active (scheduled) or expiring. */
export interface MessageTimer extends DeadlineEntry {
  readonly message: StoredMessage;
  purpose: 'activate' | 'expire';
}

/** A new stored message from what a client sent (`parsed.ttlMs`: the time to live applied). */
export function storedMessage(
  parsed: ParsedMessage,
  sequenceNumber: number,
  enqueuedTimeMs: number,
  expiresAtMs: number,
  state: MessageState,
): StoredMessage {
  const message: Omit<StoredMessage, 'timer'> & { timer?: MessageTimer } = {
    sequenceNumber,
    enqueuedTimeMs,
    expiresAtMs,
    durable: parsed.durable,
    priority: parsed.priority,
    ttlMs: parsed.ttlMs ?? FOREVER_MS,
    messageId: parsed.messageId,
    sessionId: parsed.sessionId,
    partitionKey: parsed.partitionKey,
    ownAnnotations: parsed.annotations,
    stable: stableAnnotations(parsed.annotations, sequenceNumber, enqueuedTimeMs),
    rest: parsed.rest,
    deliveryCount: 0,
    state,
    subqueue: 'main',
    lock: undefined,
    removed: false,
    availableEpoch: 0,
  };
  message.timer = { ...deadlineEntry(), message: message as StoredMessage, purpose: 'expire' };
  return message as StoredMessage;
}

/**
 * A message accepted from a sender: the broker gives it a message id when it
 * has none, and works out when it becomes active (its scheduled enqueue time,
 * if in the future) and when it expires. Its time to live is the queue's
 * default when it sets none, and a longer one is "silently adjusted to the
 * defaultMessageTimeToLive value before being enqueued"; ExpiresAtUtc is
 * EnqueuedTimeUtc + TimeToLive
 * (https://learn.microsoft.com/azure/service-bus-messaging/message-expiration);
 * "never" from `TimeSpan.MaxValue` on.
 */
export function newMessage(
  given: ParsedMessage,
  sequenceNumber: number,
  nowMs: number,
  defaultTtlMs: number,
): StoredMessage {
  let parsed = given;
  if (parsed.messageId === undefined) {
    const messageId = randomUUID().replaceAll('-', '');
    parsed = { ...parsed, messageId, rest: withMessageId(parsed.rest, messageId) };
  }
  const scheduledAt = parsed.scheduledEnqueueTimeMs;
  const scheduled = scheduledAt !== undefined && scheduledAt > nowMs;
  const activeFrom = scheduled ? scheduledAt : nowMs;
  const ttl = effectiveTtlMs(parsed.ttlMs, defaultTtlMs);
  const expiresAt = ttl >= FOREVER_MS ? Infinity : activeFrom + ttl;
  return storedMessage(
    { ...parsed, ttlMs: ttl, rest: stampExpiry(parsed.rest, expiresAt) },
    sequenceNumber,
    activeFrom,
    expiresAt,
    scheduled ? 'scheduled' : 'active',
  );
}

/** `rest` saying when the message expires (`absolute-expiry-time`), unless it never does. */
export function stampExpiry(rest: Buffer, expiresAtMs: number): Buffer {
  return expiresAtMs === Infinity ? rest : withAbsoluteExpiryTime(rest, expiresAtMs);
}

/** The time to live a queue applies to a message that asked for `ttlMs` (`undefined`: none). */
export function effectiveTtlMs(ttlMs: number | undefined, defaultTtlMs: number): number {
  return Math.min(ttlMs ?? FOREVER_MS, defaultTtlMs, FOREVER_MS);
}

/**
 * Appends a scheduled message to the queue "as if it had been enqueued at
 * the current instant, which includes assigning a new SequenceNumber"
 * (https://learn.microsoft.com/azure/service-bus-messaging/message-sequencing#scheduled-messages):
 * new sequence number and enqueued time, and an expiry counted from then.
 */
export function activateScheduled(
  message: StoredMessage,
  sequenceNumber: number,
  enqueuedTimeMs: number,
): void {
  message.sequenceNumber = sequenceNumber;
  message.enqueuedTimeMs = enqueuedTimeMs;
  message.expiresAtMs = message.ttlMs >= FOREVER_MS ? Infinity : enqueuedTimeMs + message.ttlMs;
  message.rest = stampExpiry(message.rest, message.expiresAtMs);
  message.state = 'active';
  message.stable = stableAnnotations(message.ownAnnotations, sequenceNumber, enqueuedTimeMs);
}

/** The message encoded as the service delivers (or returns from a peek) it. */
export function encodeStoredMessage(message: StoredMessage, lockedUntilMs?: number): Buffer {
  return encodeDelivery(message.stable, message.rest, {
    durable: message.durable,
    priority: message.priority,
    // No header ttl means "never expires" to the SDK (its expiresAtUtc is then
    // TimeSpan.MaxValue); past AMQP's uint milliseconds (49.7 days) the
    // header carries that maximum.
    ttlMs: message.ttlMs >= FOREVER_MS ? undefined : message.ttlMs,
    deliveryCount: message.deliveryCount,
    lockedUntilMs,
    state: MESSAGE_STATE[message.state],
  });
}
