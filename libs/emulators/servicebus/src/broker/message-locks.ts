import { newLockToken } from '../amqp/lock-token.ts';
import { DeadlineList } from './deadline-list.ts';
import type { MessageLock, StoredMessage } from './stored-message.ts';

/**
 * A queue's peek-locks: by token (for `$management` settlement and renewal)
 * and by expiry (one timer for the earliest). Locks of messages in a locked
 * session carry the session's expiry and no timer of their own: the session
 * lock decides for them.
 */
export class MessageLocks {
  private readonly byToken = new Map<string, MessageLock>();
  private readonly timers: DeadlineList<MessageLock>;

  /** `onExpired` runs for a timed lock whose time has passed. */
  constructor(onExpired: (lock: MessageLock) => void) {
    this.timers = new DeadlineList<MessageLock>(onExpired);
  }

  /** A new lock on `message` until `lockedUntilMs`; `timed` locks expire on their own. */
  create(
    message: StoredMessage,
    holder: object | undefined,
    lockedUntilMs: number,
    timed: boolean,
  ): MessageLock {
    const lock: MessageLock = {
      dueAtMs: 0,
      prev: undefined,
      next: undefined,
      list: undefined,
      token: newLockToken(),
      message,
      lockedUntilMs,
      holder,
    };
    message.lock = lock;
    this.byToken.set(lock.token.text, lock);
    if (timed) this.timers.schedule(lock, lockedUntilMs);
    return lock;
  }

  /** Moves a timed lock's expiry. */
  extend(lock: MessageLock, lockedUntilMs: number): void {
    lock.lockedUntilMs = lockedUntilMs;
    this.timers.schedule(lock, lockedUntilMs);
  }

  find(tokenText: string): MessageLock | undefined {
    return this.byToken.get(tokenText);
  }

  /** Ends `lock` (settled, expired or released). */
  drop(lock: MessageLock): void {
    this.timers.remove(lock);
    this.byToken.delete(lock.token.text);
    if (lock.message.lock === lock) lock.message.lock = undefined;
  }

  all(): MessageLock[] {
    return [...this.byToken.values()];
  }

  close(): void {
    this.timers.close();
  }
}
