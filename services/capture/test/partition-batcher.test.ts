import { type CapturedEvent, type ChangeBatch, formatOrderingKey } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { PartitionBatcher } from '../src/partition-batcher.ts';

const T = 1_795_266_000;
const event = (i: number): CapturedEvent => ({
  key: formatOrderingKey({ t: T, i, n: 0 }),
  capturedAt: new Date(T * 1000),
  event: { _id: { _data: `tok${i}` }, operationType: 'insert' },
});
const limits = {
  batchMaxEvents: 3,
  batchMaxBytes: 1_000,
  batchMaxWaitMs: 250,
  heartbeatIntervalMs: 10_000,
};

function batcher(previousKeys = new Map<number, string>(), partitionCount = 2) {
  const published: ChangeBatch[] = [];
  const b = new PartitionBatcher(partitionCount, limits, previousKeys, async (batch) => {
    published.push(batch);
  });
  return { b, published };
}

describe('the partition batcher', () => {
  it('publishes a partition’s batch when it holds batchMaxEvents events, naming the batch before it', async () => {
    const { b, published } = batcher(new Map([[0, 'from-the-checkpoint']]));
    for (let i = 1; i <= 7; i += 1) await b.add(0, event(i), 10, 0);
    expect(published.map((batch) => batch.events.map((e) => e.key))).toEqual([
      [event(1).key, event(2).key, event(3).key],
      [event(4).key, event(5).key, event(6).key],
    ]);
    expect(published.map((batch) => batch.previousKey)).toEqual([
      'from-the-checkpoint',
      event(3).key,
    ]);
    expect(published[1]?.position).toEqual({ key: event(6).key, token: { _data: 'tok6' } });
    expect(b.pendingEvents).toBe(1);
  });

  it('publishes before a batch would grow past batchMaxBytes', async () => {
    const { b, published } = batcher();
    await b.add(0, event(1), 600, 0);
    await b.add(0, event(2), 600, 0);
    expect(published.map((batch) => batch.events.length)).toEqual([1]);
    expect(b.pendingEvents).toBe(1);
  });

  it('publishes a non-empty batch batchMaxWaitMs after its first event, not before', async () => {
    const { b, published } = batcher();
    await b.add(1, event(1), 10, 1_000);
    await b.flushDue(1_249);
    expect(published).toEqual([]);
    await b.flushDue(1_250);
    expect(published.map((batch) => batch.partition)).toEqual([1]);
  });

  it('keeps partitions apart: a batch never mixes them', async () => {
    const { b, published } = batcher();
    await b.add(0, event(1), 10, 0);
    await b.add(1, event(2), 10, 0);
    await b.flushAll();
    expect(published.map((batch) => [batch.partition, batch.events.length])).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it('sends heartbeats only to idle partitions that hold nothing and are behind the position', async () => {
    const { b, published } = batcher(new Map(), 3);
    const now = 1_764_000_000_000;
    await b.add(0, event(1), 10, now);
    await b.flushAll();
    await b.add(1, event(2), 10, now); // partition 1 holds an unpublished event
    const position = { key: event(5).key, token: { _data: 'tok5' } };
    // Partition 0 published at `now`: not idle yet 5 s later; 2 never heard anything.
    expect(await b.heartbeat(position, now + 5_000)).toBe(1);
    expect(published.at(-1)).toEqual({ partition: 2, events: [], position, previousKey: '' });
    // 10 s on, partition 0 is idle; 2 is at the position already; 1 still holds its event.
    expect(await b.heartbeat(position, now + 10_000)).toBe(1);
    expect(published.at(-1)).toMatchObject({ partition: 0, previousKey: event(1).key });
    expect(await b.heartbeat(position, now + 30_000)).toBe(0);
  });
});
