import { type ChangeBatch, encodeBatch, formatOrderingKey } from '@tributary/core';
import { type Lake, LakeError } from '@tributary/lake';
import { type DeliveredBatch, type PartitionReader, REQUEUED_AT_HEADER } from '@tributary/queue';
import { describe, expect, it } from 'vitest';
import { InFlightBudget } from '../src/in-flight-budget.ts';
import { PartitionLoop } from '../src/partition-loop.ts';
import { T0, batchOf, changeEvent, fixture, keysInLake, silentLogger } from './support.ts';

/** A dead-lettered batch, with what the stored checkpoint said at that moment. */
interface DeadLettered {
  readonly batch: DeliveredBatch;
  readonly reason: string;
  readonly chainBrokenStoredFirst: boolean;
}

/**
 * One partition's line of batches, held in memory as the port describes it:
 * the head stays until acknowledged or dead-lettered; `fail` counts an
 * attempt and keeps it first.
 */
class BatchLine implements PartitionReader {
  readonly partition = 3;
  readonly fencingToken = 1;
  readonly lost = new AbortController().signal;
  readonly acked: DeliveredBatch[] = [];
  readonly deadLettered: DeadLettered[] = [];
  #line: DeliveredBatch[] = [];
  #nextId = 0;
  readonly #chainBroken: () => Promise<boolean>;

  constructor(chainBroken: () => Promise<boolean>) {
    this.#chainBroken = chainBroken;
  }

  push(batch: ChangeBatch | Uint8Array, headers: Record<string, string> = {}): void {
    const body = batch instanceof Uint8Array ? batch : encodeBatch(batch);
    this.#line.push({ id: `b${++this.#nextId}`, partition: 3, body, failedAttempts: 0, headers });
  }

  get waiting(): number {
    return this.#line.length;
  }

  async next(waitMs: number): Promise<DeliveredBatch | undefined> {
    const head = this.#line[0];
    if (head === undefined) await new Promise((r) => setTimeout(r, waitMs));
    return head;
  }
  async ack(batch: DeliveredBatch): Promise<void> {
    this.#remove(batch);
    this.acked.push(batch);
  }
  async fail(batch: DeliveredBatch): Promise<void> {
    this.#line[0] = { ...batch, failedAttempts: batch.failedAttempts + 1 };
  }
  async deadLetter(batch: DeliveredBatch, reason: string): Promise<void> {
    const chainBrokenStoredFirst = await this.#chainBroken();
    this.#remove(batch);
    this.deadLettered.push({ batch, reason, chainBrokenStoredFirst });
  }
  async release(): Promise<void> {}

  #remove(batch: DeliveredBatch) {
    this.#line = this.#line.filter((b) => b.id !== batch.id);
  }
}

/** A lake whose appends to paths containing `pathPart` always fail with a non-retryable error. */
function refusingAppendsTo(lake: Lake, pathPart: string): Lake {
  return new Proxy(lake, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== 'append') return value.bind(target);
      return (path: string, ...rest: unknown[]) =>
        path.includes(pathPart)
          ? Promise.reject(new LakeError('INVALID', `the lake refuses ${path}`))
          : (value as (...a: unknown[]) => unknown).apply(target, [path, ...rest]);
    },
  });
}

async function runUntilDrained(line: BatchLine, loop: PartitionLoop): Promise<void> {
  const running = loop.run();
  for (let i = 0; i < 500 && line.waiting > 0; i += 1) await new Promise((r) => setTimeout(r, 5));
  await loop.stop();
  await running;
  expect(line.waiting).toBe(0);
}

function setUp(lakeFor: (lake: Lake) => Lake = (lake) => lake) {
  const { lake, checkpoints, writer } = fixture();
  const line = new BatchLine(
    async () => (await checkpoints.readPartition(3))?.value.chainBroken === true,
  );
  const loop = new PartitionLoop(line, writer({ lake: lakeFor(lake) }), {
    partitionCount: 8,
    maxDeliveryAttempts: 3,
    backoff: {
      maxRetries: 10,
      initialIntervalMs: 1,
      maxIntervalMs: 2,
      maxElapsedMs: 1000,
      jitter: 0,
    },
    pollMs: 5,
    budget: new InFlightBudget(4, 1 << 20),
    logger: silentLogger,
  });
  return { lake, checkpoints, line, loop };
}

describe('a partition loop', () => {
  it('dead-letters an undecodable batch with its reason, having recorded the broken chain first, and goes on', async () => {
    const { lake, line, loop } = setUp();
    const events = Array.from({ length: 4 }, (_, n) => changeEvent(n));
    line.push(batchOf(3, events.slice(0, 2)));
    line.push(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    // The batch after the poison names the poison's last key, which no
    // writer ever saw: without the broken chain recorded it would look like
    // a batch following batches lost from the queue.
    line.push(batchOf(3, events.slice(2), formatOrderingKey({ t: T0, i: 2, n: 1 })));
    await runUntilDrained(line, loop);
    expect(line.deadLettered).toHaveLength(1);
    expect(line.deadLettered[0]?.reason).toMatch(/Undecodable change batch/);
    expect(line.deadLettered[0]?.chainBrokenStoredFirst).toBe(true);
    expect(await keysInLake(lake)).toEqual(events.map((e) => e.key));
  });

  it('dead-letters a batch that fails for a lasting reason maxDeliveryAttempts times, and the partition goes on', async () => {
    const { lake, line, loop } = setUp((lake) => refusingAppendsTo(lake, '/refused/'));
    const good = [changeEvent(0), changeEvent(2)];
    const bad = changeEvent(1, { coll: 'refused' });
    line.push(batchOf(3, [good[0] ?? bad]));
    line.push(batchOf(3, [bad], good[0]?.key));
    line.push(batchOf(3, [good[1] ?? bad], bad.key));
    await runUntilDrained(line, loop);
    expect(line.deadLettered.map((d) => d.reason)).toEqual([
      expect.stringMatching(/^failed 3 times: the lake refuses .*\/refused\//),
    ]);
    expect(line.deadLettered[0]?.batch.failedAttempts).toBe(2);
    expect(await keysInLake(lake)).toEqual(good.map((e) => e.key));
  });

  it('sends a requeued dead letter the checkpoint has passed back to the dead-letter set, saying why, instead of dropping it', async () => {
    const { lake, line, loop } = setUp();
    const events = Array.from({ length: 4 }, (_, n) => changeEvent(n));
    line.push(batchOf(3, events.slice(0, 2)));
    line.push(batchOf(3, events.slice(2), events[1]?.key));
    // An operator requeues an old dead letter holding events 0 and 1 — the
    // checkpoint is past them now.
    line.push(batchOf(3, events.slice(0, 2)), {
      [REQUEUED_AT_HEADER]: '2026-12-01T08:00:00.000Z',
    });
    await runUntilDrained(line, loop);
    expect(line.deadLettered.map((d) => d.reason)).toEqual([
      expect.stringMatching(/requeued batch is behind the partition's checkpoint/),
    ]);
    expect(await keysInLake(lake)).toEqual(events.map((e) => e.key));
  });
});
