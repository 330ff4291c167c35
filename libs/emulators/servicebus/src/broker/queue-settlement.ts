import { withApplicationProperties } from '../amqp/application-properties.ts';
import { EmulatorError, errors } from '../emulator-error.ts';
import type { PropertiesToModify, QueueEntity } from './queue-entity.ts';
import type { MessageLock, StoredMessage } from './stored-message.ts';

/**
 * What each settlement does to a locked message
 * (https://learn.microsoft.com/azure/service-bus-messaging/message-transfers-locks-settlement#settling-receive-operations).
 * Delivery counts follow what the service reports through the SDK: 0 on the
 * first delivery; abandon, defer and a lost lock each add one; complete and
 * dead-letter add none. A main-queue message whose count reaches
 * `maxDeliveryCount` is dead-lettered with `MaxDeliveryCountExceeded`.
 */

/** Throws the service's error when `lock` can no longer settle its message. */
export function checkLock(queue: QueueEntity, lock: MessageLock, nowMs = Date.now()): void {
  const message = lock.message;
  if (message.removed || message.lock !== lock) throw errors.messageLockLost(queue.name);
  if (queue.sessions && message.subqueue === 'main' && message.sessionId !== undefined) {
    queue.sessions.checkHeld(message.sessionId, lock, nowMs);
    return;
  }
  if (lock.lockedUntilMs <= nowMs) {
    queue.releaseLock(lock);
    throw errors.messageLockLost(queue.name);
  }
}

export function complete(queue: QueueEntity, lock: MessageLock): void {
  checkLock(queue, lock);
  queue.unlock(lock);
  queue.remove(lock.message);
}

export function abandon(
  queue: QueueEntity,
  lock: MessageLock,
  properties: PropertiesToModify | undefined,
): void {
  checkLock(queue, lock);
  queue.unlock(lock);
  modify(queue, lock.message, properties);
  redeliverLater(queue, lock.message);
}

export function defer(
  queue: QueueEntity,
  lock: MessageLock,
  properties: PropertiesToModify | undefined,
): void {
  checkLock(queue, lock);
  const message = lock.message;
  if (message.subqueue === 'deadletter')
    throw new EmulatorError('amqp:not-allowed', 'A dead-lettered message cannot be deferred.');
  queue.unlock(lock);
  modify(queue, message, properties);
  message.deliveryCount++;
  message.state = 'deferred';
  queue.journalUpdate(message, undefined);
}

export function deadLetter(
  queue: QueueEntity,
  lock: MessageLock,
  reason: string | undefined,
  description: string | undefined,
  properties: PropertiesToModify | undefined,
): void {
  checkLock(queue, lock);
  if (lock.message.subqueue === 'deadletter')
    throw new EmulatorError(
      'amqp:not-allowed',
      'A message in the dead-letter subqueue cannot be dead-lettered again.',
    );
  queue.unlock(lock);
  queue.moveToDeadLetter(lock.message, reason, description, properties);
}

/** One more delivery counted; back to the queue (or deferred set), or dead-lettered at the limit. */
export function redeliverLater(queue: QueueEntity, message: StoredMessage): void {
  message.deliveryCount++;
  const max = queue.properties.maxDeliveryCount;
  if (message.subqueue === 'main' && message.deliveryCount >= max) {
    queue.moveToDeadLetter(
      message,
      'MaxDeliveryCountExceeded',
      `Message could not be consumed after ${max} delivery attempts.`,
      undefined,
    );
    return;
  }
  queue.journalUpdate(message, undefined);
  if (message.state === 'deferred') return;
  queue.makeAvailable(message);
}

function modify(
  queue: QueueEntity,
  message: StoredMessage,
  properties: PropertiesToModify | undefined,
): void {
  if (!properties || Object.keys(properties).length === 0) return;
  message.rest = withApplicationProperties(message.rest, properties);
  queue.journalUpdate(message, message.rest);
}
