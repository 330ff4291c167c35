import { AvailableQueue } from './available-queue.ts';
import type { StoredMessage, SubqueueKind } from './stored-message.ts';

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
