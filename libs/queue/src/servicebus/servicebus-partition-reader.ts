import type { ServiceBusReceivedMessage, ServiceBusSessionReceiver } from '@azure/service-bus';
import { QueueError } from '../queue-error.ts';
import type {
  DeadLetterNote,
  DeliveredBatch,
  FetchOptions,
  FetchRoom,
  PartitionReader,
} from '../transport.ts';
import {
  DEAD_LETTERED_AT_PROPERTY,
  EVENTS_IN_LAKE_PROPERTY,
  FAILED_ATTEMPTS_PROPERTY,
  FIRST_FAILED_AT_PROPERTY,
  deliveredIdOf,
  deliveredOf,
  encodeEventsInLake,
} from './batch-message.ts';
import type { ResolvedServiceBusOptions, SessionTimings } from './servicebus-options.ts';
import { renewalVerdict } from '../ownership/share-policy.ts';
import { bestEffort, translateError, translated } from './translate-error.ts';

/** Why a reader stopped owning its partition. */
export type ReaderEnd = 'released' | 'lost' | 'rebalanced' | 'stopped';

/**
 * A partition session's state: the failed attempts recorded for the message
 * at its head. Written under the session lock, so it survives a writer's
 * crash and reaches the next owner, and it is keyed by the message's
 * sequence number, which no other message of the queue ever has.
 */
export interface PartitionState {
  readonly head?: {
    readonly sequenceNumber: string;
    readonly failedAttempts: number;
    /** When the first of those attempts failed (ISO 8601). */
    readonly firstFailedAt?: string;
  };
}

/** How a receive ended. */
type Received =
  { readonly message: ServiceBusReceivedMessage | undefined } | { readonly error: unknown };

const ABORTED = Symbol('aborted');

/** `promise`'s value, or {@link ABORTED} as soon as `signal` aborts (the promise goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}

/** The longest `DeadLetterReason` / `DeadLetterErrorDescription` sent; the rest is cut. */
const MAX_REASON_CHARS = 4096;

/** The message a reader received and has not settled yet. */
interface Held {
  readonly message: ServiceBusReceivedMessage;
  /** The id the writer knows the batch by (its message id). */
  readonly id: string;
  readonly sequenceNumber: string;
  failedAttempts: number;
  /** When its first failure was recorded (ISO 8601), if one was. */
  firstFailedAt: string | undefined;
}

/** What a reader needs from the claims that created it. */
export interface ReaderContext {
  readonly partition: number;
  readonly receiver: ServiceBusSessionReceiver;
  /** The session state read when the session was accepted. */
  readonly state: PartitionState;
  /** When the accept that locked the session was sent (this process's clock). */
  readonly lockedAt: number;
  readonly timings: SessionTimings;
  readonly options: ResolvedServiceBusOptions;
  /** Called once, after the session is closed. */
  readonly onEnd: (reader: ServiceBusPartitionReader, end: ReaderEnd) => void;
}

/**
 * Reads one partition — one session, locked by this writer — strictly in
 * order, one message at a time.
 *
 * The message at the head stays locked (the session lock covers it) from
 * `next` until `ack` or `deadLetter`. `fail` does not abandon it: abandoning
 * would count a delivery, and the queue's MaxDeliveryCount would then
 * dead-letter a batch that only met an outage. The failure is counted in the
 * session state instead and the same message is handed out again. When
 * ownership ends, closing the session receiver returns the message to the
 * head of the session without counting a delivery; when the writer dies,
 * the session lock expires and the service returns it, counting one.
 */
export class ServiceBusPartitionReader implements PartitionReader {
  readonly partition: number;
  readonly #context: ReaderContext;
  readonly #abort = new AbortController();
  readonly #revoke = new AbortController();
  #state: PartitionState;
  #held: Held | undefined;
  /** A receive whose caller stopped waiting: the next `next` takes its result first. */
  #pending: Promise<Received> | undefined;
  /** When the last renewal that reached the service was sent: the lock holds until this + lock duration. */
  #renewedAt: number;
  #revokedAt: number | undefined;
  #ending: Promise<void> | undefined;

  constructor(context: ReaderContext) {
    this.#context = context;
    this.partition = context.partition;
    this.#state = context.state;
    this.#renewedAt = context.lockedAt;
  }

  get lost(): AbortSignal {
    return this.#abort.signal;
  }

  get revoked(): AbortSignal {
    return this.#revoke.signal;
  }

  /** Asks the writer to give the partition back (see {@link PartitionReader.revoked}). Idempotent. */
  revoke(): void {
    this.#revokedAt ??= Date.now();
    this.#revoke.abort();
  }

  /** How long ago the writer was asked to give the partition back; 0 if it was not. */
  revokedForMs(now: number): number {
    return this.#revokedAt === undefined ? 0 : now - this.#revokedAt;
  }

  async next(waitMs: number, options: FetchOptions = {}): Promise<DeliveredBatch | undefined> {
    const { signal, reserve } = options;
    this.#assertOwned('reading');
    if (this.#held) return this.#delivered(this.#held);
    if (signal?.aborted) return undefined;
    const room: FetchRoom | undefined = await reserve?.();
    let message: ServiceBusReceivedMessage | undefined;
    try {
      message = await this.#receiveOne(waitMs, signal);
    } finally {
      // Room is only kept for a batch actually received.
      if (!message) room?.release();
    }
    if (!message) return undefined;
    const sequenceNumber = String(message.sequenceNumber);
    const recorded =
      this.#state.head?.sequenceNumber === sequenceNumber ? this.#state.head : undefined;
    this.#held = {
      message,
      id: deliveredIdOf(message),
      sequenceNumber,
      failedAttempts: recorded?.failedAttempts ?? 0,
      firstFailedAt: recorded?.firstFailedAt,
    };
    return this.#delivered(this.#held);
  }

  /**
   * The next message, or undefined when none came within `waitMs` or the
   * caller's signal ended the wait. The caller's signal never reaches the
   * SDK: an aborted receive leaves its credit on the link, and a message
   * that arrives then is delivered to no listener — it stays locked while
   * the next receive gets the one behind it, out of order. So an abandoned
   * wait leaves its receive running, and the next call takes its result
   * first.
   */
  async #receiveOne(
    waitMs: number,
    signal: AbortSignal | undefined,
  ): Promise<ServiceBusReceivedMessage | undefined> {
    const deadline = Date.now() + Math.max(0, waitMs);
    for (;;) {
      const inherited = this.#pending !== undefined;
      this.#pending ??= this.#receive(Math.max(0, deadline - Date.now()));
      const pending = this.#pending;
      const outcome = signal ? await untilAborted(pending, signal) : await pending;
      if (outcome === ABORTED) return undefined;
      this.#pending = undefined;
      if ('error' in outcome) throw outcome.error;
      // An earlier call's receive came back empty: this call may wait on.
      if (outcome.message || !inherited || Date.now() >= deadline) return outcome.message;
    }
  }

  /** One receive of at most one message; settles with the message or the error, never rejects. */
  #receive(waitMs: number): Promise<Received> {
    const doing = `reading partition ${this.partition}`;
    const { receiver, options } = this.#context;
    return this.#guarded(
      doing,
      (timedOut) =>
        receiver.receiveMessages(1, {
          // 0 would be the SDK's "no wait" only by accident of its timer; 1 ms is explicit.
          maxWaitTimeInMs: Math.max(1, waitMs),
          abortSignal: AbortSignal.any([this.lost, timedOut]),
        }),
      Math.max(1, waitMs) + options.operationTimeoutMs,
    ).then(
      (messages): Received => {
        // Ownership ended while the receive was in flight: closing the receiver returned the message.
        if (this.lost.aborted) return { error: this.#ownershipGone(doing) };
        return { message: messages[0] };
      },
      (error: unknown): Received => {
        if (this.lost.aborted) return { error: this.#ownershipGone(doing) };
        // The SDK closes a session receiver it cannot recover (its link or
        // connection went away): the session is no longer this reader's.
        if (receiver.isClosed) {
          const gone = new QueueError(
            'OWNERSHIP_LOST',
            `${doing}: the session's link is gone (${(error as Error).message})`,
            { cause: error },
          );
          void this.end('lost', gone);
          return { error: gone };
        }
        return { error };
      },
    );
  }

  async ack(batch: DeliveredBatch): Promise<void> {
    const held = this.#requireHeld(batch, 'acknowledging');
    await this.#settle(`acknowledging batch ${batch.id}`, () =>
      this.#context.receiver.completeMessage(held.message),
    );
    this.#held = undefined;
    await this.#forget(held);
  }

  async fail(batch: DeliveredBatch, _error: Error): Promise<void> {
    const held = this.#requireHeld(batch, 'recording a failure of');
    const failedAttempts = held.failedAttempts + 1;
    // Recorded with the count, in the same session state write: no extra round trip.
    const firstFailedAt = held.firstFailedAt ?? new Date().toISOString();
    const state: PartitionState = {
      head: { sequenceNumber: held.sequenceNumber, failedAttempts, firstFailedAt },
    };
    await this.#guarded(`recording a failure of batch ${batch.id}`, (abortSignal) =>
      this.#context.receiver.setSessionState(state, { abortSignal }),
    );
    this.#state = state;
    held.failedAttempts = failedAttempts;
    held.firstFailedAt = firstFailedAt;
  }

  async deadLetter(batch: DeliveredBatch, note: DeadLetterNote): Promise<void> {
    const held = this.#requireHeld(batch, 'dead-lettering');
    const reason = note.reason.length > 0 ? note.reason : 'dead-lettered by the writer';
    const now = new Date().toISOString();
    await this.#settle(`dead-lettering batch ${batch.id}`, () =>
      this.#context.receiver.deadLetterMessage(held.message, {
        // The reason's head, for the portal's list; the whole of it in the description.
        deadLetterReason: cut(firstLine(reason), 256),
        deadLetterErrorDescription: cut(reason, MAX_REASON_CHARS),
        [EVENTS_IN_LAKE_PROPERTY]: encodeEventsInLake(note.eventsInLake),
        [FAILED_ATTEMPTS_PROPERTY]: held.failedAttempts,
        // Dead-lettered on its first failure (a poison batch): that is when it first failed.
        [FIRST_FAILED_AT_PROPERTY]: held.firstFailedAt ?? now,
        [DEAD_LETTERED_AT_PROPERTY]: now,
      }),
    );
    this.#held = undefined;
    await this.#forget(held);
  }

  release(): Promise<void> {
    return this.end('released');
  }

  /**
   * Called by the claims at every renewal tick: renews the session lock, or
   * ends the reader as lost. When the service cannot be reached the lock
   * may well still hold: a passing failure changes nothing; once half the
   * lock is gone unrenewed the writer is asked to give the partition back;
   * only once the lock must have expired is the reader lost. Never throws.
   */
  async renew(): Promise<void> {
    if (this.#ending) return;
    const { receiver, timings, options } = this.#context;
    const doing = `renewing the session lock of partition ${this.partition}`;
    const attemptedAt = Date.now();
    try {
      await translated(
        doing,
        (abortSignal) => receiver.renewSessionLock({ abortSignal }),
        options.operationTimeoutMs,
      );
      this.#renewedAt = attemptedAt;
    } catch (error) {
      const failure = translateError(error, doing);
      const verdict = renewalVerdict(
        failure.code,
        Date.now() - this.#renewedAt,
        timings.lockDurationMs,
      );
      if (verdict === 'lost') {
        void this.end('lost', failure);
        return;
      }
      options.onBackgroundError(failure);
      if (verdict === 'revoke') this.revoke();
    }
  }

  /**
   * Ends ownership: aborts `lost` and closes the session receiver, which
   * unlocks the session and returns the held message to its head at once.
   * Idempotent; resolves when all of that has been tried.
   */
  end(how: ReaderEnd, cause?: QueueError): Promise<void> {
    if (this.#ending) return this.#ending;
    if (cause) this.#context.options.onBackgroundError(cause);
    this.#abort.abort(
      cause ?? new QueueError('OWNERSHIP_LOST', `Partition ${this.partition} was ${how}.`),
    );
    this.#held = undefined;
    this.#ending = (async () => {
      await bestEffort(
        `closing the session of partition ${this.partition}`,
        () => this.#context.receiver.close(),
        this.#context.options.onBackgroundError,
      );
      this.#context.onEnd(this, how);
    })();
    return this.#ending;
  }

  /**
   * Settles the held message. Settlement takes no abort signal: one given
   * up on may still land later, and retrying it would meet a message
   * settled already. Whatever fails short of a lost lock leaves the queue's
   * state unknown, so the partition is given up: closing the session
   * returns the message, if it was not settled, to the head of the line,
   * and the next owner's checkpoint tells it what is written already.
   */
  async #settle(doing: string, settle: () => Promise<void>): Promise<void> {
    try {
      await this.#guarded(doing, settle);
    } catch (error) {
      const failure = error as QueueError;
      if (failure.code === 'OWNERSHIP_LOST') throw failure;
      const unknown = new QueueError(
        'OWNERSHIP_LOST',
        `${doing}: ${failure.message}; the outcome is unknown, so the partition is given up and re-read from its checkpoint`,
        { cause: failure },
      );
      void this.end('lost', unknown);
      throw unknown;
    }
  }

  #ownershipGone(doing: string): QueueError {
    return new QueueError(
      'OWNERSHIP_LOST',
      `${doing}: this writer no longer owns partition ${this.partition}.`,
      { cause: this.#abort.signal.reason },
    );
  }

  /** Clears the failure record of a settled message, if it had one. */
  async #forget(held: Held): Promise<void> {
    if (this.#state.head?.sequenceNumber !== held.sequenceNumber) return;
    // A record left behind names a message that is gone; it is harmless
    // (sequence numbers are never reused) and overwritten by the next failure.
    await bestEffort(
      `clearing the failure record of partition ${this.partition}`,
      () => this.#context.receiver.setSessionState({}),
      this.#context.options.onBackgroundError,
    );
    this.#state = {};
  }

  #delivered(held: Held): DeliveredBatch {
    return deliveredOf(held.message, this.partition, held.failedAttempts);
  }

  /** Runs an operation of an owned partition, ending ownership if it shows ownership is gone. */
  async #guarded<T>(
    doing: string,
    operation: (abortSignal: AbortSignal) => Promise<T>,
    timeoutMs = this.#context.options.operationTimeoutMs,
  ): Promise<T> {
    this.#assertOwned(doing);
    try {
      return await translated(doing, operation, timeoutMs);
    } catch (error) {
      const failure = error as QueueError;
      if (failure.code === 'OWNERSHIP_LOST') void this.end('lost', failure);
      throw failure;
    }
  }

  #requireHeld(batch: DeliveredBatch, doing: string): Held {
    this.#assertOwned(doing);
    const held = this.#held;
    if (!held || held.id !== batch.id) {
      throw new QueueError(
        'NOT_FOUND',
        `${doing} batch ${batch.id}: partition ${this.partition}'s reader is not holding it (only the batch last returned by next() can be settled).`,
      );
    }
    return held;
  }

  #assertOwned(doing: string): void {
    if (this.#abort.signal.aborted) throw this.#ownershipGone(doing);
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
