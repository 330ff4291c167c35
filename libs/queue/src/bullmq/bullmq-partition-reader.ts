import { sleep } from '@tributary/core';
import type { Job, Worker } from 'bullmq';
import { QueueError } from '../queue-error.ts';
import type {
  DeadLetterNote,
  DeliveredBatch,
  FetchOptions,
  FetchRoom,
  PartitionReader,
} from '../transport.ts';
import type { LeaseTimings, ResolvedBullmqOptions } from './bullmq-options.ts';
import { bodyOf, decodePayload, type JobPayload } from './job-payload.ts';
import type { Lease, LeaseStore } from './lease-store.ts';
import { renewalVerdict } from '../ownership/share-policy.ts';
import { bestEffort, translateError, translated } from './translate-error.ts';

/** Why a reader stopped owning its partition. */
export type ReaderEnd = 'released' | 'lost' | 'rebalanced' | 'stopped';

/** The job a reader has taken from Redis and not yet acknowledged or dead-lettered. */
interface HeldJob {
  readonly job: Job;
  /** The BullMQ lock token it was fetched with. */
  readonly token: string;
  readonly payload: JobPayload;
  /** An ack or dead-letter is in flight: its lock may vanish because the job is settled. */
  settling?: boolean;
}

/** What a reader needs from the claims that created it. */
export interface ReaderContext {
  readonly lease: Lease;
  /** A BullMQ worker without processor on the partition's queue (manual fetching). */
  readonly worker: Worker;
  readonly leases: LeaseStore;
  readonly timings: LeaseTimings;
  readonly options: ResolvedBullmqOptions;
  /** Called once, after the reader has put its batch back and freed the lease. */
  readonly onEnd: (reader: BullmqPartitionReader, end: ReaderEnd) => void;
}

/**
 * Reads one owned partition strictly in order, one BullMQ job at a time.
 *
 * The job at the head stays active (locked by this reader) from `next` until
 * `ack` or `deadLetter`; `fail` only counts the attempt and the same job is
 * handed out again. When ownership ends, the held job is moved back to the
 * FRONT of the line (BullMQ's moveToWait pushes where jobs are taken from).
 * When the owner dies instead, its lock expires before its lease, and the
 * next owner's BullMQ stalled-job check (which also pushes to the front)
 * returns the job — and because the queue admits one active job at a time,
 * nothing can be fetched before it.
 */
export class BullmqPartitionReader implements PartitionReader {
  readonly partition: number;
  readonly #context: ReaderContext;
  readonly #abort = new AbortController();
  readonly #revoke = new AbortController();
  #held: HeldJob | undefined;
  #fetches = 0;
  /** When the last renewal that reached Redis started: the lease holds until this + TTL. */
  #renewedAt: number;
  #revokedAt: number | undefined;
  #ending: Promise<void> | undefined;

  constructor(context: ReaderContext) {
    this.#context = context;
    this.partition = context.lease.partition;
    this.#renewedAt = context.lease.acquiredAt;
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
    const deadline = Date.now() + Math.max(0, waitMs);
    const wake = signal ? AbortSignal.any([this.lost, signal]) : this.lost;
    for (;;) {
      const room: FetchRoom | undefined = await reserve?.();
      let batch: DeliveredBatch | undefined;
      try {
        batch = signal?.aborted ? undefined : await this.#fetch();
      } finally {
        // Room is only kept for a batch actually taken out of Redis.
        if (!batch) room?.release();
      }
      if (batch) return batch;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signal?.aborted) return undefined;
      await sleep(Math.min(this.#context.options.pollIntervalMs, remaining), wake);
      if (signal?.aborted) return undefined;
      this.#assertOwned('reading');
    }
  }

  async ack(batch: DeliveredBatch): Promise<void> {
    const held = this.#requireHeld(batch, 'acknowledging');
    held.settling = true;
    try {
      await held.job.moveToCompleted(null, held.token, false);
    } catch (error) {
      const failure = translateError(error, `acknowledging batch ${batch.id}`);
      // Gone already: an earlier ack whose reply was lost, or Redis lost its
      // data (capture refills it). Either way there is nothing left to remove.
      if (failure.code !== 'NOT_FOUND') {
        held.settling = false;
        throw this.#onFailure(failure);
      }
    }
    this.#held = undefined;
  }

  async fail(batch: DeliveredBatch, _error: Error): Promise<void> {
    const held = this.#requireHeld(batch, 'recording a failure of');
    const doing = `recording a failure of batch ${batch.id}`;
    // Keeping the job active (not BullMQ's retry, which re-queues at the back)
    // is what keeps it first in line; extending the lock proves it is still ours.
    const locked = await this.#guarded(doing, () =>
      held.job.extendLock(held.token, this.#context.timings.lockDurationMs),
    );
    if (!locked)
      throw this.#onFailure(new QueueError('OWNERSHIP_LOST', `${doing}: its lock expired`));
    const payload: JobPayload = {
      ...held.payload,
      failedAttempts: held.payload.failedAttempts + 1,
      // Written with the count it belongs to, in the same update: no extra round trip.
      firstFailedAt: held.payload.firstFailedAt ?? new Date().toISOString(),
    };
    await this.#guarded(doing, () => held.job.updateData(payload));
    this.#held = { ...held, payload };
  }

  async deadLetter(batch: DeliveredBatch, note: DeadLetterNote): Promise<void> {
    const held = this.#requireHeld(batch, 'dead-lettering');
    const doing = `dead-lettering batch ${batch.id}`;
    // Which events reached the lake goes into the job data first; should
    // the move below not happen, the batch is delivered again and judged again.
    const payload: JobPayload = {
      ...held.payload,
      eventsInLake: [...note.eventsInLake],
      // Dead-lettered on its first failure (a poison batch): that is when it first failed.
      firstFailedAt: held.payload.firstFailedAt ?? new Date().toISOString(),
    };
    await this.#guarded(doing, () => held.job.updateData(payload));
    held.settling = true;
    try {
      // With attempts = 1, BullMQ moves the job straight to the partition's
      // failed set with the reason as failedReason, in one script.
      await this.#guarded(doing, () =>
        held.job.moveToFailed(new Error(note.reason), held.token, false),
      );
    } catch (error) {
      held.settling = false;
      throw error;
    }
    this.#held = undefined;
  }

  release(): Promise<void> {
    return this.end('released');
  }

  /**
   * Called by the claims at every renewal tick: extends the lease and the held
   * job's lock, or ends the reader as lost. When Redis cannot be reached the
   * lease may well still hold: a passing failure changes nothing; once half
   * the lease is gone unrenewed the writer is asked to give the partition
   * back (it finishes the batch in hand, whose writes the lake fences
   * anyway); only once the lease must have expired is the reader lost.
   * Never throws.
   */
  async renew(): Promise<boolean> {
    if (this.#ending) return false;
    const { leases, lease, timings } = this.#context;
    const doing = `renewing the lease of partition ${this.partition}`;
    const attemptedAt = Date.now();
    try {
      if (!(await leases.renew(lease, timings.leaseTtlMs))) {
        void this.end(
          'lost',
          new QueueError('OWNERSHIP_LOST', `${doing}: another writer holds it`),
        );
        return false;
      }
      const held = this.#held;
      const locked = !held || (await held.job.extendLock(held.token, timings.lockDurationMs)) === 1;
      // An ack or dead-letter settling the job meanwhile also removes its lock.
      if (!locked && this.#held === held && !held.settling) {
        void this.end('lost', new QueueError('OWNERSHIP_LOST', `${doing}: the batch lock expired`));
        return false;
      }
      this.#renewedAt = attemptedAt;
      return true;
    } catch (error) {
      const failure = translateError(error, doing);
      const verdict = renewalVerdict(
        failure.code,
        Date.now() - this.#renewedAt,
        timings.leaseTtlMs,
      );
      if (verdict === 'lost') {
        void this.end('lost', failure);
        return false;
      }
      this.#context.options.onBackgroundError(failure);
      if (verdict === 'revoke') this.revoke();
      return true;
    }
  }

  /**
   * Ends ownership: aborts `lost`, puts the held job back at the front, closes
   * the worker and frees the lease so the next owner can start at once.
   * Idempotent; resolves when all of that has been tried.
   */
  end(how: ReaderEnd, cause?: QueueError): Promise<void> {
    if (this.#ending) return this.#ending;
    if (cause) this.#context.options.onBackgroundError(cause);
    this.#abort.abort(
      cause ?? new QueueError('OWNERSHIP_LOST', `Partition ${this.partition} was ${how}.`),
    );
    this.#ending = this.#cleanUp(how);
    return this.#ending;
  }

  async #cleanUp(how: ReaderEnd): Promise<void> {
    const { worker, leases, lease, options, onEnd } = this.#context;
    const report = options.onBackgroundError;
    const held = this.#held;
    this.#held = undefined;
    if (held) {
      await bestEffort(
        `returning batch ${held.job.id}`,
        () => held.job.moveToWait(held.token),
        report,
      );
    }
    await bestEffort(
      `closing the worker of partition ${this.partition}`,
      () => worker.close(),
      report,
    );
    await bestEffort(`releasing partition ${this.partition}`, () => leases.release(lease), report);
    onEnd(this, how);
  }

  async #fetch(): Promise<DeliveredBatch | undefined> {
    const { leases, lease, worker } = this.#context;
    const doing = `reading partition ${this.partition}`;
    const ours = await this.#guarded(doing, () => leases.guardFetch(lease, worker.toKey('meta')));
    if (!ours) {
      void this.end('lost', new QueueError('OWNERSHIP_LOST', `${doing}: another writer holds it`));
      this.#assertOwned('reading');
    }
    this.#fetches += 1;
    const token = `${lease.value}:${this.#fetches}`;
    const job = await this.#guarded(doing, () => worker.getNextJob(token, { block: false }));
    if (!job) return undefined;
    if (this.#ending) {
      // Ownership ended while the fetch was in flight: the job must not stay active.
      await bestEffort(`returning batch ${job.id}`, () => job.moveToWait(token), this.#report);
      this.#assertOwned('reading');
    }
    const payload = decodePayload(job.data);
    if (!payload) {
      // Not written by this adapter: it can never be delivered, so it must not block the line.
      await this.#guarded(doing, () =>
        job.moveToFailed(new Error('job data is not a Tributary batch'), token, false),
      );
      return undefined;
    }
    this.#held = { job, token, payload };
    return this.#delivered(this.#held);
  }

  #delivered(held: HeldJob): DeliveredBatch {
    const { eventsInLake } = held.payload;
    return {
      id: String(held.job.id),
      partition: this.partition,
      body: bodyOf(held.payload),
      failedAttempts: held.payload.failedAttempts,
      headers: held.payload.headers,
      ...(eventsInLake === undefined ? {} : { eventsInLake }),
    };
  }

  /** Runs a Redis operation of an owned partition, ending ownership if it shows ownership is gone. */
  async #guarded<T>(doing: string, operation: () => Promise<T>): Promise<T> {
    this.#assertOwned(doing);
    try {
      return await translated(doing, operation);
    } catch (error) {
      throw this.#onFailure(error as QueueError);
    }
  }

  #onFailure(failure: QueueError): QueueError {
    if (failure.code === 'OWNERSHIP_LOST') void this.end('lost', failure);
    return failure;
  }

  #requireHeld(batch: DeliveredBatch, doing: string): HeldJob {
    this.#assertOwned(doing);
    const held = this.#held;
    if (!held || String(held.job.id) !== batch.id) {
      throw new QueueError(
        'NOT_FOUND',
        `${doing} batch ${batch.id}: partition ${this.partition}'s reader is not holding it (only the batch last returned by next() can be settled).`,
      );
    }
    return held;
  }

  #assertOwned(doing: string): void {
    if (this.#abort.signal.aborted) {
      throw new QueueError(
        'OWNERSHIP_LOST',
        `${doing}: this writer no longer owns partition ${this.partition}.`,
        { cause: this.#abort.signal.reason },
      );
    }
  }

  readonly #report = (error: QueueError): void => this.#context.options.onBackgroundError(error);
}
