import type { MessageImage } from './journal-port.ts';
import {
  effectiveTtlMs,
  stampExpiry,
  storedMessage,
  type StoredMessage,
} from './stored-message.ts';

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

/**
 * A stored message rebuilt from its journal image. A journal written before
 * the applied time to live was recorded holds the sender's; capping it by the
 * queue's default (`defaultTtlMs`) gives the applied one. The expiry the
 * message carries is stamped again: an activated scheduled message's record
 * holds its new expiry, not the bytes.
 */
export function messageFromImage(image: MessageImage, defaultTtlMs: number): StoredMessage {
  const message = storedMessage(
    {
      durable: image.durable,
      priority: image.priority,
      ttlMs: effectiveTtlMs(image.ttlMs, defaultTtlMs),
      messageId: image.messageId,
      sessionId: image.sessionId,
      partitionKey: image.partitionKey,
      scheduledEnqueueTimeMs: undefined,
      annotations: { bytes: image.annotations, count: image.annotationCount },
      rest: image.subqueue === 'main' ? stampExpiry(image.rest, image.expiresAtMs) : image.rest,
    },
    image.sequenceNumber,
    image.enqueuedTimeMs,
    image.expiresAtMs,
    image.state,
  );
  message.deliveryCount = image.deliveryCount;
  return message;
}
