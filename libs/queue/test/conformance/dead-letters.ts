import { describe, expect, it } from 'vitest';
import {
  isQueueError,
  type DeadLetter,
  type DeadLetterStore,
  type DeliveredBatch,
  type PartitionReader,
} from '../../src/index.ts';
import { TEST_TIMEOUT_MS, batch, text, type ConformanceContext } from './conformance-context.ts';

/** The error code `operation` failed with, or 'resolved'. */
async function outcomeOf(operation: Promise<unknown>): Promise<string> {
  try {
    await operation;
    return 'resolved';
  } catch (error) {
    return isQueueError(error) ? error.code : String(error);
  }
}

/** Takes the next batch of `reader` and dead-letters it with `reason`; returns what was delivered. */
async function deadLetterNext(reader: PartitionReader, reason: string): Promise<DeliveredBatch> {
  const delivered = (await reader.next(1000)) as DeliveredBatch;
  await reader.deadLetter(delivered, { reason, eventsInLake: [] });
  return delivered;
}

/**
 * Resolves once this process's clock reads later than `instant`, so what
 * happens next is stamped later (both adapters stamp dead letters with it).
 */
async function clockPast(instant: Date): Promise<void> {
  while (Date.now() <= instant.getTime()) await new Promise((resolve) => setTimeout(resolve, 1));
}

const ids = (letters: readonly DeadLetter[]) => letters.map((letter) => letter.id);

/** An operator's view of dead letters: one by id, removal, time filters, the first failure. */
export function describeDeadLetterBehaviours(ctx: ConformanceContext): void {
  const { setUp, startWriter, readerOf, drain } = ctx;

  describe('dead letters for operators', () => {
    it(
      'finds a dead letter by its id, and nothing for an id that is not a dead letter',
      async () => {
        const { open } = await setUp(2);
        const { transport } = await open();
        const publisher = transport.publisher();
        await publisher.publish(batch(1, 1));
        await publisher.publish(batch(1, 2));
        const reader = await readerOf(await startWriter(transport, 'w1'), 1);
        const poison = await deadLetterNext(reader, 'schema mismatch\nfield x is a string');
        const deadLetters = transport.deadLetters();
        const [listed] = await deadLetters.list();
        const found = (await deadLetters.get(poison.id)) as DeadLetter;
        expect(found).toEqual(listed);
        expect([found.partition, found.reason, text(found)]).toEqual([
          1,
          'schema mismatch\nfield x is a string',
          'p1#1',
        ]);
        // The batch behind it is in the line, not a dead letter.
        const waiting = (await reader.next(1000)) as DeliveredBatch;
        expect(text(waiting)).toBe('p1#2');
        expect(await deadLetters.get(waiting.id)).toBeUndefined();
        expect(await deadLetters.get('p1.g9.s9')).toBeUndefined();
        expect(await deadLetters.get('no-such-id')).toBeUndefined();
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'purges one dead letter and leaves the other dead letters and the line as they were',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const publisher = transport.publisher();
        for (const seq of [1, 2, 3]) await publisher.publish(batch(0, seq));
        const reader = await readerOf(await startWriter(transport, 'w1'), 0);
        const first = await deadLetterNext(reader, 'first');
        const second = await deadLetterNext(reader, 'second');
        const deadLetters: DeadLetterStore = transport.deadLetters();

        await deadLetters.purge(second.id);

        expect(ids(await deadLetters.list())).toEqual([first.id]);
        expect(await deadLetters.count()).toBe(1);
        expect(await deadLetters.get(second.id)).toBeUndefined();
        // Purging again is refused like any id that is not a dead letter (each scan costs a
        // second on Service Bus, so one case stands for both).
        expect(await outcomeOf(deadLetters.purge(second.id))).toBe('NOT_FOUND');
        // Passed over on the way to the one purged, the other is free at once:
        // requeueing it right away finds it (a message left locked would not be).
        await deadLetters.requeue(first.id);
        expect(await deadLetters.count()).toBe(0);
        expect((await drain(reader)).map(text)).toEqual(['p0#3', 'p0#1']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'refuses to purge a batch that is in the line, and still delivers it',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        await transport.publisher().publish(batch(0, 1));
        const reader = await readerOf(await startWriter(transport, 'w1'), 0);
        const held = (await reader.next(1000)) as DeliveredBatch;
        await reader.fail(held, new Error('lake throttled'));
        expect(await outcomeOf(transport.deadLetters().purge(held.id))).toBe('NOT_FOUND');
        const again = (await reader.next(1000)) as DeliveredBatch;
        expect([again.id, text(again)]).toEqual([held.id, 'p0#1']);
        await reader.ack(again);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'lists only the dead letters from `since` on, with the partition filter still applied',
      async () => {
        const { open } = await setUp(2);
        const { transport } = await open();
        const publisher = transport.publisher();
        for (const p of [0, 1]) for (const seq of [1, 2]) await publisher.publish(batch(p, seq));
        const writer = await startWriter(transport, 'w1');
        const [reader0, reader1] = [await readerOf(writer, 0), await readerOf(writer, 1)];
        const early = await deadLetterNext(reader0, 'early');
        const deadLetters = transport.deadLetters();
        const earlyAt = ((await deadLetters.get(early.id)) as DeadLetter).deadLetteredAt;
        const since = new Date(earlyAt.getTime() + 1);
        await clockPast(earlyAt);
        const late0 = await deadLetterNext(reader0, 'late');
        const late1 = await deadLetterNext(reader1, 'late');
        for (const late of [late0, late1]) {
          const at = ((await deadLetters.get(late.id)) as DeadLetter).deadLetteredAt;
          expect(at.getTime()).toBeGreaterThanOrEqual(since.getTime());
        }

        expect(ids(await deadLetters.list())).toEqual([early.id, late0.id, late1.id]);
        expect(ids(await deadLetters.list({ since }))).toEqual([late0.id, late1.id]);
        expect(ids(await deadLetters.list({ since, partition: 1 }))).toEqual([late1.id]);
        expect(ids(await deadLetters.list({ since, limit: 1 }))).toEqual([late0.id]);
        expect(await deadLetters.list({ since: new Date(Date.now() + 60_000) })).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'records when a batch first failed, across a change of owner, and starts again after a requeue',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const publisher = transport.publisher();
        await publisher.publish(batch(0, 1));
        await publisher.publish(batch(0, 2));
        const first = await startWriter(transport, 'w1');
        const readerA = await readerOf(first, 0);
        const flaky = (await readerA.next(1000)) as DeliveredBatch;
        const beforeFirstFailure = Date.now();
        await readerA.fail(flaky, new Error('lake throttled'));
        const afterFirstFailure = Date.now();
        // The next owner goes on counting from the first owner's record.
        const second = await startWriter(transport, 'w2');
        await readerA.release();
        const readerB = await readerOf(second, 0);
        const again = (await readerB.next(5000)) as DeliveredBatch;
        expect([again.id, again.failedAttempts]).toEqual([flaky.id, 1]);
        await readerB.fail(again, new Error('lake throttled'));
        await readerB.deadLetter(again, { reason: 'gave up', eventsInLake: [] });
        const deadLetters = transport.deadLetters();
        const flakyLetter = (await deadLetters.get(flaky.id)) as DeadLetter;
        expect(flakyLetter.failedAttempts).toBe(2);
        const firstFailedAt = flakyLetter.firstFailedAt?.getTime() ?? NaN;
        expect(firstFailedAt).toBeGreaterThanOrEqual(beforeFirstFailure - 1000);
        expect(firstFailedAt).toBeLessThanOrEqual(afterFirstFailure + 1000);
        expect(firstFailedAt).toBeLessThanOrEqual(flakyLetter.deadLetteredAt.getTime());

        // A poison batch dead-lettered on its first failure first failed then.
        const beforePoison = Date.now();
        const poison = await deadLetterNext(readerB, 'poison');
        const poisonLetter = (await deadLetters.get(poison.id)) as DeadLetter;
        expect(poisonLetter.failedAttempts).toBe(0);
        const poisonFailedAt = poisonLetter.firstFailedAt?.getTime() ?? NaN;
        expect(poisonFailedAt).toBeGreaterThanOrEqual(beforePoison - 1000);
        expect(poisonFailedAt).toBeLessThanOrEqual(poisonLetter.deadLetteredAt.getTime());

        // Requeued after a fix, the batch starts a new record.
        await deadLetters.requeue(flaky.id);
        const replay = (await readerB.next(5000)) as DeliveredBatch;
        expect([text(replay), replay.failedAttempts]).toEqual(['p0#1', 0]);
        const beforeRequeuedFailure = Date.now();
        await readerB.deadLetter(replay, { reason: 'still broken', eventsInLake: [] });
        const [requeuedLetter] = (await deadLetters.list()).filter((l) => text(l) === 'p0#1');
        expect(requeuedLetter?.firstFailedAt?.getTime()).toBeGreaterThanOrEqual(
          beforeRequeuedFailure - 1000,
        );
      },
      TEST_TIMEOUT_MS,
    );
  });
}
