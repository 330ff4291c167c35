import { describe, expect, it } from 'vitest';
import { isQueueError, type DeliveredBatch, type PartitionReader } from '../../src/index.ts';
import { eventually } from '../support/eventually.ts';
import { TEST_TIMEOUT_MS, batch, text, type ConformanceContext } from './conformance-context.ts';

/** Ownership: spreading partitions, handing them over, fencing. */
export function describeOwnershipBehaviours(ctx: ConformanceContext): void {
  const { setUp, startWriter } = ctx;

  describe('ownership', () => {
    it(
      'splits 8 partitions about evenly between two writers, never sharing one',
      async () => {
        const { open } = await setUp(8);
        const a = await startWriter((await open()).transport, 'writer-a');
        expect(a.claims.owned()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        const b = await startWriter((await open()).transport, 'writer-b');
        await eventually('both writers to own 4 partitions', () => {
          const [ownedA, ownedB] = [a.claims.owned(), b.claims.owned()];
          return ownedA.length === 4 && ownedB.length === 4;
        });
        const all = [...a.claims.owned(), ...b.claims.owned()].sort((x, y) => x - y);
        expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        // Handed over on request, not taken away.
        expect(a.revoked.sort((x, y) => x - y)).toEqual(b.claims.owned());
        expect(a.lost).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      "gives a stopped writer's partitions to the other before its leases would expire",
      async () => {
        const { open } = await setUp(8);
        const a = await startWriter((await open()).transport, 'writer-a');
        const b = await startWriter((await open()).transport, 'writer-b');
        await eventually('an even split', () => a.claims.owned().length === 4);
        const stoppedAt = Date.now();
        await a.claims.stop();
        expect(a.claims.owned()).toEqual([]);
        await eventually('writer b to own all 8', () => b.claims.owned().length === 8);
        expect(Date.now() - stoppedAt).toBeLessThan(ctx.harness.leaseTtlMs);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'releases a partition so another writer takes it at once',
      async () => {
        const { open } = await setUp(2);
        const a = await startWriter((await open()).transport, 'writer-a');
        const b = await startWriter((await open()).transport, 'writer-b');
        await eventually('an even split', () => a.claims.owned().length === 1);
        const [partition] = a.claims.owned() as [number];
        const reader = a.readers.get(partition) as PartitionReader;
        const releasedAt = Date.now();
        await reader.release();
        await reader.release();
        expect(reader.lost.aborted).toBe(true);
        await eventually('writer b to take it', () => b.claims.owned().includes(partition));
        expect(Date.now() - releasedAt).toBeLessThan(ctx.harness.leaseTtlMs);
        const error = await reader.next(10).catch((e: unknown) => e);
        expect(isQueueError(error) && error.code).toBe('OWNERSHIP_LOST');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'takes over the partitions of a writer that stopped renewing',
      async () => {
        const { open } = await setUp(4);
        const doomed = await open();
        const a = await startWriter(doomed.transport, 'writer-a');
        const signalsOfA = a.gained.map((r) => r.lost);
        expect(signalsOfA).toHaveLength(4);
        await doomed.sever();
        const b = await startWriter((await open()).transport, 'writer-b');
        await eventually('writer b to own all 4', () => b.claims.owned().length === 4);
        await eventually('writer a to learn it lost them', () =>
          signalsOfA.every((s) => s.aborted),
        );
        // Cut off from the broker, a writer is first asked to give its
        // partitions back (the lease may still hold), and told they are lost
        // once the lease must have expired — whichever comes first for each.
        const toldOf = () => [...new Set([...a.lost, ...a.revoked])].sort((x, y) => x - y);
        await eventually('writer a to be told of all 4', () => toldOf().length === 4);
        expect(toldOf()).toEqual([0, 1, 2, 3]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'moves a partition on rebalance only once its owner has finished the batch in hand and released it',
      async () => {
        const { open } = await setUp(2);
        const { transport } = await open();
        const publisher = transport.publisher();
        for (const seq of [1, 2]) await publisher.publish(batch(1, seq));
        const a = await startWriter(transport, 'writer-a', { releaseWhenRevoked: false });
        const readerA = await ctx.readerOf(a, 1);
        const inHand = (await readerA.next(1000)) as DeliveredBatch;
        expect(text(inHand)).toBe('p1#1');
        const b = await startWriter((await open()).transport, 'writer-b');
        await eventually('writer a to be asked for partition 1', () => readerA.revoked.aborted);
        // Still a's: b waits while a finishes, however many renewals pass.
        await new Promise((resolve) => setTimeout(resolve, ctx.harness.leaseTtlMs / 2));
        expect(b.claims.owned()).not.toContain(1);
        expect(readerA.lost.aborted).toBe(false);
        await readerA.ack(inHand);
        await readerA.release();
        const readerB = await ctx.readerOf(b, 1);
        expect((await ctx.drain(readerB)).map(text)).toEqual(['p1#2']);
        expect(a.lost).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'takes a partition from an owner that does not give it back within a lease TTL',
      async () => {
        const { open } = await setUp(2);
        const a = await startWriter((await open()).transport, 'writer-a', {
          releaseWhenRevoked: false,
        });
        const readerA = await ctx.readerOf(a, 1);
        const b = await startWriter((await open()).transport, 'writer-b');
        await eventually('writer a to be asked for partition 1', () => readerA.revoked.aborted);
        const askedAt = Date.now();
        await eventually('writer b to own partition 1', () => b.claims.owned().includes(1));
        expect(Date.now() - askedAt).toBeGreaterThanOrEqual(ctx.harness.leaseTtlMs / 2);
        expect(readerA.lost.aborted).toBe(true);
        expect(a.lost).toEqual([1]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'asks for room before each fetch, and keeps it only with a batch',
      async () => {
        const { open } = await setUp(1);
        const { transport } = await open();
        const reader = await ctx.readerOf(await startWriter(transport, 'w1'), 0);
        let held = 0;
        let reserved = 0;
        const reserve = async () => {
          reserved += 1;
          held += 1;
          let released = false;
          return {
            release: () => {
              if (!released) held -= 1;
              released = true;
            },
          };
        };
        expect(await reader.next(200, { reserve })).toBeUndefined();
        expect(reserved).toBeGreaterThan(0);
        expect(held).toBe(0);
        await transport.publisher().publish(batch(0, 1));
        const delivered = await reader.next(2000, { reserve });
        expect(delivered && text(delivered)).toBe('p0#1');
        expect(held).toBe(1);
      },
      TEST_TIMEOUT_MS,
    );
  });
}
