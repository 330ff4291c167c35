import {
  type CapturedEvent,
  type ChangeBatch,
  claimPath,
  decodeBatch,
  encodeBatch,
  formatOrderingKey,
  parseOrderingKey,
} from '@tributary/core';
import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { type BatchLimits, PartitionLines, type TrackedPosition } from '../src/partition-lines.ts';

const T = 1_795_266_000;
const key = (i: number) => formatOrderingKey({ t: T, i, n: 0 });
const event = (i: number, pad = 0): CapturedEvent => ({
  key: key(i),
  capturedAt: new Date(T * 1000),
  event: { _id: { _data: `tok${i}` }, operationType: 'insert', pad: 'x'.repeat(pad) },
});
const at = (i: number, seq = i): TrackedPosition => ({
  key: key(i),
  token: { _data: `tok${i}` },
  seq,
});

function lines(limits: Partial<BatchLimits> = {}, previousKeys = ['', '']) {
  const published: ChangeBatch[] = [];
  const staged: string[] = [];
  let clock = 1_000;
  const l = new PartitionLines(
    previousKeys,
    {
      batchMaxEvents: 3,
      batchMaxBytes: 1_000_000,
      batchMaxWaitMs: 250,
      heartbeatIntervalMs: 10_000,
      ...limits,
    },
    {
      publish: async (batch) => {
        published.push(batch);
      },
      stage: async (partition, captured) => {
        const path = claimPath(partition, captured.key);
        staged.push(path);
        return path;
      },
      clock: () => (clock += 1),
    },
  );
  const add = (partition: number, e: CapturedEvent, now = 0) =>
    l.add(
      partition,
      e,
      BSON.calculateObjectSize(e.event),
      at(parseOrderingKey(e.key)?.i ?? 0),
      now,
    );
  return { l, published, staged, add };
}

describe('partition lines', () => {
  it('cut a partition’s batch at batchMaxEvents, naming the batch before it, its generation and sequence', async () => {
    const { l, published, add } = lines({}, [key(0), '']);
    for (let i = 1; i <= 7; i += 1) await add(0, event(i));
    expect(published.map((b) => b.events.map((e) => e.key))).toEqual([
      [key(1), key(2), key(3)],
      [key(4), key(5), key(6)],
    ]);
    expect(published.map((b) => [b.previousKey, b.sequence])).toEqual([
      [key(0), 0],
      [key(3), 1],
    ]);
    expect(published[0]?.generation).toBe(l.generation(0));
    expect(published[1]?.position).toEqual({ key: key(6), token: { _data: 'tok6' } });
    expect(l.pendingEvents).toBe(1);
  });

  it('never send an event its partition already has, so a re-read after a rewind makes valid batches', async () => {
    // The partition's checkpoint is at event 5; capture re-reads from event 1.
    const { published, add, l } = lines({ batchMaxEvents: 100 }, [key(5), '']);
    for (let i = 1; i <= 8; i += 1) await add(0, event(i));
    await l.flushAll();
    expect(published.map((b) => b.events.map((e) => e.key))).toEqual([[key(6), key(7), key(8)]]);
    for (const batch of published) expect(() => decodeBatch(encodeBatch(batch), 2)).not.toThrow();
  });

  it('cut batches by their exact encoded size, each as full as the limit allows', async () => {
    const limit = 2_000;
    const { l, published, add } = lines({ batchMaxEvents: 100, batchMaxBytes: limit });
    const events = Array.from({ length: 20 }, (_, n) => event(n + 1, 100 + n * 7));
    for (const e of events) await add(0, e);
    await l.flushAll();
    expect(published.flatMap((b) => b.events.map((e) => e.key))).toEqual(events.map((e) => e.key));
    for (const [index, batch] of published.entries()) {
      const size = encodeBatch(batch).byteLength;
      expect(size).toBeLessThanOrEqual(limit);
      const next = published[index + 1];
      if (next) {
        // The first event of the next batch would not have fitted.
        const grown = {
          ...batch,
          events: [...batch.events, next.events[0]!],
          position: next.position,
        };
        expect(encodeBatch(grown).byteLength).toBeGreaterThan(limit);
      }
    }
  });

  it('send an event too large for any message by claim check, staged first, in a batch within the limit', async () => {
    const limit = 2_000;
    const { l, published, staged, add } = lines({ batchMaxEvents: 100, batchMaxBytes: limit });
    await add(0, event(1, 10));
    await add(0, event(2, 5_000));
    await add(0, event(3, 10));
    await l.flushAll();
    expect(staged).toEqual([claimPath(0, key(2))]);
    const entries = published.flatMap((b) => b.events);
    expect(entries.map((e) => ('claim' in e ? 'claim' : 'event'))).toEqual([
      'event',
      'claim',
      'event',
    ]);
    for (const batch of published) expect(encodeBatch(batch).byteLength).toBeLessThanOrEqual(limit);
  });

  it('keep within the limit a lone event that follows the first batch, whose predecessor key is longer than none', async () => {
    // The first batch of a fresh line names no predecessor (''); the one
    // after it names a whole key. Sizes across that step must still fit.
    const limit = 2_000;
    for (let pad = 1_600; pad <= 2_000; pad += 1) {
      const { l, published, add } = lines({ batchMaxEvents: 100, batchMaxBytes: limit });
      await add(0, event(1, 10));
      await add(0, event(2, pad));
      await l.flushAll();
      for (const batch of published)
        expect(encodeBatch(batch).byteLength, `pad ${pad}`).toBeLessThanOrEqual(limit);
    }
  });

  it('put one claim-checked event in a batch at most, so a writer holds at most one such event per batch', async () => {
    const limit = 2_000;
    const { l, published, staged, add } = lines({ batchMaxEvents: 100, batchMaxBytes: limit });
    for (let i = 1; i <= 3; i += 1) await add(0, event(i, 5_000));
    await l.flushAll();
    expect(staged).toHaveLength(3);
    expect(published.map((b) => b.events.length)).toEqual([1, 1, 1]);
    expect(published.flatMap((b) => b.events).every((e) => 'claim' in e && e.bytes > 5_000)).toBe(
      true,
    );
  });

  it('send batches batchMaxWaitMs after their first event, oldest first, not before', async () => {
    const { l, published, add } = lines();
    await add(1, event(1), 1_000);
    await add(0, event(2), 1_100);
    await l.flushDue(1_249);
    expect(published).toEqual([]);
    await l.flushDue(1_250);
    expect(published.map((b) => b.partition)).toEqual([1]);
    await l.flushDue(1_350);
    expect(published.map((b) => b.partition)).toEqual([1, 0]);
  });

  it('start a partition again after its checkpoint in a newer generation, dropping what it held', async () => {
    const { l, published, add } = lines({ batchMaxEvents: 2 });
    for (let i = 1; i <= 3; i += 1) await add(0, event(i));
    const before = l.generation(0);
    l.rewind(0, key(1));
    expect(l.generation(0)).toBeGreaterThan(before);
    expect(l.pendingEvents).toBe(0);
    for (let i = 2; i <= 4; i += 1) await add(0, event(i));
    expect(published.map((b) => [b.generation === before, b.sequence, b.previousKey])).toEqual([
      [true, 0, ''],
      [false, 0, key(1)],
    ]);
    expect(published[1]?.events.map((e) => e.key)).toEqual([key(2), key(3)]);
  });

  it('send heartbeats to idle partitions behind the position, also when only the resume token moved', async () => {
    const { l, published, add } = lines({ heartbeatIntervalMs: 100 }, [key(3), key(9)]);
    await add(0, event(4), 0);
    expect(await l.heartbeat(at(5), 200)).toBe(0); // partition 0 holds an event; 1 is ahead
    await l.flushAll();
    published.length = 0;
    expect(await l.heartbeat(at(5, 20), 50)).toBe(0); // partition 0 was sent to at 0: too recently
    expect(await l.heartbeat(at(5, 20), 300)).toBe(1);
    // A postBatchResumeToken under the same key: the token moves, the key stays.
    const pbrt = { key: key(9), token: { _data: 'pbrt' }, seq: 30 };
    expect(await l.heartbeat(pbrt, 400)).toBe(2);
    expect(published.map((b) => [b.partition, b.previousKey, b.position.token])).toEqual([
      [0, key(4), { _data: 'tok5' }],
      [0, key(5), { _data: 'pbrt' }],
      [1, key(9), { _data: 'pbrt' }],
    ]);
    expect(await l.heartbeat(pbrt, 600)).toBe(0); // nothing new
    expect(await l.heartbeat(at(2, 40), 800)).toBe(0); // behind both: never a batch before its predecessor
  });

  it('probe a partition at its last batch’s own position, naming that batch, next in its generation', async () => {
    const { l, published, add } = lines({ batchMaxEvents: 2, heartbeatIntervalMs: 100 }, [
      key(0),
      key(0),
    ]);
    for (let i = 1; i <= 2; i += 1) await add(0, event(i));
    // Capture read on (a later position), but the probe stays at the line's own last batch.
    await l.heartbeat(at(3), 200);
    expect(await l.probe(0, 300)).toBe(true);
    const [events, heartbeat, probe] = published.filter((b) => b.partition === 0);
    expect(probe).toEqual({
      partition: 0,
      generation: events?.generation,
      sequence: 2,
      events: [],
      position: heartbeat?.position,
      previousKey: heartbeat?.position.key,
    });
    // A batch after the probe still names the same predecessor key.
    published.length = 0;
    for (let i = 4; i <= 5; i += 1) await add(0, event(i));
    expect(published.map((b) => [b.sequence, b.previousKey])).toEqual([[3, key(3)]]);
  });

  it('send no probe on a line that sent nothing in its generation, at start or after a rewind', async () => {
    const { l, published, add } = lines({ batchMaxEvents: 1 });
    expect(await l.probe(0, 100)).toBe(false);
    await add(0, event(1));
    l.rewind(0, '');
    expect(await l.probe(0, 200)).toBe(false);
    expect(published.map((b) => b.events.length)).toEqual([1]);
  });
});
