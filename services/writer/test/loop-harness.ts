import { type ChangeBatch, encodeBatch } from '@tributary/core';
import type { Lake } from '@tributary/lake';
import type {
  DeadLetterNote,
  DeliveredBatch,
  FetchOptions,
  PartitionReader,
} from '@tributary/queue';
import { Readiness } from '@tributary/telemetry';
import { InFlightBudget } from '../src/in-flight-budget.ts';
import { PartitionLoop, type PartitionLoopOptions } from '../src/partition-loop.ts';
import { fixture, silentLogger } from './support.ts';

/**
 * One partition's line of batches, held in memory as the port describes it:
 * the head stays until acknowledged or dead-lettered; `fail` counts an
 * attempt and keeps it first; room is reserved before every fetch.
 */
export class BatchLine implements PartitionReader {
  readonly partition = 3;
  readonly #lost = new AbortController();
  readonly #revoked = new AbortController();
  readonly acked: DeliveredBatch[] = [];
  readonly deadLettered: { batch: DeliveredBatch; note: DeadLetterNote }[] = [];
  released = false;
  /** Batches handed out without room reserved first. */
  unreserved = 0;
  /** While set, every fetch fails with what it returns, after room was reserved. */
  deliveryFailure: (() => unknown) | undefined;
  /** Fetches that failed so. */
  deliveryFailures = 0;
  #line: DeliveredBatch[] = [];
  #nextId = 0;

  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  get revoked(): AbortSignal {
    return this.#revoked.signal;
  }

  revoke(): void {
    this.#revoked.abort();
  }

  push(
    batch: ChangeBatch | Uint8Array,
    headers: Record<string, string> = {},
    eventsInLake?: string[],
  ): void {
    const body = batch instanceof Uint8Array ? batch : encodeBatch(batch);
    this.#line.push({
      id: `b${++this.#nextId}`,
      partition: 3,
      body,
      failedAttempts: 0,
      headers,
      ...(eventsInLake ? { eventsInLake } : {}),
    });
  }

  get waiting(): number {
    return this.#line.length;
  }

  async next(waitMs: number, options: FetchOptions = {}): Promise<DeliveredBatch | undefined> {
    const room = await options.reserve?.();
    if (this.deliveryFailure) {
      this.deliveryFailures += 1;
      // The room is left to the caller: the loop must not count on a
      // reader that threw to have given it back.
      throw this.deliveryFailure();
    }
    const head = this.#line[0];
    if (head === undefined) {
      room?.release();
      await new Promise((r) => setTimeout(r, waitMs));
      return undefined;
    }
    if (!room) this.unreserved += 1;
    return head;
  }
  /** While set, an acknowledgement fails with what it returns (nothing is removed). */
  ackFailure: (() => unknown) | undefined;

  async ack(batch: DeliveredBatch): Promise<void> {
    const failure = this.ackFailure?.();
    if (failure) throw failure;
    this.#remove(batch);
    this.acked.push(batch);
  }
  async fail(batch: DeliveredBatch): Promise<void> {
    this.#line[0] = { ...batch, failedAttempts: batch.failedAttempts + 1 };
  }
  async deadLetter(batch: DeliveredBatch, note: DeadLetterNote): Promise<void> {
    this.#remove(batch);
    this.deadLettered.push({ batch, note });
  }
  async release(): Promise<void> {
    this.released = true;
  }

  #remove(batch: DeliveredBatch) {
    this.#line = this.#line.filter((b) => b.id !== batch.id);
  }
}

/** Polls until `condition` holds (or fails the test after ~5 s). */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not met');
}

export function setUp(
  lakeFor: (lake: Lake) => Lake = (lake) => lake,
  budget = new InFlightBudget(4, 1 << 20),
  options: Partial<PartitionLoopOptions> = {},
) {
  const { lake, checkpoints, writer } = fixture();
  const line = new BatchLine();
  const readiness = new Readiness();
  const loop = new PartitionLoop(line, writer({ lake: lakeFor(lake), lost: line.lost }), {
    partitionCount: 8,
    writerId: 'w1',
    checkpoints,
    maxDeliveryAttempts: 3,
    backoff: {
      maxRetries: 10,
      initialIntervalMs: 1,
      maxIntervalMs: 2,
      maxElapsedMs: 1000,
      jitter: 0,
    },
    pollMs: 5,
    budget,
    maxBatchBytes: 64 * 1024,
    readiness,
    stuckAfterMs: 0,
    logger: silentLogger,
    ...options,
  });
  const running = loop.run();
  const drained = async () => {
    await until(() => line.waiting === 0);
    await loop.stop();
    await running;
  };
  return { lake, checkpoints, line, loop, readiness, running, drained };
}
