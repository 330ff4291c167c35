import { AvailableQueue } from './available-queue.ts';
import type { StoredMessage, SubqueueKind } from './stored-message.ts';

/** Counts of what a queue holds, for tests and the admin route. */
export interface QueueCounts {
  active: number;
  locked: number;
  deferred: number;
  scheduled: number;
  deadLetter: number;
  sessions: number;
  /** Receiving links attached now (main queue and dead-letter subqueue, sessions included). */
  receivers: number;
}

/** Messages of a subqueue by state. */
export function countMessages(
  subqueue: Subqueue,
): Pick<QueueCounts, 'active' | 'locked' | 'deferred' | 'scheduled'> {
  const counts = { active: 0, locked: 0, deferred: 0, scheduled: 0 };
  for (const message of subqueue.messages.values()) {
    if (message.lock) counts.locked++;
    else if (message.state === 'deferred') counts.deferred++;
    else if (message.state === 'scheduled') counts.scheduled++;
    else counts.active++;
  }
  return counts;
}

/** Something that takes messages when they become available (a receiving link). */
export interface MessageConsumer {
  /** Messages may be available: take what credit allows. Called outside any broker operation. */
  notify(): void;
}

/**
 * A queue's main queue or its dead-letter subqueue
 * (`<queue>/$DeadLetterQueue`): the messages it holds, those ready for
 * delivery, and the receivers attached to it.
 */
export class Subqueue {
  readonly kind: SubqueueKind;
  /** The address receivers attach to. */
  readonly entityPath: string;
  /** Every message held, by sequence number. */
  readonly messages = new Map<number, StoredMessage>();
  /** Messages ready for delivery (unused on a session queue's main subqueue). */
  readonly available = new AvailableQueue();
  /** Receivers attached (non-session). */
  readonly consumers = new Set<MessageConsumer>();

  constructor(kind: SubqueueKind, entityPath: string) {
    this.kind = kind;
    this.entityPath = entityPath;
  }

  /**
   * Messages from sequence number `from` on, lowest first, at most `count`
   * (what `peek-message` returns). Dead-lettered messages keep their
   * sequence numbers but arrive out of order, so this sorts when needed.
   */
  peek(from: number, count: number, sessionId: string | undefined): StoredMessage[] {
    const out: StoredMessage[] = [];
    let sorted = true;
    let last = -Infinity;
    for (const message of this.messages.values()) {
      if (message.sequenceNumber < from) continue;
      if (sessionId !== undefined && message.sessionId !== sessionId) continue;
      if (message.sequenceNumber < last) sorted = false;
      last = message.sequenceNumber;
      out.push(message);
      if (sorted && out.length >= count) return out;
    }
    if (!sorted) out.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    return out.slice(0, count);
  }
}

/**
 * Consumers to notify after the current broker operation, each once: a batch
 * of 100 messages wakes a receiver once, not 100 times.
 */
export class Wakeups {
  private readonly pending = new Set<MessageConsumer>();
  private scheduled = false;

  wake(consumer: MessageConsumer): void {
    this.pending.add(consumer);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const consumers = [...this.pending];
      this.pending.clear();
      for (const c of consumers) c.notify();
    });
  }

  cancel(consumer: MessageConsumer): void {
    this.pending.delete(consumer);
  }
}
