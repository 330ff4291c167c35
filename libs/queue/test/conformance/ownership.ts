import { describe, expect, it } from 'vitest';
import { isQueueError, type PartitionReader } from '../../src/index.ts';
import { eventually } from '../support/eventually.ts';
import { TEST_TIMEOUT_MS, type ConformanceContext } from './conformance-context.ts';

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
        expect(a.lost.sort((x, y) => x - y)).toEqual(b.claims.owned());
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
      'takes over the partitions of a writer that stopped renewing, with larger fencing tokens',
      async () => {
        const { open } = await setUp(4);
        const doomed = await open();
        const a = await startWriter(doomed.transport, 'writer-a');
        const tokensOfA = new Map(a.gained.map((r) => [r.partition, r.fencingToken]));
        const signalsOfA = a.gained.map((r) => r.lost);
        expect(tokensOfA.size).toBe(4);
        await doomed.sever();
        const b = await startWriter((await open()).transport, 'writer-b');
        await eventually('writer b to own all 4', () => b.claims.owned().length === 4);
        for (const reader of b.readers.values()) {
          expect(reader.fencingToken).toBeGreaterThan(tokensOfA.get(reader.partition) as number);
        }
        await eventually('writer a to learn it lost them', () =>
          signalsOfA.every((s) => s.aborted),
        );
        await eventually('writer a to be told of all 4', () => a.lost.length === 4);
        expect([...a.lost].sort((x, y) => x - y)).toEqual([0, 1, 2, 3]);
      },
      TEST_TIMEOUT_MS,
    );
  });
}
