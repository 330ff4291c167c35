import { describe, expect, it } from 'vitest';
import { isQueueError, type DeliveredBatch } from '../../src/index.ts';
import { eventually } from '../support/eventually.ts';
import { TEST_TIMEOUT_MS, batch, text, type ConformanceContext } from './conformance-context.ts';

/** Broker loss: the broker flushed, or down and back empty. Nothing crashes or wedges. */
export function describeBrokerLossBehaviours(ctx: ConformanceContext): void {
  const { setUpDisposableBroker, startWriter, readerOf, drain } = ctx;

  describe('broker loss', () => {
    it(
      'keeps publishing and re-owns partitions after the broker is wiped',
      async () => {
        const { broker, transport } = await setUpDisposableBroker(2);
        const ttl = ctx.harness.leaseTtlMs;
        const publisher = transport.publisher();
        await publisher.publish(batch(0, 1));
        const writer = await startWriter(transport, 'w1');
        const before = await readerOf(writer, 0);
        expect(text((await before.next(1000)) as DeliveredBatch)).toBe('p0#1');
        await broker.wipe();
        await eventually('ownership to be lost', () => before.lost.aborted, ttl * 4);
        await publisher.publish(batch(0, 2));
        if (publisher.backlog) expect(await publisher.backlog()).toBe(1);
        const after = await eventually(
          'partition 0 to be owned again',
          () => writer.readers.get(0) !== before && writer.readers.get(0),
          ttl * 4,
        );
        expect((await drain(after)).map(text)).toEqual(['p0#2']);
        expect(await transport.deadLetters().count()).toBe(0);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'changes the contents epoch when the broker loses its contents, and only then',
      async () => {
        const { broker, transport } = await setUpDisposableBroker(2);
        const publisher = transport.publisher();
        if (!ctx.harness.detectsContentsLoss) {
          expect(publisher.contentsEpoch).toBeUndefined();
          return;
        }
        const epoch = () => (publisher.contentsEpoch as () => Promise<string>).call(publisher);
        const first = await epoch();
        await publisher.publish(batch(0, 1));
        expect(await epoch()).toBe(first);
        expect(await transport.publisher().contentsEpoch?.()).toBe(first);
        await broker.wipe();
        const second = await epoch();
        expect(second).not.toBe(first);
        expect(await epoch()).toBe(second);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'fails with UNAVAILABLE while the broker is down and works again once it is back empty',
      async () => {
        const { broker, transport } = await setUpDisposableBroker(2);
        const ttl = ctx.harness.leaseTtlMs;
        const publisher = transport.publisher();
        const writer = await startWriter(transport, 'w1');
        const before = await readerOf(writer, 1);
        await broker.stop();
        const refused = await publisher.publish(batch(1, 1)).catch((error: unknown) => error);
        expect(isQueueError(refused) && [refused.code, refused.retryable]).toEqual([
          'UNAVAILABLE',
          true,
        ]);
        if (publisher.backlog) {
          const counting = await publisher.backlog().catch((error: unknown) => error);
          expect(isQueueError(counting) && counting.code).toBe('UNAVAILABLE');
        }
        await eventually('ownership to be lost', () => before.lost.aborted, ttl * 4);
        await broker.start();
        await eventually(
          'a publish to succeed again',
          () =>
            publisher.publish(batch(1, 2)).then(
              () => true,
              () => false,
            ),
          ttl * 6,
        );
        const after = await eventually(
          'partition 1 to be owned again',
          () => writer.readers.get(1) !== before && writer.readers.get(1),
          ttl * 6,
        );
        expect((await drain(after)).map(text)).toEqual(['p1#2']);
      },
      TEST_TIMEOUT_MS,
    );
  });
}
