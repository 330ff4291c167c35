import type { ServiceBusClient, ServiceBusSessionReceiver } from '@azure/service-bus';
import { QueueError } from '../queue-error.ts';
import type { ClaimOptions, PartitionClaims, PartitionHandlers } from '../transport.ts';
import {
  sessionTimings,
  type ResolvedServiceBusOptions,
  type SessionTimings,
} from './servicebus-options.ts';
import {
  ServiceBusPartitionReader,
  type PartitionState,
  type ReaderEnd,
} from './servicebus-partition-reader.ts';
import { isHungry, nextShareStep, searchOffsetOf } from '../ownership/share-policy.ts';
import { RepeatingTask } from './repeating-task.ts';
import { sessionOf } from './session-names.ts';
import {
  bestEffort,
  isSessionHeldElsewhere,
  translateError,
  translated,
} from './translate-error.ts';
import { WriterRegistry, type RegistryView } from './writer-registry.ts';

/** What the claims of one writer share with the transport. */
export interface ClaimsContext {
  readonly client: ServiceBusClient;
  readonly options: ResolvedServiceBusOptions;
}

/**
 * One writer's share of the partitions: it owns partition `p` by holding
 * the lock of session `p<n>` (a named session, accepted whether or not it
 * has messages), so ownership is exclusive by the service's own rule — one
 * receiver per session. Named sessions rather than "next available": a
 * writer must keep a quiet partition too (heartbeats move its checkpoint,
 * gap reports need an owner), and partitions must spread evenly over the
 * writers, which next-available does not do.
 *
 * How many writers there are comes from the {@link WriterRegistry}. Every
 * `renewIntervalMs` (a third of the lock duration) the writer renews its
 * session locks, updates its registry entry — hungry when it owns fewer
 * than floor(K / live writers) — and then, with share = ceil(K / live):
 *
 * - owning more than its share while another writer is hungry, it asks for
 *   the extras back (highest-numbered first: their readers' `revoked`). The
 *   writer finishes the batch in hand and releases; one that has not after
 *   a lock duration loses the partition anyway;
 * - owning fewer, it accepts free sessions up to its share;
 * - when nobody is hungry, it also accepts any session left free, so no
 *   partition stays without an owner.
 *
 * A partition this writer gave up is not taken back by it for one lock
 * duration, so the writer it was meant for gets it; meanwhile it counts
 * towards the writer's own share. The same rules as the BullMQ transport,
 * with the session lock in place of the Redis lease.
 */
export class ServiceBusPartitionClaims implements PartitionClaims {
  readonly #context: ClaimsContext;
  readonly #writerId: string;
  readonly #registry: WriterRegistry;
  readonly #readers = new Map<number, ServiceBusPartitionReader>();
  /** Partitions this writer released on request, not to be re-taken before another writer could. */
  readonly #cooldownUntil = new Map<number, number>();
  #timings: SessionTimings;
  #handlers: PartitionHandlers | undefined;
  #view: RegistryView = { live: 1, othersHungry: 0, ownedByOthers: new Set() };
  /**
   * Session locks are renewed on a schedule of their own: an update of the
   * registry that waits (another writer holds it, the service is slow) must
   * never make a renewal late.
   */
  readonly #renewals: RepeatingTask;
  /** Registry updates and spreading. */
  readonly #balancing: RepeatingTask;
  /** Acquisitions or hand-overs in flight; at most one at a time. */
  #spreading: Promise<void> | undefined;
  #lockChecked = false;
  #stopping: Promise<void> | undefined;

  constructor(context: ClaimsContext, options: ClaimOptions) {
    if (!options.writerId) throw new RangeError('writerId must be non-empty');
    this.#context = context;
    this.#writerId = options.writerId;
    this.#timings = sessionTimings(context.options.leaseTtlMs);
    const report = (doing: string) => (error: unknown) =>
      context.options.onBackgroundError(translateError(error, doing));
    this.#renewals = new RepeatingTask(
      () => this.#timings.renewIntervalMs,
      () => this.#renew(),
      report('renewing session locks'),
    );
    this.#balancing = new RepeatingTask(
      () => this.#timings.renewIntervalMs,
      () => this.#balance(),
      report('balancing partitions'),
    );
    this.#registry = new WriterRegistry({
      client: context.client,
      queueName: context.options.queueName,
      writerId: options.writerId,
      presenceTtlMs: this.#timings.presenceTtlMs,
      suspectAfterMs: this.#timings.lockDurationMs,
      operationTimeoutMs: context.options.operationTimeoutMs,
      onBackgroundError: context.options.onBackgroundError,
    });
  }

  /**
   * Registers the writer and takes its first share before resolving.
   *
   * @throws QueueError `UNAVAILABLE` when Service Bus cannot be reached (nothing is held then).
   */
  async start(handlers: PartitionHandlers): Promise<void> {
    if (this.#handlers) throw new Error('These claims were already started.');
    if (this.#stopping) throw new Error('These claims are stopped.');
    this.#handlers = handlers;
    try {
      this.#view = await this.#registry.update({ owned: [], hungry: true });
    } catch (error) {
      this.#handlers = undefined;
      throw translateError(error, 'registering the writer');
    }
    // The first share is taken before start resolves, so a writer starts with it.
    this.#spreading = this.#spread()
      .catch((error: unknown) =>
        this.#context.options.onBackgroundError(translateError(error, 'spreading partitions')),
      )
      .finally(() => {
        this.#spreading = undefined;
      });
    await this.#spreading;
    this.#renewals.start(this.#timings.renewIntervalMs);
    this.#balancing.start(this.#timings.renewIntervalMs);
  }

  owned(): readonly number[] {
    return [...this.#readers.keys()].sort((a, b) => a - b);
  }

  /**
   * Closes every session (each held batch goes back to the head of its
   * session at once) and leaves the registry, so other writers take over at
   * their next tick. `lost(p)` is called for each partition. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await this.#balancing.stop();
    await this.#renewals.stop();
    await this.#spreading;
    await Promise.all([...this.#readers.values()].map((reader) => reader.end('stopped')));
    if (!this.#handlers) return;
    await bestEffort(
      'leaving the writers registry',
      () => this.#registry.update(undefined),
      this.#context.options.onBackgroundError,
    );
  }

  /**
   * Renews every session lock, and ends the partitions whose writer was
   * asked to give them back a lock duration ago and has not.
   */
  async #renew(): Promise<void> {
    await Promise.all([...this.#readers.values()].map((reader) => reader.renew()));
    const now = Date.now();
    for (const reader of this.#readers.values()) {
      if (reader.revokedForMs(now) >= this.#timings.lockDurationMs) void reader.end('rebalanced');
    }
  }

  /**
   * Updates the registry, then starts spreading partitions in the
   * background: accepting sessions must never delay the next update.
   */
  async #balance(): Promise<void> {
    const now = Date.now();
    const cooling = [...this.#cooldownUntil.values()].filter((until) => until > now).length;
    const hungry = isHungry({
      owned: this.owned(),
      cooling,
      partitionCount: this.#context.options.partitionCount,
      live: this.#view.live,
    });
    this.#view = await this.#registry.update({ owned: this.owned(), hungry });
    if (this.#stopping || this.#spreading) return;
    this.#spreading = this.#spread()
      .catch((error: unknown) =>
        this.#context.options.onBackgroundError(translateError(error, 'spreading partitions')),
      )
      .finally(() => {
        this.#spreading = undefined;
      });
  }

  async #spread(): Promise<void> {
    const step = nextShareStep({
      owned: this.owned(),
      partitionCount: this.#context.options.partitionCount,
      live: this.#view.live,
      othersHungry: this.#view.othersHungry,
    });
    if (step.kind === 'revoke') for (const p of step.partitions) this.#readers.get(p)?.revoke();
    else if (step.kind === 'acquire') await this.#acquire(step.upTo);
  }

  /**
   * Accepts free sessions until this writer owns `upTo` partitions or none
   * is free: as many at once as it still needs, then more for those another
   * writer turned out to hold.
   */
  async #acquire(upTo: number): Promise<void> {
    const count = this.#context.options.partitionCount;
    const now = Date.now();
    // Writers start their search at different partitions, so they rarely race for the same one.
    const offset = searchOffsetOf(this.#writerId, count);
    const candidates = Array.from({ length: count }, (_, i) => (i + offset) % count).filter(
      (p) =>
        !this.#readers.has(p) &&
        (this.#cooldownUntil.get(p) ?? 0) <= now &&
        !this.#view.ownedByOthers.has(p),
    );
    while (candidates.length > 0 && this.#readers.size < upTo && !this.#stopping) {
      const wave = candidates.splice(0, upTo - this.#readers.size);
      const opened = await Promise.allSettled(wave.map((p) => this.#open(p)));
      const failed = opened.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /** Accepts the partition's session; a session another writer holds is left alone. */
  async #open(partition: number): Promise<void> {
    const { client, options } = this.#context;
    const doing = `accepting the session of partition ${partition}`;
    const lockedAt = Date.now();
    let receiver: ServiceBusSessionReceiver;
    try {
      receiver = await translated(
        doing,
        (abortSignal) =>
          client.acceptSession(options.queueName, sessionOf(partition), {
            receiveMode: 'peekLock',
            // This transport renews on its own schedule, for as long as it owns the partition.
            maxAutoLockRenewalDurationInMs: 0,
            skipParsingBodyAsJson: true,
            abortSignal,
          }),
        options.operationTimeoutMs,
      );
    } catch (error) {
      // Another writer holds it: nothing to do.
      if (isSessionHeldElsewhere(error)) return;
      throw error;
    }
    let state: PartitionState;
    try {
      state = partitionStateOf(
        await translated(
          `reading the session state of partition ${partition}`,
          (abortSignal) => receiver.getSessionState({ abortSignal }),
          options.operationTimeoutMs,
        ),
      );
    } catch (error) {
      await bestEffort(`closing ${doing}`, () => receiver.close(), options.onBackgroundError);
      throw error;
    }
    this.#checkLockDuration(receiver.sessionLockedUntilUtc.getTime() - lockedAt);
    const reader = new ServiceBusPartitionReader({
      partition,
      receiver,
      state,
      lockedAt,
      timings: this.#timings,
      options,
      onEnd: (ended, how) => this.#ended(ended, how),
    });
    if (this.#stopping) {
      await reader.end('stopped');
      return;
    }
    this.#readers.set(partition, reader);
    this.#handlers?.gained(reader);
  }

  /**
   * The queue's LockDuration must be at least the one this writer plans
   * with, or its renewals come too late and it loses every partition. The
   * lock the service granted says what it is; a shorter one is adopted, and
   * reported once.
   */
  #checkLockDuration(observedMs: number): void {
    if (this.#lockChecked) return;
    this.#lockChecked = true;
    if (!(observedMs > 0) || observedMs >= this.#timings.lockDurationMs * 0.9) return;
    this.#context.options.onBackgroundError(
      new QueueError(
        'UNAVAILABLE',
        `the queue ${this.#context.options.queueName} locks sessions for about ${Math.round(observedMs)} ms, less than the ${this.#timings.lockDurationMs} ms this writer plans with (TRIBUTARY_LEASE_TTL_MS); renewing on the shorter lock — set the queue's LockDuration to at least TRIBUTARY_LEASE_TTL_MS`,
      ),
    );
    this.#timings = sessionTimings(observedMs * 0.9);
  }

  #ended(reader: ServiceBusPartitionReader, how: ReaderEnd): void {
    if (this.#readers.get(reader.partition) !== reader) return;
    this.#readers.delete(reader.partition);
    if (how === 'released' || how === 'rebalanced' || reader.revoked.aborted) {
      this.#cooldownUntil.set(reader.partition, Date.now() + this.#timings.lockDurationMs);
    }
    // The writer released itself (perhaps when asked to); every other end is news to it.
    if (how !== 'released') this.#handlers?.lost(reader.partition);
    // Tell the others at once that it is free.
    if (how === 'released' && !this.#stopping) this.#balancing.nudge();
  }
}

/** The session state of a partition, or none for a session without (or with foreign) state. */
function partitionStateOf(state: unknown): PartitionState {
  const head = (state as PartitionState | null | undefined)?.head;
  if (
    typeof head?.sequenceNumber === 'string' &&
    Number.isInteger(head.failedAttempts) &&
    head.failedAttempts >= 0
  ) {
    return {
      head: {
        sequenceNumber: head.sequenceNumber,
        failedAttempts: head.failedAttempts,
        ...(typeof head.firstFailedAt === 'string' ? { firstFailedAt: head.firstFailedAt } : {}),
      },
    };
  }
  return {};
}
