import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClaimOptions, PartitionClaims, PartitionHandlers } from '../transport.ts';
import { leaseTimings, type LeaseTimings, type ResolvedBullmqOptions } from './bullmq-options.ts';
import { BullmqPartitionReader, type ReaderEnd } from './bullmq-partition-reader.ts';
import type { Lease, LeaseStore } from './lease-store.ts';
import { withDeadline } from './deadline.ts';
import type { PartitionLayout } from './partition-layout.ts';
import { isHungry, nextShareStep, searchOffsetOf } from '../ownership/share-policy.ts';
import { bestEffort, translateError, translated } from './translate-error.ts';

/** What the claims of one writer share with the transport. */
export interface ClaimsContext {
  readonly redis: Redis;
  readonly layout: PartitionLayout;
  readonly leases: LeaseStore;
  readonly options: ResolvedBullmqOptions;
}

/**
 * One writer's share of the partitions. Every `renewIntervalMs` (a third of
 * the lease TTL) it renews its leases and the locks of the batches it holds,
 * and marks itself alive — and hungry when it owns fewer than floor(K / live
 * writers) — then, with share = ceil(K / live writers):
 *
 * - owning more than its share while another writer is hungry, it asks for
 *   the extras back (highest-numbered first: their readers' `revoked`), so
 *   partitions spread on scale-out. The writer finishes the batch in hand and
 *   releases; one that has not after a lease TTL loses the partition anyway;
 * - owning fewer, it takes free or expired leases up to its share;
 * - when nobody is hungry, it also takes any partition left free (released
 *   or expired), so none stays idle.
 *
 * A partition this writer gave up is not taken back by it for one lease TTL,
 * so the writer it was meant for gets it; meanwhile it counts towards the
 * writer's own share, so giving one up does not make the writer hungry.
 */
export class BullmqPartitionClaims implements PartitionClaims {
  readonly #context: ClaimsContext;
  readonly #writerId: string;
  readonly #timings: LeaseTimings;
  readonly #readers = new Map<number, BullmqPartitionReader>();
  /** Partitions this writer released on request, not to be re-taken before another writer could. */
  readonly #cooldownUntil = new Map<number, number>();
  #handlers: PartitionHandlers | undefined;
  /** Live writers at the last tick (1 until the first count). */
  #live = 1;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  /** Acquisitions or hand-overs in flight; at most one at a time. */
  #spreading: Promise<void> | undefined;
  #firstTick = true;
  #stopping: Promise<void> | undefined;

  constructor(context: ClaimsContext, options: ClaimOptions) {
    if (!options.writerId || options.writerId.includes('|')) {
      throw new RangeError(
        `writerId must be non-empty and without '|' (got '${options.writerId}')`,
      );
    }
    this.#context = context;
    this.#writerId = options.writerId;
    this.#timings = leaseTimings(context.options.leaseTtlMs);
  }

  /**
   * Registers the writer and takes its first share before resolving.
   *
   * @throws QueueError `UNAVAILABLE` when Redis cannot be reached (nothing is held then).
   */
  async start(handlers: PartitionHandlers): Promise<void> {
    if (this.#handlers) throw new Error('These claims were already started.');
    if (this.#stopping) throw new Error('These claims are stopped.');
    this.#handlers = handlers;
    try {
      await translated('registering the writer', () =>
        this.#context.leases.beat(this.#writerId, this.#timings.leaseTtlMs, true),
      );
    } catch (error) {
      this.#handlers = undefined;
      throw error;
    }
    await this.#runTick();
  }

  owned(): readonly number[] {
    return [...this.#readers.keys()].sort((a, b) => a - b);
  }

  /**
   * Releases every lease (each held batch goes back to the front of its line)
   * and leaves the live set, so other writers take over at their next tick.
   * `lost(p)` is called for each partition. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#tick;
    await this.#spreading;
    await Promise.all([...this.#readers.values()].map((reader) => reader.end('stopped')));
    const { leases, options } = this.#context;
    await bestEffort(
      'leaving the live writers',
      () => leases.leave(this.#writerId),
      options.onBackgroundError,
    );
  }

  #runTick(): Promise<void> {
    const started = Date.now();
    this.#tick = this.#balance()
      .catch((error: unknown) =>
        this.#context.options.onBackgroundError(translateError(error, 'balancing partitions')),
      )
      .finally(() => {
        if (this.#stopping) return;
        const wait = Math.max(0, this.#timings.renewIntervalMs - (Date.now() - started));
        this.#timer = setTimeout(() => void this.#runTick(), wait);
      });
    return this.#tick;
  }

  /**
   * Renews and beats, then starts spreading partitions in the background:
   * acquiring opens BullMQ workers, which must never delay the next renewal.
   */
  async #balance(): Promise<void> {
    const { leases, layout } = this.#context;
    const count = layout.partitionCount;
    await Promise.all([...this.#readers.values()].map((reader) => reader.renew()));
    const now = Date.now();
    // A writer asked to give a partition back has had a lease TTL to do so.
    for (const reader of this.#readers.values()) {
      if (reader.revokedForMs(now) >= this.#timings.leaseTtlMs) void reader.end('rebalanced');
    }
    const cooling = [...this.#cooldownUntil.values()].filter((until) => until > now).length;
    const hungry = isHungry({
      owned: this.owned(),
      cooling,
      partitionCount: count,
      live: this.#live,
    });
    const presence = await leases.beat(this.#writerId, this.#timings.leaseTtlMs, hungry);
    if (this.#stopping) return;
    this.#live = Math.max(1, presence.live);
    if (this.#spreading) return;
    const spreading = this.#spread(presence.othersHungry)
      .catch((error: unknown) =>
        this.#context.options.onBackgroundError(translateError(error, 'spreading partitions')),
      )
      .finally(() => {
        this.#spreading = undefined;
      });
    this.#spreading = spreading;
    // The first tick (inside start()) waits, so a writer starts with its share.
    if (this.#firstTick) {
      this.#firstTick = false;
      await spreading;
    }
  }

  async #spread(othersHungry: number): Promise<void> {
    const step = nextShareStep({
      owned: this.owned(),
      partitionCount: this.#context.layout.partitionCount,
      live: this.#live,
      othersHungry,
    });
    if (step.kind === 'revoke') for (const p of step.partitions) this.#readers.get(p)?.revoke();
    else if (step.kind === 'acquire') await this.#acquire(step.upTo);
  }

  /** Takes free leases until this writer owns `upTo` partitions or none is free. */
  async #acquire(upTo: number): Promise<void> {
    const { leases, layout } = this.#context;
    const now = Date.now();
    // Writers start their search at different partitions, so they rarely race for the same one.
    const offset = searchOffsetOf(this.#writerId, layout.partitionCount);
    const candidates = layout
      .partitions()
      .map((_, i) => (i + offset) % layout.partitionCount)
      .filter((p) => !this.#readers.has(p) && (this.#cooldownUntil.get(p) ?? 0) <= now);
    const taken: Lease[] = [];
    for (const partition of candidates) {
      if (this.#readers.size + taken.length >= upTo || this.#stopping) break;
      const lease = await leases.acquire(partition, this.#writerId, this.#timings.leaseTtlMs);
      if (lease) taken.push(lease);
    }
    await Promise.all(taken.map((lease) => this.#open(lease)));
  }

  async #open(lease: Lease): Promise<void> {
    const { layout, redis, leases, options } = this.#context;
    const worker = new Worker(layout.queueOf(lease.partition), null, {
      connection: redis,
      prefix: layout.prefix,
      lockDuration: this.#timings.lockDurationMs,
      stalledInterval: this.#timings.stalledIntervalMs,
      // A crash must never fail a batch: it only ever goes back to the front.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
      autorun: false,
      // No BullMQ telemetry here: a worker's polls and stalled checks would
      // each be a trace of their own. Its Redis calls made while a batch is
      // settled appear under the writer's spans (ioredis instrumentation).
    });
    const doing = `opening partition ${lease.partition}`;
    const working = `BullMQ worker of partition ${lease.partition}`;
    worker.on('error', (error) => options.onBackgroundError(translateError(error, working)));
    try {
      await translated(doing, () =>
        withDeadline(worker.waitUntilReady(), options.operationTimeoutMs, doing),
      );
      // The documented way to recover stalled jobs when fetching manually: runs
      // now and every stalledInterval, moving jobs whose lock expired (a dead
      // owner's batch) back to the front of the line.
      await worker.startStalledCheckTimer();
    } catch (error) {
      options.onBackgroundError(translateError(error, doing));
      await bestEffort(
        `closing worker of ${lease.partition}`,
        () => worker.close(),
        options.onBackgroundError,
      );
      await bestEffort(
        `releasing ${lease.partition}`,
        () => leases.release(lease),
        options.onBackgroundError,
      );
      return;
    }
    const reader = new BullmqPartitionReader({
      lease,
      worker,
      leases,
      timings: this.#timings,
      options,
      onEnd: (ended, how) => this.#ended(ended, how),
    });
    if (this.#stopping) {
      await reader.end('stopped');
      return;
    }
    this.#readers.set(lease.partition, reader);
    this.#handlers?.gained(reader);
  }

  #ended(reader: BullmqPartitionReader, how: ReaderEnd): void {
    if (this.#readers.get(reader.partition) !== reader) return;
    this.#readers.delete(reader.partition);
    if (how === 'released' || how === 'rebalanced' || reader.revoked.aborted) {
      this.#cooldownUntil.set(reader.partition, Date.now() + this.#timings.leaseTtlMs);
    }
    // The writer released itself (perhaps when asked to); every other end is news to it.
    if (how !== 'released') this.#handlers?.lost(reader.partition);
  }
}
