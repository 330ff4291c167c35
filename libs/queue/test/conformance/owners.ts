import { describe, expect, it } from 'vitest';
import type { PartitionHolder, QueueTransport } from '../../src/index.ts';
import { TEST_TIMEOUT_MS, type ConformanceContext } from './conformance-context.ts';

type Owners = Map<number, PartitionHolder>;

/** Partitions per writer id, e.g. `{ 'writer-a': [0, 2] }`, sorted. */
function byWriter(owners: Owners): Record<string, number[]> {
  const result: Record<string, number[]> = {};
  for (const [partition, { writerId }] of [...owners].sort(([a], [b]) => a - b))
    (result[writerId] ??= []).push(partition);
  return result;
}

/**
 * Reads `owners()` until `accept` holds, or fails with the last reading.
 * Not every 25 ms: on Service Bus each read takes the registry's lock, which
 * the writers need for their own updates.
 */
async function ownersUntil(
  transport: QueueTransport,
  what: string,
  accept: (owners: Owners) => boolean,
  timeoutMs = 12_000,
): Promise<Owners> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const owners = await transport.owners();
    if (accept(owners)) return owners;
    if (Date.now() > deadline)
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; owners: ${JSON.stringify(byWriter(owners))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Who holds which partition, as an operator's tool in another process reads it. */
export function describeOwnersBehaviours(ctx: ConformanceContext): void {
  const { setUp, startWriter } = ctx;

  describe('owners', () => {
    it(
      'names the writer holding each partition, as another process sees it, and no one once the writers stopped',
      async () => {
        const { open } = await setUp(4);
        const observer = (await open()).transport;
        expect(await observer.owners()).toEqual(new Map());
        const a = await startWriter((await open()).transport, 'writer-a');
        const b = await startWriter((await open()).transport, 'writer-b');
        // What each writer's own claims hold is the independent record.
        const split = await ownersUntil(observer, 'the split the writers hold', (owners) => {
          const [ownedA, ownedB] = [a.claims.owned(), b.claims.owned()];
          return (
            ownedA.length === 2 &&
            ownedB.length === 2 &&
            JSON.stringify(byWriter(owners)) ===
              JSON.stringify({ 'writer-a': ownedA, 'writer-b': ownedB })
          );
        });
        const now = Date.now();
        for (const holder of split.values()) expect(holder.until?.getTime()).toBeGreaterThan(now);
        await a.claims.stop();
        await ownersUntil(
          observer,
          'writer b to hold all 4',
          (owners) => JSON.stringify(byWriter(owners)) === '{"writer-b":[0,1,2,3]}',
        );
        await b.claims.stop();
        await ownersUntil(observer, 'no one to hold any', (owners) => owners.size === 0);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'stops naming a writer that vanished once its hold has run out',
      async () => {
        const { open } = await setUp(2);
        const observer = (await open()).transport;
        const doomed = await open();
        await startWriter(doomed.transport, 'writer-a');
        const held = await ownersUntil(observer, 'writer a to hold both', (o) => o.size === 2);
        const until = Math.max(...[...held.values()].map((h) => h.until?.getTime() ?? Infinity));
        expect(until).toBeLessThan(Infinity);
        await doomed.sever();
        await ownersUntil(observer, 'no one to hold any', (owners) => owners.size === 0);
        // Not before the hold it reported could have run out.
        expect(Date.now()).toBeGreaterThanOrEqual(until - 1000);
      },
      TEST_TIMEOUT_MS,
    );
  });
}
