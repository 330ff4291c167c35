import { withApplicationProperties, type PropertyValue } from '../amqp/application-properties.ts';
import * as settlement from './queue-settlement.ts';
import type { ParsedMessage } from '../amqp/message-codec.ts';
import type { QueueProperties } from '../config/queue-properties.ts';
import { EmulatorError, errors } from '../emulator-error.ts';
import { DeadlineList } from './deadline-list.ts';
import { MessageLocks } from './message-locks.ts';
import { DuplicateDetector } from './duplicate-detector.ts';
import type { Journal, MessageImage } from './journal-port.ts';
import { imageOf, messageFromImage } from './message-image.ts';
import { SessionCoordinator } from './session-coordinator.ts';
import {
  activateScheduled,
  newMessage,
  type MessageLock,
  type MessageTimer,
  type StoredMessage,
} from './stored-message.ts';
import {
  Subqueue,
  Wakeups,
  countMessages,
  type MessageConsumer,
  type QueueCounts,
} from './subqueue.ts';

export type { QueueCounts } from './subqueue.ts';

/** Properties a client may change when it settles (`propertiesToModify`). */
export type PropertiesToModify = Readonly<Record<string, PropertyValue | undefined>>;

/** The dead-letter subqueue's address suffix. */
export const DEAD_LETTER_SUFFIX = '/$DeadLetterQueue';

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
  private readonly locks = new MessageLocks((lock) => this.releaseLock(lock));
  private readonly messageTimers = new DeadlineList<MessageTimer>((t) => this.timerDue(t));
  private readonly duplicates: DuplicateDetector | undefined;
  readonly journal: Journal;
  private readonly wakeups = new Wakeups();

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
    const message = newMessage(
      given,
      this.nextSequence++,
      nowMs,
      this.properties.defaultMessageTimeToLiveMs,
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
    // A deferred message (restored from the journal) waits to be received by sequence number.
    if (message.state !== 'deferred') this.makeAvailable(message);
  }

  /** Restores a message from the journal (no journal record, no notification). */
  restore(image: MessageImage): StoredMessage {
    const message = messageFromImage(image, this.properties.defaultMessageTimeToLiveMs);
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
    this.wakeups.cancel(consumer);
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
    const lock = this.locks.create(
      message,
      holder,
      sessionUntil ?? nowMs + this.properties.lockDurationMs,
      sessionUntil === undefined,
    );
    if (sessionUntil !== undefined) this.sessions?.trackLock(lock);
    return lock;
  }

  /** The lock with this token, when it is still held. */
  findLock(tokenText: string): MessageLock | undefined {
    return this.locks.find(tokenText);
  }

  /** Deletes a message delivered in receive-and-delete mode (or received so by sequence number). */
  deleteOnReceive(message: StoredMessage): void {
    this.remove(message);
  }

  /** Throws the service's error when `lock` can no longer settle its message. */
  checkLock(lock: MessageLock, nowMs = Date.now()): void {
    settlement.checkLock(this, lock, nowMs);
  }

  /** Extends a message lock by the lock duration; returns the new expiry. */
  renewLock(lock: MessageLock, nowMs = Date.now()): number {
    settlement.checkLock(this, lock, nowMs);
    if (this.sessions && lock.message.subqueue === 'main')
      throw new EmulatorError(
        'amqp:not-allowed',
        `The lock of a message in a session cannot be renewed; renew the session lock instead.`,
      );
    this.locks.extend(lock, nowMs + this.properties.lockDurationMs);
    return lock.lockedUntilMs;
  }

  /** Complete: the message is done with. */
  complete(lock: MessageLock): void {
    settlement.complete(this, lock);
  }

  /** Abandon: back to the queue (or to deferred) with one more delivery counted. */
  abandon(lock: MessageLock, properties: PropertiesToModify | undefined): void {
    settlement.abandon(this, lock, properties);
  }

  /** Defer: set aside until received by sequence number. */
  defer(lock: MessageLock, properties: PropertiesToModify | undefined): void {
    settlement.defer(this, lock, properties);
  }

  /** Dead-letter: move to `<queue>/$DeadLetterQueue` with the reason and description. */
  deadLetterLocked(
    lock: MessageLock,
    reason: string | undefined,
    description: string | undefined,
    properties: PropertiesToModify | undefined,
  ): void {
    settlement.deadLetter(this, lock, reason, description, properties);
  }

  /**
   * A lock ended without settlement (expired, its session lost, …): one more
   * delivery counted, and the message returns (or is dead-lettered when it
   * has used up `maxDeliveryCount`).
   */
  releaseLock(lock: MessageLock): void {
    if (lock.message.lock !== lock || lock.message.removed) return;
    this.unlock(lock);
    settlement.redeliverLater(this, lock.message);
  }

  /**
   * A lock ended without settlement and without a delivery counted (its
   * session receiver was closed): the message is available again as it was,
   * or stays deferred. Nothing durable changes, so nothing is journaled.
   */
  returnUncounted(lock: MessageLock): void {
    if (lock.message.lock !== lock || lock.message.removed) return;
    this.unlock(lock);
    if (lock.message.state !== 'deferred') this.makeAvailable(lock.message);
  }

  /**
   * Expires the waiting message whose message id is `messageId` now, as the
   * service does when its time to live runs out (for the "expire a message"
   * fault). Only an active message that no receiver holds: a locked one
   * expires when its lock ends. Returns whether it expired.
   */
  expireWaiting(messageId: string): boolean {
    for (const message of this.main.messages.values()) {
      if (message.messageId !== messageId) continue;
      if (message.removed || message.lock || message.state !== 'active') return false;
      this.expire(message);
      return true;
    }
    return false;
  }

  /** Every current message lock (for the "expire every lock now" fault). */
  allLocks(): MessageLock[] {
    return this.locks.all();
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
    return {
      ...countMessages(this.main),
      deadLetter: this.deadLetter.messages.size,
      sessions: this.sessions?.count() ?? 0,
      receivers:
        this.main.consumers.size +
        this.deadLetter.consumers.size +
        (this.sessions?.lockedCount() ?? 0),
    };
  }

  /** Stops every timer (the emulator is stopping). */
  close(): void {
    this.locks.close();
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
    this.wakeups.wake(consumer);
  }

  private wakeAll(subqueue: Subqueue): void {
    for (const consumer of subqueue.consumers) this.wake(consumer);
  }

  /** @internal ends a lock without touching its message. */
  unlock(lock: MessageLock): void {
    this.sessions?.untrackLock(lock);
    this.locks.drop(lock);
  }

  /** @internal journals a change of delivery count, state or properties. */
  journalUpdate(message: StoredMessage, rest: Buffer | undefined): void {
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
      this.activate(message);
      return;
    }
    // A locked message expires when its lock ends (makeAvailable checks the time).
    if (!message.lock && message.subqueue === 'main') this.expire(message);
  }

  /**
   * A scheduled message's time came: it joins the queue behind every message
   * already there, under a new sequence number (so cancelling by the number
   * `schedule-message` returned finds nothing from now on).
   */
  private activate(message: StoredMessage, nowMs = Date.now()): void {
    const scheduledAs = message.sequenceNumber;
    this.main.messages.delete(scheduledAs);
    activateScheduled(message, this.nextSequence++, nowMs);
    this.main.messages.set(message.sequenceNumber, message);
    this.journal.append({
      kind: 'activate',
      queue: this.name,
      scheduledSequenceNumber: scheduledAs,
      sequenceNumber: message.sequenceNumber,
      enqueuedTimeMs: message.enqueuedTimeMs,
      expiresAtMs: message.expiresAtMs,
    });
    this.scheduleExpiry(message);
    this.makeAvailable(message);
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

  /** @internal deletes a message for good. */
  remove(message: StoredMessage): void {
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

  /** @internal moves a message to the dead-letter subqueue. */
  moveToDeadLetter(
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
