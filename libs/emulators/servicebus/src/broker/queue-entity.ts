import { randomUUID } from 'node:crypto';
import { withApplicationProperties, type PropertyValue } from '../amqp/application-properties.ts';
import { newLockToken } from '../amqp/lock-token.ts';
import type { ParsedMessage } from '../amqp/message-codec.ts';
import { withMessageId } from '../amqp/properties-section.ts';
import { FOREVER_MS, type QueueProperties } from '../config/queue-properties.ts';
import { EmulatorError, errors } from '../emulator-error.ts';
import { DeadlineList } from './deadline-list.ts';
import { DuplicateDetector } from './duplicate-detector.ts';
import type { Journal, MessageImage } from './journal-port.ts';
import { SessionCoordinator } from './session-coordinator.ts';
import {
  setEnqueuedTime,
  storedMessage,
  type MessageLock,
  type MessageTimer,
  type StoredMessage,
} from './stored-message.ts';
import { Subqueue, type MessageConsumer } from './subqueue.ts';

/** Properties a client may change when it settles (`propertiesToModify`). */
export type PropertiesToModify = Readonly<Record<string, PropertyValue | undefined>>;

/** The dead-letter subqueue's address suffix. */
export const DEAD_LETTER_SUFFIX = '/$DeadLetterQueue';

/** Counts of what a queue holds, for tests and the admin route. */
export interface QueueCounts {
  active: number;
  locked: number;
  deferred: number;
  scheduled: number;
  deadLetter: number;
  sessions: number;
}

/**
 * One queue: its messages, peek-locks, sessions, scheduled and deferred
 * messages and dead-letter subqueue, with the service's rules for each
 * (https://learn.microsoft.com/azure/service-bus-messaging/message-transfers-locks-settlement,
 * …/service-bus-dead-letter-queues, …/message-deferral, …/message-expiration).
 *
 * Every change is appended to the journal as it is made; callers answer the
 * client only after `journal.barrier()`.
 */
export class QueueEntity {
  readonly name: string;
  readonly properties: QueueProperties;
  readonly main: Subqueue;
  readonly deadLetter: Subqueue;
  /** Session handling; present when the queue requires sessions. */
  readonly sessions: SessionCoordinator | undefined;
  private nextSequence = 1;
  private readonly locks = new Map<string, MessageLock>();
  private readonly lockTimers = new DeadlineList<MessageLock>((lock) => this.lockExpired(lock));
  private readonly messageTimers = new DeadlineList<MessageTimer>((t) => this.timerDue(t));
  private readonly duplicates: DuplicateDetector | undefined;
  readonly journal: Journal;
  private readonly pending = new Set<MessageConsumer>();
  private flushScheduled = false;

  constructor(name: string, properties: QueueProperties, journal: Journal) {
    this.name = name;
    this.properties = properties;
    this.journal = journal;
    this.main = new Subqueue('main', name);
    this.deadLetter = new Subqueue('deadletter', `${name}${DEAD_LETTER_SUFFIX}`);
    this.sessions = properties.requiresSession ? new SessionCoordinator(this) : undefined;
    this.duplicates = properties.requiresDuplicateDetection
      ? new DuplicateDetector(properties.duplicateDetectionHistoryTimeWindowMs)
      : undefined;
  }

  /** The next sequence number the queue will assign. */
  get sequenceCounter(): number {
    return this.nextSequence;
  }

  /**
   * Accepts a sent message: checks it, assigns its sequence number and
   * journals it. Returns `undefined` for a duplicate (acknowledged and
   * dropped). The message is not visible until {@link admit}.
   */
  accept(given: ParsedMessage, nowMs = Date.now()): StoredMessage | undefined {
    if (this.sessions && given.sessionId === undefined) throw errors.sessionIdRequired(this.name);
    if (this.duplicates && given.messageId !== undefined) {
      if (this.duplicates.checkAndRecord(given.messageId, nowMs)) return undefined;
    }
    let parsed = given;
    if (parsed.messageId === undefined) {
      const messageId = randomUUID().replaceAll('-', '');
      parsed = { ...parsed, messageId, rest: withMessageId(parsed.rest, messageId) };
    }
    const scheduledAt = parsed.scheduledEnqueueTimeMs;
    const scheduled = scheduledAt !== undefined && scheduledAt > nowMs;
    const activeFrom = scheduled ? scheduledAt : nowMs;
    const ttl = Math.min(parsed.ttlMs ?? FOREVER_MS, this.properties.defaultMessageTimeToLiveMs);
    const expiresAt = ttl >= FOREVER_MS ? Infinity : activeFrom + ttl;
    const message = storedMessage(
      parsed,
      this.nextSequence++,
      activeFrom,
      expiresAt,
      scheduled ? 'scheduled' : 'active',
    );
    this.journal.append({ kind: 'enqueue', queue: this.name, message: imageOf(message) });
    return message;
  }

  /** Makes an accepted message visible (after its journal record is durable). */
  admit(message: StoredMessage): void {
    this.main.messages.set(message.sequenceNumber, message);
    if (this.sessions) this.sessions.countMessage(message, +1);
    if (message.state === 'scheduled') {
      message.timer.purpose = 'activate';
      this.messageTimers.schedule(message.timer, message.enqueuedTimeMs);
      return;
    }
    this.scheduleExpiry(message);
    this.makeAvailable(message);
  }

  /** Restores a message from the journal (no journal record, no notification). */
  restore(image: MessageImage): StoredMessage {
    const message = storedMessage(
      {
        durable: image.durable,
        priority: image.priority,
        ttlMs: image.ttlMs,
        messageId: image.messageId,
        sessionId: image.sessionId,
        partitionKey: image.partitionKey,
        scheduledEnqueueTimeMs: undefined,
        annotations: { bytes: image.annotations, count: image.annotationCount },
        rest: image.rest,
      },
      image.sequenceNumber,
      image.enqueuedTimeMs,
      image.expiresAtMs,
      image.state,
    );
    message.deliveryCount = image.deliveryCount;
    this.nextSequence = Math.max(this.nextSequence, image.sequenceNumber + 1);
    if (image.subqueue === 'deadletter') {
      message.subqueue = 'deadletter';
      this.deadLetter.messages.set(message.sequenceNumber, message);
      this.deadLetter.available.add(message);
      return message;
    }
    if (this.duplicates && message.messageId !== undefined)
      this.duplicates.restore(message.messageId, message.enqueuedTimeMs);
    this.admit(message);
    return message;
  }

  /** Restores the sequence counter and duplicate history from a snapshot. */
  restoreCounters(
    next: number | undefined,
    duplicate?: { messageId: string; seenAtMs: number },
  ): void {
    if (next !== undefined) this.nextSequence = Math.max(this.nextSequence, next);
    if (duplicate && this.duplicates)
      this.duplicates.restore(duplicate.messageId, duplicate.seenAtMs);
  }

  /** Duplicate-detection history (for a snapshot). */
  duplicateHistory(nowMs = Date.now()): Array<[string, number]> {
    return this.duplicates?.entries(nowMs) ?? [];
  }

  /** Registers a non-session receiver of a subqueue. */
  attach(subqueue: Subqueue, consumer: MessageConsumer): void {
    subqueue.consumers.add(consumer);
    if (subqueue.available.length > 0) this.wake(consumer);
  }

  detach(subqueue: Subqueue, consumer: MessageConsumer): void {
    subqueue.consumers.delete(consumer);
    this.pending.delete(consumer);
  }

  /**
   * The next message to deliver from `subqueue` (non-session), expiring
   * those whose time has passed on the way.
   */
  take(subqueue: Subqueue, nowMs = Date.now()): StoredMessage | undefined {
    for (;;) {
      const message = subqueue.available.take();
      if (!message) return undefined;
      if (message.subqueue === 'main' && message.expiresAtMs <= nowMs) {
        this.expire(message);
        continue;
      }
      return message;
    }
  }

  /** Locks `message` for `holder` (peek-lock). Session messages take the session's lock time. */
  lock(message: StoredMessage, holder: object | undefined, nowMs = Date.now()): MessageLock {
    const sessionUntil = this.sessions?.lockedUntil(message);
    const lock: MessageLock = {
      dueAtMs: 0,
      prev: undefined,
      next: undefined,
      list: undefined,
      token: newLockToken(),
      message,
      lockedUntilMs: sessionUntil ?? nowMs + this.properties.lockDurationMs,
      holder,
    };
    message.lock = lock;
    this.locks.set(lock.token.text, lock);
    if (sessionUntil === undefined) this.lockTimers.schedule(lock, lock.lockedUntilMs);
    else this.sessions?.trackLock(lock);
    return lock;
  }

  /** The lock with this token, when it is still held. */
  findLock(tokenText: string): MessageLock | undefined {
    return this.locks.get(tokenText);
  }

  /** Deletes a message delivered in receive-and-delete mode (or received so by sequence number). */
  deleteOnReceive(message: StoredMessage): void {
    this.remove(message);
  }

  /** Throws the service's error when `lock` can no longer settle its message. */
  checkLock(lock: MessageLock, nowMs = Date.now()): void {
    const message = lock.message;
    if (message.removed || message.lock !== lock) throw errors.messageLockLost(this.name);
    if (this.sessions && message.subqueue === 'main' && message.sessionId !== undefined) {
      this.sessions.checkHeld(message.sessionId, lock, nowMs);
      return;
    }
    if (lock.lockedUntilMs <= nowMs) {
      this.lockExpired(lock);
      throw errors.messageLockLost(this.name);
    }
  }

  /** Extends a message lock by the lock duration; returns the new expiry. */
  renewLock(lock: MessageLock, nowMs = Date.now()): number {
    this.checkLock(lock, nowMs);
    if (this.sessions && lock.message.subqueue === 'main')
      throw new EmulatorError(
        'amqp:not-allowed',
        `The lock of a message in a session cannot be renewed; renew the session lock instead.`,
      );
    lock.lockedUntilMs = nowMs + this.properties.lockDurationMs;
    this.lockTimers.schedule(lock, lock.lockedUntilMs);
    return lock.lockedUntilMs;
  }

  /** Complete: the message is done with. */
  complete(lock: MessageLock): void {
    this.checkLock(lock);
    this.unlock(lock);
    this.remove(lock.message);
  }

  /** Abandon: back to the queue (or to deferred) with one more delivery counted. */
  abandon(lock: MessageLock, properties: PropertiesToModify | undefined): void {
    this.checkLock(lock);
    this.unlock(lock);
    this.modify(lock.message, properties);
    this.redeliverLater(lock.message);
  }

  /** Defer: set aside until received by sequence number. */
  defer(lock: MessageLock, properties: PropertiesToModify | undefined): void {
    this.checkLock(lock);
    const message = lock.message;
    if (message.subqueue === 'deadletter')
      throw new EmulatorError('amqp:not-allowed', 'A dead-lettered message cannot be deferred.');
    this.unlock(lock);
    this.modify(message, properties);
    message.deliveryCount++;
    message.state = 'deferred';
    this.journalUpdate(message, undefined);
  }

  /** Dead-letter: move to `<queue>/$DeadLetterQueue` with the reason and description. */
  deadLetterLocked(
    lock: MessageLock,
    reason: string | undefined,
    description: string | undefined,
    properties: PropertiesToModify | undefined,
  ): void {
    this.checkLock(lock);
    if (lock.message.subqueue === 'deadletter')
      throw new EmulatorError(
        'amqp:not-allowed',
        'A message in the dead-letter subqueue cannot be dead-lettered again.',
      );
    this.unlock(lock);
    this.moveToDeadLetter(lock.message, reason, description, properties);
  }

  /**
   * A lock ended without settlement (expired, its session lost, …): one more
   * delivery counted, and the message returns (or is dead-lettered when it
   * has used up `maxDeliveryCount`).
   */
  releaseLock(lock: MessageLock): void {
    if (lock.message.lock !== lock || lock.message.removed) return;
    this.unlock(lock);
    this.redeliverLater(lock.message);
  }

  /** Every current message lock (for the "expire every lock now" fault). */
  allLocks(): MessageLock[] {
    return [...this.locks.values()];
  }

  /** Schedules `message` (sent through `$management`). Same as {@link accept} + {@link admit}. */
  cancelScheduled(sequenceNumber: number): void {
    const message = this.main.messages.get(sequenceNumber);
    if (!message || message.state !== 'scheduled')
      throw errors.scheduledMessageNotFound(this.name, sequenceNumber);
    this.remove(message);
  }

  /** Deferred messages by sequence number (all must exist, else `MessageNotFound`). */
  deferredMessages(
    sequenceNumbers: readonly number[],
    sessionId: string | undefined,
  ): StoredMessage[] {
    const found: StoredMessage[] = [];
    const missing: number[] = [];
    for (const seq of sequenceNumbers) {
      const message = this.main.messages.get(seq);
      if (
        !message ||
        message.state !== 'deferred' ||
        message.lock ||
        (sessionId !== undefined && message.sessionId !== sessionId)
      )
        missing.push(seq);
      else found.push(message);
    }
    if (missing.length > 0) throw errors.deferredMessageNotFound(this.name, missing);
    return found;
  }

  /** What the queue holds. */
  counts(): QueueCounts {
    let active = 0;
    let locked = 0;
    let deferred = 0;
    let scheduled = 0;
    for (const message of this.main.messages.values()) {
      if (message.lock) locked++;
      else if (message.state === 'deferred') deferred++;
      else if (message.state === 'scheduled') scheduled++;
      else active++;
    }
    return {
      active,
      locked,
      deferred,
      scheduled,
      deadLetter: this.deadLetter.messages.size,
      sessions: this.sessions?.count() ?? 0,
    };
  }

  /** Stops every timer (the emulator is stopping). */
  close(): void {
    this.lockTimers.close();
    this.messageTimers.close();
    this.sessions?.close();
  }

  /** Makes a message ready for delivery (or expires it when its time has passed). */
  makeAvailable(message: StoredMessage, nowMs = Date.now()): void {
    if (message.removed) return;
    if (message.subqueue === 'main' && message.expiresAtMs <= nowMs) {
      this.expire(message);
      return;
    }
    if (message.subqueue === 'deadletter') {
      this.deadLetter.available.add(message);
      this.wakeAll(this.deadLetter);
    } else if (this.sessions && message.sessionId !== undefined) {
      this.sessions.makeAvailable(message);
    } else {
      this.main.available.add(message);
      this.wakeAll(this.main);
    }
  }

  /** Asks `consumer` to take messages, once, after the current operation. */
  wake(consumer: MessageConsumer): void {
    this.pending.add(consumer);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      const consumers = [...this.pending];
      this.pending.clear();
      for (const c of consumers) c.notify();
    });
  }

  private wakeAll(subqueue: Subqueue): void {
    for (const consumer of subqueue.consumers) this.wake(consumer);
  }

  private unlock(lock: MessageLock): void {
    this.lockTimers.remove(lock);
    this.sessions?.untrackLock(lock);
    this.locks.delete(lock.token.text);
    if (lock.message.lock === lock) lock.message.lock = undefined;
  }

  private lockExpired(lock: MessageLock): void {
    this.releaseLock(lock);
  }

  private redeliverLater(message: StoredMessage): void {
    message.deliveryCount++;
    if (message.subqueue === 'main' && message.deliveryCount >= this.properties.maxDeliveryCount) {
      this.moveToDeadLetter(
        message,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${this.properties.maxDeliveryCount} delivery attempts.`,
        undefined,
      );
      return;
    }
    this.journalUpdate(message, undefined);
    if (message.state === 'deferred') return;
    this.makeAvailable(message);
  }

  private modify(message: StoredMessage, properties: PropertiesToModify | undefined): void {
    if (!properties || Object.keys(properties).length === 0) return;
    message.rest = withApplicationProperties(message.rest, properties);
    this.journalUpdate(message, message.rest);
  }

  private journalUpdate(message: StoredMessage, rest: Buffer | undefined): void {
    this.journal.append({
      kind: 'update',
      queue: this.name,
      subqueue: message.subqueue,
      sequenceNumber: message.sequenceNumber,
      deliveryCount: message.deliveryCount,
      state: message.state,
      enqueuedTimeMs: message.enqueuedTimeMs,
      rest,
    });
  }

  private scheduleExpiry(message: StoredMessage): void {
    if (message.expiresAtMs === Infinity) return;
    message.timer.purpose = 'expire';
    this.messageTimers.schedule(message.timer, message.expiresAtMs);
  }

  private timerDue(timer: MessageTimer): void {
    const message = timer.message;
    if (message.removed) return;
    if (timer.purpose === 'activate') {
      message.state = 'active';
      setEnqueuedTime(message, message.enqueuedTimeMs);
      this.journalUpdate(message, undefined);
      this.scheduleExpiry(message);
      this.makeAvailable(message);
      return;
    }
    // A locked message expires when its lock ends (makeAvailable checks the time).
    if (!message.lock && message.subqueue === 'main') this.expire(message);
  }

  /** Expiry: gone, or dead-lettered (`TTLExpiredException`) when the queue says so. */
  private expire(message: StoredMessage): void {
    if (this.properties.deadLetteringOnMessageExpiration)
      this.moveToDeadLetter(
        message,
        'TTLExpiredException',
        'The message expired and was dead lettered.',
        undefined,
      );
    else this.remove(message);
  }

  private detachFromMain(message: StoredMessage): void {
    this.messageTimers.remove(message.timer);
    this.main.available.delete(message);
    this.sessions?.forgetMessage(message);
    this.main.messages.delete(message.sequenceNumber);
  }

  private remove(message: StoredMessage): void {
    if (message.removed) return;
    if (message.lock) this.unlock(message.lock);
    if (message.subqueue === 'main') this.detachFromMain(message);
    else {
      this.deadLetter.available.delete(message);
      this.deadLetter.messages.delete(message.sequenceNumber);
    }
    message.removed = true;
    this.journal.append({
      kind: 'remove',
      queue: this.name,
      subqueue: message.subqueue,
      sequenceNumber: message.sequenceNumber,
    });
  }

  private moveToDeadLetter(
    message: StoredMessage,
    reason: string | undefined,
    description: string | undefined,
    properties: PropertiesToModify | undefined,
  ): void {
    if (message.lock) this.unlock(message.lock);
    this.detachFromMain(message);
    message.rest = withApplicationProperties(message.rest, {
      ...properties,
      DeadLetterReason: reason,
      DeadLetterErrorDescription: description,
    });
    message.subqueue = 'deadletter';
    message.state = 'active';
    message.expiresAtMs = Infinity;
    this.deadLetter.messages.set(message.sequenceNumber, message);
    this.journal.append({
      kind: 'dead-letter',
      queue: this.name,
      sequenceNumber: message.sequenceNumber,
      deliveryCount: message.deliveryCount,
      rest: message.rest,
    });
    this.makeAvailable(message);
  }
}

/** A message's journal image. */
export function imageOf(message: StoredMessage): MessageImage {
  return {
    subqueue: message.subqueue,
    sequenceNumber: message.sequenceNumber,
    enqueuedTimeMs: message.enqueuedTimeMs,
    expiresAtMs: message.expiresAtMs,
    state: message.state,
    deliveryCount: message.deliveryCount,
    durable: message.durable,
    priority: message.priority,
    ttlMs: message.ttlMs,
    messageId: message.messageId,
    sessionId: message.sessionId,
    partitionKey: message.partitionKey,
    annotations: message.ownAnnotations.bytes,
    annotationCount: message.ownAnnotations.count,
    rest: message.rest,
  };
}
