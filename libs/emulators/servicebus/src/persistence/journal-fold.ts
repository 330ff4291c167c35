import type { JournalRecord, MessageImage } from '../broker/journal-port.ts';
import type { SubqueueKind } from '../broker/stored-message.ts';
import type { QueueProperties } from '../config/queue-properties.ts';

/** What the journal says one queue holds. */
export interface QueueImage {
  /** The queue's name as first journaled. */
  name: string;
  /** Set for a queue created on first use (configured queues come from the configuration). */
  properties: QueueProperties | undefined;
  messages: Map<string, MessageImage>;
  sessionStates: Map<string, Buffer>;
  nextSequence: number;
  duplicates: Map<string, number>;
}

/** The broker's durable state after a sequence of records. */
export type JournalImage = Map<string, QueueImage>;

function key(subqueue: SubqueueKind, sequenceNumber: number): string {
  return `${subqueue}:${sequenceNumber}`;
}

function queueOf(image: JournalImage, name: string): QueueImage {
  const k = name.toLowerCase();
  let queue = image.get(k);
  if (!queue) {
    queue = {
      name,
      properties: undefined,
      messages: new Map(),
      sessionStates: new Map(),
      nextSequence: 1,
      duplicates: new Map(),
    };
    image.set(k, queue);
  }
  return queue;
}

/**
 * Applies one record. Pure bookkeeping: a record naming a message that is not
 * there (it was removed by an earlier record) changes nothing, so replay is
 * safe whatever was compacted away.
 */
export function applyRecord(image: JournalImage, record: JournalRecord): void {
  const queue = queueOf(image, record.queue);
  switch (record.kind) {
    case 'queue':
      queue.properties = record.properties;
      return;
    case 'enqueue':
      queue.messages.set(
        key(record.message.subqueue, record.message.sequenceNumber),
        record.message,
      );
      queue.nextSequence = Math.max(queue.nextSequence, record.message.sequenceNumber + 1);
      if (record.message.messageId !== undefined && record.message.subqueue === 'main')
        queue.duplicates.set(record.message.messageId, record.message.enqueuedTimeMs);
      return;
    case 'remove':
      queue.messages.delete(key(record.subqueue, record.sequenceNumber));
      return;
    case 'update': {
      const message = queue.messages.get(key(record.subqueue, record.sequenceNumber));
      if (!message) return;
      message.deliveryCount = record.deliveryCount;
      message.state = record.state;
      message.enqueuedTimeMs = record.enqueuedTimeMs;
      if (record.rest) message.rest = record.rest;
      return;
    }
    case 'dead-letter': {
      const message = queue.messages.get(key('main', record.sequenceNumber));
      if (!message) return;
      queue.messages.delete(key('main', record.sequenceNumber));
      queue.messages.set(key('deadletter', record.sequenceNumber), {
        ...message,
        subqueue: 'deadletter',
        state: 'active',
        expiresAtMs: Infinity,
        deliveryCount: record.deliveryCount,
        rest: record.rest,
      });
      return;
    }
    case 'activate': {
      const message = queue.messages.get(key('main', record.scheduledSequenceNumber));
      if (!message || message.state !== 'scheduled') return;
      queue.messages.delete(key('main', record.scheduledSequenceNumber));
      queue.messages.set(key('main', record.sequenceNumber), {
        ...message,
        sequenceNumber: record.sequenceNumber,
        state: 'active',
        enqueuedTimeMs: record.enqueuedTimeMs,
        expiresAtMs: record.expiresAtMs,
      });
      queue.nextSequence = Math.max(queue.nextSequence, record.sequenceNumber + 1);
      return;
    }
    case 'session-state':
      if (record.state && record.state.length > 0)
        queue.sessionStates.set(record.sessionId, record.state);
      else queue.sessionStates.delete(record.sessionId);
      return;
    case 'sequence':
      queue.nextSequence = Math.max(queue.nextSequence, record.next);
      return;
    case 'duplicate':
      queue.duplicates.set(record.messageId, record.seenAtMs);
      return;
  }
}

/** Folds records into the state they describe. */
export function foldRecords(records: Iterable<JournalRecord>): JournalImage {
  const image: JournalImage = new Map();
  for (const record of records) applyRecord(image, record);
  return image;
}
