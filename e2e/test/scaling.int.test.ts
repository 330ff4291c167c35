import { afterEach, expect, it } from 'vitest';
import { runMixedLoad } from '../src/mixed-load.ts';
import { PartitionOwners, byWriter } from '../src/partition-owners.ts';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

const PARTITIONS = 12;
const WRITERS = ['w1', 'w2', 'w3'];

describeOnTransports('the pipeline scaled out over several writers', (transport) => {
  let pipeline: Pipeline | undefined;
  let owners: PartitionOwners | undefined;
  afterEach(async () => {
    await owners?.close();
    owners = undefined;
    await pipeline?.close();
    pipeline = undefined;
  });

  it('spreads partitions over three writers, hands a stopped writer’s partitions to the others, and lands everything exactly once', async () => {
    pipeline = await Pipeline.start({
      transport,
      lake: 'adls',
      partitionCount: PARTITIONS,
      // Routing by document spreads the load over every partition, not just one per collection.
      env: { TRIBUTARY_PARTITION_KEY: 'namespace+documentKey' },
    });
    await pipeline.startCapture();
    const writers = WRITERS.map((name) => pipeline?.startWriter(name));
    owners = await PartitionOwners.of(pipeline);
    // The load runs until ownership has been observed: checkpoints (and the
    // heartbeats that refresh them) only move while the source has traffic.
    const stopLoad = new AbortController();
    const load = runMixedLoad(pipeline.client, {
      rounds: Number.MAX_SAFE_INTEGER,
      perRound: 5,
      signal: stopLoad.signal,
    });
    const victim = 'w2';
    let spread: Record<string, number[]>;
    let after: Record<string, number[]>;
    try {
      // Every writer checkpoints some partitions, none more than its share.
      const share = Math.ceil(PARTITIONS / WRITERS.length);
      spread = byWriter(
        await owners.until((current) => {
          const counts = Object.values(byWriter(current)).map((p) => p.length);
          return counts.length === WRITERS.length && counts.every((n) => n >= 1 && n <= share);
        }),
      );
      expect(Object.keys(spread).sort()).toEqual(WRITERS);

      // SIGTERM one writer mid-load: it finishes its batches and gives its leases up.
      const stoppedAt = new Date();
      expect((await writers[WRITERS.indexOf(victim)]?.stop('SIGTERM'))?.code).toBe(0);

      // Its partitions' later checkpoints are stored by the other writers, which now share all of them.
      const moved = spread[victim] ?? [];
      const survivorShare = Math.ceil(PARTITIONS / (WRITERS.length - 1));
      after = byWriter(
        await owners.until((current) => {
          const taken = current.filter((o) => moved.includes(o.partition));
          const counts = Object.values(byWriter(current)).map((p) => p.length);
          return (
            taken.every((o) => o.writerId !== victim && o.updatedAt > stoppedAt) &&
            counts.every((n) => n <= survivorShare)
          );
        }),
      );
    } finally {
      stopLoad.abort();
      await load;
    }
    expect(Object.keys(after).sort()).toEqual(WRITERS.filter((w) => w !== victim));

    const verification = await pipeline.waitUntilComplete();
    const { comparison } = verification;
    expect(comparison.produced).toBeGreaterThan(200);
    expectExactlyOnce(verification);
  });

  it('hands partitions over cooperatively when a writer joins: asked-back partitions are finished and released, never lost', async () => {
    pipeline = await Pipeline.start({
      transport,
      lake: 'adls',
      partitionCount: 6,
      env: { TRIBUTARY_PARTITION_KEY: 'namespace+documentKey' },
    });
    await pipeline.startCapture();
    const first = pipeline.startWriter('w1');
    owners = await PartitionOwners.of(pipeline);
    const stopLoad = new AbortController();
    const load = runMixedLoad(pipeline.client, {
      rounds: Number.MAX_SAFE_INTEGER,
      perRound: 5,
      signal: stopLoad.signal,
    });
    try {
      await owners.until((current) => current.every((o) => o.writerId === 'w1'));
      // A second writer joins mid-load: the first is asked to give up half its partitions.
      const joinedAt = new Date();
      pipeline.startWriter('w2');
      await owners.until((current) => {
        const counts = byWriter(current);
        return (
          (counts.w1?.length ?? 0) === 3 &&
          (counts.w2?.length ?? 0) === 3 &&
          current.every((o) => o.updatedAt > joinedAt)
        );
      });
    } finally {
      stopLoad.abort();
      await load;
    }
    expectExactlyOnce(await pipeline.waitUntilComplete());
    // The hand-over was planned: the first writer released what it was asked
    // for, so it never found a partition taken from under it.
    const log = first.output();
    expect(log).toMatch(/partition handed over to another writer/);
    expect(log).not.toMatch(/partition lost/);
  });
});
