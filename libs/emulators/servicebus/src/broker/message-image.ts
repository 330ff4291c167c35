import type { MessageImage } from './journal-port.ts';
import { storedMessage, type StoredMessage } from './stored-message.ts';

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

/** A stored message rebuilt from its journal image. */
export function messageFromImage(image: MessageImage): StoredMessage {
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
  return message;
}
