import type { JournalRecord } from '../broker/journal-port.ts';
import { imageOf } from '../broker/message-image.ts';
import type { Namespace } from '../broker/namespace.ts';
import type { JournalImage } from './journal-fold.ts';

/**
 * Records that rebuild the namespace's current state on their own: what a
 * compacted journal starts with. Locks are not kept (a restart ends every
 * lock, as a lost connection would), so a locked message is written as
 * available, with its delivery count.
 */
export function* snapshotRecords(namespace: Namespace): Generator<JournalRecord> {
  for (const queue of namespace.all()) {
    const name = queue.name;
    if (namespace.isAutoCreated(name))
      yield { kind: 'queue', queue: name, properties: queue.properties };
    yield { kind: 'sequence', queue: name, next: queue.sequenceCounter };
    for (const [messageId, seenAtMs] of queue.duplicateHistory())
      yield { kind: 'duplicate', queue: name, messageId, seenAtMs };
    for (const message of queue.main.messages.values())
      yield { kind: 'enqueue', queue: name, message: imageOf(message) };
    for (const message of queue.deadLetter.messages.values())
      yield { kind: 'enqueue', queue: name, message: imageOf(message) };
    for (const session of queue.sessions?.registry.all() ?? [])
      if (session.state)
        yield { kind: 'session-state', queue: name, sessionId: session.id, state: session.state };
  }
}

/**
 * Puts what the journal holds back into the namespace: queues created on
 * first use, then each queue's counters, messages (lowest sequence number
 * first) and session states. Returns the names of journaled queues the
 * configuration no longer has (their messages are dropped).
 */
export function restoreNamespace(namespace: Namespace, image: JournalImage): string[] {
  const dropped: string[] = [];
  for (const queueImage of image.values()) {
    let queue = namespace.queue(queueImage.name);
    if (!queue && queueImage.properties)
      queue = namespace.restoreAutoCreated(queueImage.name, queueImage.properties);
    if (!queue) {
      if (queueImage.messages.size > 0 || queueImage.sessionStates.size > 0)
        dropped.push(queueImage.name);
      continue;
    }
    queue.restoreCounters(queueImage.nextSequence);
    for (const [messageId, seenAtMs] of queueImage.duplicates)
      queue.restoreCounters(undefined, { messageId, seenAtMs });
    const messages = [...queueImage.messages.values()].sort(
      (a, b) => a.sequenceNumber - b.sequenceNumber,
    );
    for (const message of messages) {
      if (message.sessionId === undefined && queue.sessions && message.subqueue === 'main')
        continue;
      queue.restore(message);
    }
    for (const [sessionId, state] of queueImage.sessionStates)
      queue.sessions?.restoreState(sessionId, state);
  }
  return dropped;
}
