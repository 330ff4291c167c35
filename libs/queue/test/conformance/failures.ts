import { describe, expect, it } from 'vitest';
import { REQUEUED_AT_HEADER, isQueueError, type DeliveredBatch } from '../../src/index.ts';
import { TEST_TIMEOUT_MS, batch, text, type ConformanceContext } from './conformance-context.ts';

/** Failures: retries stay first, crashes return the batch first, dead letters. */
export function describeFailureBehaviours(ctx: ConformanceContext): void {
  const { setUp, startWriter, readerOf, drain, later } = ctx;

  describe('failures', () => {
    it(
      'keeps a failed batch first in line and counts its failed attempts',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const publisher = transport.publisher();
        await publisher.publish(batch(0, 1));
        await publisher.publish(batch(0, 2));
        const reader = await readerOf(await startWriter(transport, 'w1'), 0);
        const first = (await reader.next(1000)) as DeliveredBatch;
        expect([text(first), first.failedAttempts]).toEqual(['p0#1', 0]);
        await reader.fail(first, new Error('lake throttled'));
        const again = (await reader.next(1000)) as DeliveredBatch;
        expect([again.id, text(again), again.failedAttempts]).toEqual([first.id, 'p0#1', 1]);
        await reader.fail(again, new Error('lake throttled'));
        const third = (await reader.next(1000)) as DeliveredBatch;
        expect([text(third), third.failedAttempts]).toEqual(['p0#1', 2]);
        await reader.ack(third);
        const second = (await reader.next(1000)) as DeliveredBatch;
        expect([text(second), second.failedAttempts]).toEqual(['p0#2', 0]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'returns the batch held by a writer that vanished first to the next owner, with its attempts',
      async () => {
        const { open } = await setUp(1);
        const doomed = await open();
        const publisher = doomed.transport.publisher();
        for (const seq of [1, 2, 3]) await publisher.publish(batch(0, seq));
        const readerA = await readerOf(await startWriter(doomed.transport, 'writer-a'), 0);
        const held = (await readerA.next(1000)) as DeliveredBatch;
        await readerA.fail(held, new Error('lake throttled'));
        await doomed.sever();
        const b = await startWriter((await open()).transport, 'writer-b');
        const readerB = await readerOf(b, 0);
        const first = (await readerB.next(ctx.harness.leaseTtlMs * 3)) as DeliveredBatch;
        expect([first.id, text(first), first.failedAttempts]).toEqual([held.id, 'p0#1', 1]);
        await readerB.ack(first);
        expect((await drain(readerB)).map(text)).toEqual(['p0#2', 'p0#3']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'returns the batch of a SIGKILLed writer process first to the next owner, with its attempts',
      async () => {
        const { namespace, open } = await setUp(2);
        const { transport } = await open();
        const publisher = transport.publisher();
        for (const seq of [1, 2]) await publisher.publish(batch(0, seq));
        const child = await ctx.harness.spawnDoomedWriter(namespace, 2);
        later(() => child.kill());
        const held = await child.holding;
        expect(held.failedAttempts).toBe(1);
        await child.kill();
        const reader = await readerOf(await startWriter(transport, 'survivor'), 0);
        const first = (await reader.next(ctx.harness.leaseTtlMs * 3)) as DeliveredBatch;
        expect([first.id, text(first), first.failedAttempts]).toEqual([held.id, 'p0#1', 1]);
        await reader.ack(first);
        expect((await drain(reader)).map(text)).toEqual(['p0#2']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'moves a dead-lettered batch out of the line and lists it with its reason',
      async () => {
        const { open } = await setUp(2);
        const { transport } = await open();
        const publisher = transport.publisher();
        await publisher.publish(batch(1, 1));
        await publisher.publish(batch(1, 2));
        const reader = await readerOf(await startWriter(transport, 'w1'), 1);
        const poison = (await reader.next(1000)) as DeliveredBatch;
        await reader.fail(poison, new Error('undecodable'));
        const before = Date.now();
        await reader.deadLetter(poison, {
          reason: 'BATCH_INVALID: not BSON',
          eventsInLake: ['0001763731200-0000000001-0000000000'],
        });
        const after = Date.now();
        expect((await drain(reader)).map(text)).toEqual(['p1#2']);
        const deadLetters = transport.deadLetters();
        expect(await deadLetters.count()).toBe(1);
        const [listed, ...others] = await deadLetters.list();
        expect(others).toEqual([]);
        expect(listed).toMatchObject({
          id: poison.id,
          partition: 1,
          reason: 'BATCH_INVALID: not BSON',
          eventsInLake: ['0001763731200-0000000001-0000000000'],
          failedAttempts: 1,
          headers: batch(1, 1).headers,
        });
        expect(text(listed as { body: Uint8Array })).toBe('p1#1');
        const at = (listed as { deadLetteredAt: Date }).deadLetteredAt.getTime();
        expect(at).toBeGreaterThanOrEqual(before - 1000);
        expect(at).toBeLessThanOrEqual(after + 1000);
        expect(await deadLetters.list({ partition: 0 })).toEqual([]);
        expect(await deadLetters.list({ partition: 1, limit: 1 })).toHaveLength(1);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'requeues a dead letter onto its partition and removes it from the set',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const publisher = transport.publisher();
        await publisher.publish(batch(0, 1));
        await publisher.publish(batch(0, 2));
        const reader = await readerOf(await startWriter(transport, 'w1'), 0);
        const poison = (await reader.next(1000)) as DeliveredBatch;
        const inLake = ['0001763731200-0000000001-0000000000'];
        await reader.deadLetter(poison, { reason: 'schema mismatch', eventsInLake: inLake });
        const deadLetters = transport.deadLetters();
        await deadLetters.requeue(poison.id);
        expect(await deadLetters.count()).toBe(0);
        const replayed = await drain(reader);
        expect(replayed.map(text)).toEqual(['p0#2', 'p0#1']);
        expect(replayed[0]?.headers[REQUEUED_AT_HEADER]).toBeUndefined();
        const requeuedAt = Date.parse(replayed[1]?.headers[REQUEUED_AT_HEADER] ?? '');
        expect(Math.abs(Date.now() - requeuedAt)).toBeLessThan(60_000);
        // The replay knows what its dead letter recorded as in the lake.
        expect(replayed[1]?.eventsInLake).toEqual(inLake);
        expect(replayed[0]?.eventsInLake).toBeUndefined();
        const unknown = await deadLetters.requeue(poison.id).catch((error: unknown) => error);
        expect(isQueueError(unknown) && unknown.code).toBe('NOT_FOUND');
      },
      TEST_TIMEOUT_MS,
    );
  });
}
