import { errors, type EmulatorError } from '../emulator-error.ts';
import { DeadlineList } from './deadline-list.ts';
import { SessionRegistry, type MessageSession, type SessionLock } from './message-sessions.ts';
import type { QueueEntity } from './queue-entity.ts';
import type { MessageLock, StoredMessage } from './stored-message.ts';
import type { MessageConsumer } from './subqueue.ts';

/** A receiving link that holds (or waits for) a session. */
export interface SessionHolder extends MessageConsumer {
  /** The session lock was lost (expired or taken away); the link must detach with `error`. */
  sessionLost(session: MessageSession, error: EmulatorError): void;
}

interface Waiter {
  holder: SessionHolder;
  timer: NodeJS.Timeout;
  granted: (session: MessageSession | undefined) => void;
}

/**
 * Sessions of one session-enabled queue: who holds which session's lock,
 * "accept the next available session" waiters, session lock expiry and
 * renewal, and the session state. One receiver per session; messages of a
 * session are delivered in sequence-number order.
 */
export class SessionCoordinator {
  readonly registry = new SessionRegistry();
  private readonly queue: QueueEntity;
  private readonly lockTimers = new DeadlineList<SessionLock>((lock) => this.lockExpired(lock));
  private readonly heldLocks = new Map<MessageSession, Set<MessageLock>>();
  private waiters: Waiter[] = [];

  constructor(queue: QueueEntity) {
    this.queue = queue;
  }

  /** Sessions locked by a receiver now. */
  lockedCount(): number {
    return this.lockTimers.length;
  }

  /** Sessions known (with messages, state or a lock). */
  count(): number {
    let n = 0;
    for (const _ of this.registry.all()) n++;
    return n;
  }

  /**
   * Locks session `id` for `holder` ("accept session"); throws
   * `SessionCannotBeLocked` when another receiver holds it.
   */
  accept(id: string, holder: SessionHolder, nowMs = Date.now()): MessageSession {
    const session = this.registry.get(id);
    if (session.lock && session.lock.lockedUntilMs <= nowMs) this.lockExpired(session.lock);
    if (session.lock) throw errors.sessionCannotBeLocked(this.queue.name, id);
    this.lock(session, holder, nowMs);
    return session;
  }

  /**
   * Locks the next unlocked session with messages for `holder`, now or as
   * soon as one is free within `timeoutMs`; `granted(undefined)` on timeout.
   * Returns a function that withdraws the request.
   */
  acceptNext(
    holder: SessionHolder,
    timeoutMs: number,
    granted: (session: MessageSession | undefined) => void,
  ): () => void {
    const session = this.registry.nextUnlocked();
    if (session) {
      this.lock(session, holder, Date.now());
      granted(session);
      return () => undefined;
    }
    const waiter: Waiter = {
      holder,
      granted,
      timer: setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        granted(undefined);
      }, timeoutMs),
    };
    waiter.timer.unref();
    this.waiters.push(waiter);
    return () => {
      clearTimeout(waiter.timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    };
  }

  /** The session's lock expiry when `message` belongs to a locked session. */
  lockedUntil(message: StoredMessage): number | undefined {
    if (message.subqueue !== 'main' || message.sessionId === undefined) return undefined;
    return this.registry.find(message.sessionId)?.lock?.lockedUntilMs;
  }

  /** Throws `SessionLockLost` unless session `id` is locked (by `lock`'s holder, when given). */
  checkHeld(
    id: string,
    lock: MessageLock | undefined,
    nowMs: number,
    holder?: object,
  ): MessageSession {
    const session = this.registry.find(id);
    const sessionLock = session?.lock;
    if (!session || !sessionLock) throw errors.sessionLockLost(this.queue.name, id);
    if (sessionLock.lockedUntilMs <= nowMs) {
      this.lockExpired(sessionLock);
      throw errors.sessionLockLost(this.queue.name, id);
    }
    if (lock && lock.holder !== undefined && lock.holder !== sessionLock.holder)
      throw errors.sessionLockLost(this.queue.name, id);
    if (holder !== undefined && holder !== sessionLock.holder)
      throw errors.sessionLockLost(this.queue.name, id);
    return session;
  }

  /** Extends session `id`'s lock by the lock duration; returns the new expiry. */
  renew(id: string, nowMs = Date.now(), holder?: object): number {
    const session = this.checkHeld(id, undefined, nowMs, holder);
    const lock = session.lock!;
    lock.lockedUntilMs = nowMs + this.queue.properties.lockDurationMs;
    this.lockTimers.schedule(lock, lock.lockedUntilMs);
    for (const messageLock of this.heldLocks.get(session) ?? [])
      messageLock.lockedUntilMs = lock.lockedUntilMs;
    return lock.lockedUntilMs;
  }

  /**
   * Releases `holder`'s lock on `session` (its receiver closed): its
   * unsettled messages return without a delivery counted. "Session is
   * accepted, the messages within the session aren't completed (even if
   * they're locked), and the session is closed": delivery count not
   * incremented; only an expired session lock counts one
   * (https://learn.microsoft.com/azure/service-bus-messaging/message-sessions#impact-of-delivery-count).
   */
  release(session: MessageSession, holder: object): void {
    if (session.lock?.holder !== holder) return;
    this.unlockSession(session, false);
  }

  /** The next message of a locked session for its holder. */
  take(session: MessageSession, nowMs = Date.now()): StoredMessage | undefined {
    for (;;) {
      const message = session.available.take();
      if (!message) return undefined;
      if (message.expiresAtMs <= nowMs) {
        this.queue.makeAvailable(message, nowMs);
        continue;
      }
      return message;
    }
  }

  /** Session state (`get-session-state`). */
  getState(id: string, holder?: object): Buffer | undefined {
    return this.checkHeld(id, undefined, Date.now(), holder).state;
  }

  /** Sets (or clears, with `undefined`) the session state (`set-session-state`). */
  setState(id: string, state: Buffer | undefined, holder?: object): void {
    const session = this.checkHeld(id, undefined, Date.now(), holder);
    session.state = state && state.length > 0 ? state : undefined;
    session.lastUpdatedMs = Date.now();
    this.queue.journal.append({
      kind: 'session-state',
      queue: this.queue.name,
      sessionId: id,
      state: session.state,
    });
  }

  /** Restores a session state from the journal. */
  restoreState(id: string, state: Buffer | undefined): void {
    const session = this.registry.get(id);
    session.state = state;
    this.registry.forgetIfEmpty(session);
  }

  /** Ids of sessions with messages or state, updated since `sinceMs` (`get-message-sessions`). */
  list(sinceMs: number): string[] {
    const ids: string[] = [];
    for (const session of this.registry.all()) {
      if (session.lastUpdatedMs < sinceMs) continue;
      if (session.messageCount > 0 || session.state !== undefined) ids.push(session.id);
    }
    return ids;
  }

  /** Every session lock (for the "expire every lock now" fault). */
  allLocks(): SessionLock[] {
    return this.lockTimers.items();
  }

  /** Ends a session lock now, as if it had expired. */
  expireLock(lock: SessionLock): void {
    this.lockExpired(lock);
  }

  /** @internal queue bookkeeping: a message of a session arrived or left. */
  countMessage(message: StoredMessage, delta: number): void {
    if (message.sessionId === undefined) return;
    const session = this.registry.get(message.sessionId);
    session.messageCount += delta;
    if (delta > 0) session.lastUpdatedMs = Date.now();
  }

  /** @internal a session message became available. */
  makeAvailable(message: StoredMessage): void {
    const session = this.registry.get(message.sessionId!);
    session.available.add(message);
    const holder = session.lock?.holder as SessionHolder | undefined;
    if (holder) this.queue.wake(holder);
    else this.grantWaiting(session);
  }

  /** @internal a message left the main subqueue. */
  forgetMessage(message: StoredMessage): void {
    if (message.sessionId === undefined) return;
    const session = this.registry.find(message.sessionId);
    if (!session) return;
    session.available.delete(message);
    session.messageCount--;
    this.registry.forgetIfEmpty(session);
  }

  /** @internal a message of a session was locked. */
  trackLock(lock: MessageLock): void {
    const session = this.registry.find(lock.message.sessionId!);
    if (!session) return;
    let set = this.heldLocks.get(session);
    if (!set) this.heldLocks.set(session, (set = new Set()));
    set.add(lock);
  }

  /** @internal */
  untrackLock(lock: MessageLock): void {
    const id = lock.message.sessionId;
    if (id === undefined) return;
    const session = this.registry.find(id);
    if (session) this.heldLocks.get(session)?.delete(lock);
  }

  close(): void {
    this.lockTimers.close();
    for (const waiter of this.waiters) clearTimeout(waiter.timer);
    this.waiters = [];
  }

  private lock(session: MessageSession, holder: SessionHolder, nowMs: number): void {
    session.lock = SessionRegistry.newLock(
      session,
      holder,
      nowMs + this.queue.properties.lockDurationMs,
    );
    this.lockTimers.schedule(session.lock, session.lock.lockedUntilMs);
  }

  private lockExpired(lock: SessionLock): void {
    const session = lock.session;
    if (session.lock !== lock) return;
    const holder = lock.holder as SessionHolder;
    // "Session is accepted, but the session lock expires": delivery count incremented.
    this.unlockSession(session, true);
    holder.sessionLost(session, errors.sessionLockLost(this.queue.name, session.id));
  }

  /** Ends the session lock; its messages' locks end with it, counting a delivery when `countDeliveries`. */
  private unlockSession(session: MessageSession, countDeliveries: boolean): void {
    const lock = session.lock;
    if (!lock) return;
    this.lockTimers.remove(lock);
    session.lock = undefined;
    const held = [...(this.heldLocks.get(session) ?? [])];
    this.heldLocks.delete(session);
    for (const messageLock of held) {
      if (countDeliveries) this.queue.releaseLock(messageLock);
      else this.queue.returnUncounted(messageLock);
    }
    if (session.available.length > 0) this.grantWaiting(session);
    this.registry.forgetIfEmpty(session);
  }

  private grantWaiting(session: MessageSession): void {
    if (session.lock || session.available.length === 0) return;
    const waiter = this.waiters.shift();
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.lock(session, waiter.holder, Date.now());
    waiter.granted(session);
  }
}
