import { describe, expect, it } from 'vitest';
import { isQueueError, type DeliveredBatch, type OutgoingBatch } from '../../src/index.ts';
import { TEST_TIMEOUT_MS, batch, text, type ConformanceContext } from './conformance-context.ts';

/** Delivery: order, duplicates, backlog and routing. */
export function describeDeliveryBehaviours(ctx: ConformanceContext): void {
  const { setUp, startWriter, readerOf, drain } = ctx;

  describe('delivery', () => {
    it(
      'delivers the batches of each partition in the order they were published',
      async () => {
        const { open } = await setUp(3);
        const { transport } = await open();
        const publisher = transport.publisher();
        const sent: OutgoingBatch[] = [];
        for (let seq = 0; seq < 40; seq += 1) sent.push(batch(seq % 3, seq));
        // Not awaited one by one: order must hold even for concurrent calls.
        await Promise.all(sent.map((b) => publisher.publish(b)));
        const writer = await startWriter(transport, 'w1');
        for (const partition of [0, 1, 2]) {
          const received = (await drain(await readerOf(writer, partition))).map(text);
          const expected = sent.filter((b) => b.partition === partition).map(text);
          expect(received).toEqual(expected);
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'ignores a second publish of a batch while the first copy waits',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const publisher = transport.publisher();
        await publisher.publish(batch(0, 1));
        await publisher.publish(batch(0, 1));
        await publisher.publish(batch(0, 2));
        // Where the transport counts its backlog, the copy is not in it either.
        if (publisher.backlog) expect(await publisher.backlog()).toBe(2);
        const writer = await startWriter(transport, 'w1');
        expect((await drain(await readerOf(writer, 0))).map(text)).toEqual(['p0#1', 'p0#2']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'counts waiting batches across partitions in the backlog',
      async () => {
        const { open } = await setUp(2);
        const { transport } = await open();
        const publisher = transport.publisher();
        if (!publisher.backlog) {
          // Service Bus counts a queue only for `Manage` rights, which Tributary never asks for.
          expect(ctx.harness.countsBacklog).toBe(false);
          return;
        }
        expect(await publisher.backlog()).toBe(0);
        for (const b of [batch(0, 1), batch(0, 2), batch(1, 3), batch(1, 4), batch(1, 5)]) {
          await publisher.publish(b);
        }
        expect(await publisher.backlog()).toBe(5);
        const writer = await startWriter(transport, 'w1');
        const reader = await readerOf(writer, 1);
        const first = await reader.next(1000);
        expect(first).toBeDefined();
        await reader.ack(first as DeliveredBatch);
        expect(await publisher.backlog()).toBe(4);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'hands a reader only the batches of its own partition, with their headers',
      async () => {
        const { open } = await setUp(4);
        const { transport } = await open();
        const publisher = transport.publisher();
        for (let seq = 0; seq < 12; seq += 1) await publisher.publish(batch(seq % 4, seq));
        const writer = await startWriter(transport, 'w1');
        for (const partition of [0, 1, 2, 3]) {
          const received = await drain(await readerOf(writer, partition));
          expect(received).toHaveLength(3);
          for (const delivered of received) {
            expect(delivered.partition).toBe(partition);
            expect(text(delivered)).toMatch(new RegExp(`^p${partition}#`));
            expect(delivered.headers).toEqual(batch(partition, 0).headers);
          }
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'closes idempotently and refuses work afterwards',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        await startWriter(transport, 'w1');
        await transport.close();
        await transport.close();
        expect(() => transport.publisher()).toThrow();
      },
      TEST_TIMEOUT_MS,
    );
    it(
      'refuses a batch larger than the transport accepts with TOO_LARGE, and takes one at the limit',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const publisher = transport.publisher();
        const limit = ctx.harness.maxBatchBytes;
        const oversized = { ...batch(0, 1), body: new Uint8Array(limit + 1) };
        const refused = await publisher.publish(oversized).catch((error: unknown) => error);
        expect(isQueueError(refused) && [refused.code, refused.retryable]).toEqual([
          'TOO_LARGE',
          false,
        ]);
        await publisher.publish({ ...batch(0, 2), body: new Uint8Array(limit).fill(7) });
        const writer = await startWriter(transport, 'w1');
        const [delivered, ...rest] = await drain(await readerOf(writer, 0));
        expect(rest).toEqual([]);
        expect(delivered?.body.byteLength).toBe(limit);
        expect(delivered?.body.every((byte) => byte === 7)).toBe(true);
      },
      TEST_TIMEOUT_MS,
    );
    it(
      'keeps the order when a wait for a batch is abandoned by the caller',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const reader = await readerOf(await startWriter(transport, 'w1'), 0);
        const abandoned = new AbortController();
        const waiting = reader.next(5000, { signal: abandoned.signal });
        setTimeout(() => abandoned.abort(), 100);
        expect(await waiting).toBeUndefined();
        const publisher = transport.publisher();
        for (const seq of [1, 2]) await publisher.publish(batch(0, seq));
        expect((await drain(reader)).map(text)).toEqual(['p0#1', 'p0#2']);
      },
      TEST_TIMEOUT_MS,
    );
    it(
      'waits up to waitMs for a batch and hands it over as soon as it is published',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const reader = await readerOf(await startWriter(transport, 'w1'), 0);
        const idleStart = Date.now();
        expect(await reader.next(300)).toBeUndefined();
        expect(Date.now() - idleStart).toBeGreaterThanOrEqual(250);
        const waiting = reader.next(5000);
        const publishedAt = Date.now() + 200;
        setTimeout(() => void transport.publisher().publish(batch(0, 1)), 200);
        const delivered = await waiting;
        expect(delivered && text(delivered)).toBe('p0#1');
        expect(Date.now() - publishedAt).toBeLessThan(2000);
      },
      TEST_TIMEOUT_MS,
    );
  });
}
