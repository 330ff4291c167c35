import { AvailableQueue } from './available-queue.ts';
import { deadlineEntry, type DeadlineEntry } from './deadline-list.ts';

/** The lock on a session, held by one receiving link. */
export interface SessionLock extends DeadlineEntry {
  session: MessageSession;
  holder: object;
  lockedUntilMs: number;
}

/**
 * One session of a session-enabled queue
 * (https://learn.microsoft.com/azure/service-bus-messaging/message-sessions):
 * its own FIFO of available messages, at most one lock holder, and the
 * opaque session state.
 */
export interface MessageSession {
  readonly id: string;
  readonly available: AvailableQueue;
  lock: SessionLock | undefined;
  /** Session state set with `set-session-state`; `undefined` when none. */
  state: Buffer | undefined;
  /** Messages of this session in the main subqueue, in any state. */
  messageCount: number;
  /** Last change (a message arrived or the state was set), for `get-message-sessions`. */
  lastUpdatedMs: number;
}

/** The sessions of one queue, and who waits for "the next available session". */
export class SessionRegistry {
  private readonly sessions = new Map<string, MessageSession>();

  /** The session named `id`, created when absent. */
  get(id: string): MessageSession {
    let session = this.sessions.get(id);
    if (!session) {
      session = {
        id,
        available: new AvailableQueue(),
        lock: undefined,
        state: undefined,
        messageCount: 0,
        lastUpdatedMs: Date.now(),
      };
      this.sessions.set(id, session);
    }
    return session;
  }

  /** The session named `id`, when it exists. */
  find(id: string): MessageSession | undefined {
    return this.sessions.get(id);
  }

  /** Every session (for listing). */
  all(): IterableIterator<MessageSession> {
    return this.sessions.values();
  }

  /**
   * The unlocked session whose oldest available message is oldest, the one
   * "accept next session" gets; `undefined` when every session with
   * messages is locked.
   */
  nextUnlocked(): MessageSession | undefined {
    let best: MessageSession | undefined;
    let bestSeq = Infinity;
    for (const session of this.sessions.values()) {
      if (session.lock || session.available.length === 0) continue;
      const seq = session.available.peek()?.sequenceNumber ?? Infinity;
      if (seq < bestSeq) {
        best = session;
        bestSeq = seq;
      }
    }
    return best;
  }

  /** Forgets a session with nothing left in it (no messages, no state, no lock). */
  forgetIfEmpty(session: MessageSession): void {
    if (session.messageCount === 0 && session.state === undefined && !session.lock)
      this.sessions.delete(session.id);
  }

  /** A fresh lock entry for `session`. */
  static newLock(session: MessageSession, holder: object, lockedUntilMs: number): SessionLock {
    return { ...deadlineEntry(), session, holder, lockedUntilMs };
  }
}
