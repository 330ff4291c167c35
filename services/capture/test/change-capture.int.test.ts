import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CheckpointStore, createLakeCheckpointStore } from '@tributary/checkpoint';
import {
  type ChangeBatch,
  claimDirectory,
  createLogger,
  decodeBatch,
  isClaimed,
} from '@tributary/core';
import { type MongoEmulator, startMongoEmulator } from '@tributary/emulator-mongodb';
import { type Lake, createMemoryLake } from '@tributary/lake';
import type { BatchPublisher, OutgoingBatch } from '@tributary/queue';
import { Readiness } from '@tributary/telemetry';
import { MongoClient } from 'mongodb';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isCaptureError } from '../src/capture-error.ts';
import { ChangeCapture, type CaptureOptions } from '../src/change-capture.ts';
import { lakeClaimStager } from '../src/claim-stager.ts';
import { ChainWriters, LossyQueue, probesIn } from './lossy-queue.ts';

const silent = createLogger({
  name: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

/**
 * A queue that keeps every batch published, decoded, and can pretend to lose
 * everything. It cannot count what it holds (no `backlog`), as a Service Bus
 * client without management rights cannot: capture's backpressure must not
 * need it.
 */
class RecordingPublisher implements BatchPublisher {
  readonly maxBatchBytes: number;
  readonly batches: ChangeBatch[] = [];
  readonly bodies: OutgoingBatch[] = [];
  epoch = 'first';

  constructor(maxBatchBytes = 64 * 1024 * 1024) {
    this.maxBatchBytes = maxBatchBytes;
  }

  async ready(): Promise<void> {}
  async publish(batch: OutgoingBatch): Promise<void> {
    this.bodies.push(batch);
    // Every batch capture publishes must decode: a false dead letter otherwise.
    this.batches.push(decodeBatch(batch.body, 4));
  }
  async contentsEpoch(): Promise<string> {
    return this.epoch;
  }
  async close(): Promise<void> {}

  eventsOf(partition: number): string[] {
    return this.batches
      .filter((b) => b.partition === partition)
      .flatMap((b) => b.events.map((e) => e.key));
  }
}

interface Setup {
  mongo: MongoEmulator;
  client: MongoClient;
  lake: Lake;
  checkpoints: CheckpointStore;
  publisher: RecordingPublisher;
  readiness: Readiness;
  captures: ChangeCapture[];
  dirs: string[];
  start(overrides?: Partial<CaptureOptions>): ChangeCapture;
}

async function setUp(mongoOptions: Parameters<typeof startMongoEmulator>[0] = {}): Promise<Setup> {
  const mongo = await startMongoEmulator(mongoOptions);
  const client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 2_000 });
  const lake = createMemoryLake();
  const checkpoints = createLakeCheckpointStore({ lake });
  const publisher = new RecordingPublisher();
  const readiness = new Readiness();
  const setup: Setup = {
    mongo,
    client,
    lake,
    checkpoints,
    publisher,
    readiness,
    captures: [],
    dirs: [],
    start(overrides = {}) {
      const capture = new ChangeCapture({
        client,
        publisher,
        checkpoints,
        claims: lakeClaimStager(lake),
        readiness,
        logger: silent,
        scope: 'deployment',
        includeNamespaces: [],
        excludeNamespaces: [],
        fullDocument: 'default',
        fullDocumentBeforeChange: 'off',
        partitionCount: 4,
        partitionKey: 'namespace+documentKey',
        queueHighWaterMark: 1_000_000,
        gapCheckIntervalMs: 50,
        maxAwaitTimeMs: 50,
        batchMaxEvents: 5,
        batchMaxBytes: 64 * 1024,
        batchMaxWaitMs: 20,
        heartbeatIntervalMs: 100,
        ...overrides,
      });
      setup.captures.push(capture);
      void capture.run().catch(() => {});
      return capture;
    },
  };
  return setup;
}

let current: Setup | undefined;
afterEach(async () => {
  if (!current) return;
  for (const capture of current.captures) await capture.stop();
  await current.client.close();
  await current.mongo.stop();
  for (const dir of current.dirs) await rm(dir, { recursive: true, force: true });
  current = undefined;
});

async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stores a checkpoint for `partition` at the last batch capture sent it (a writer catching up). */
async function checkpointAtLastBatch(s: Setup, partition: number): Promise<string> {
  const last = s.publisher.batches.filter((b) => b.partition === partition).at(-1);
  if (!last) throw new Error(`no batch for partition ${partition}`);
  const stored = await s.checkpoints.readPartition(partition);
  await s.checkpoints.writePartition(
    { partition, position: last.position, openFiles: [], writerId: 'w', updatedAt: new Date() },
    stored?.version,
  );
  return last.position.key;
}

/** Stores a checkpoint at the last batch of every partition that has one (writers catching up). */
async function checkpointAll(s: Setup): Promise<void> {
  for (const partition of new Set(s.publisher.batches.map((b) => b.partition)))
    await checkpointAtLastBatch(s, partition);
}

/** Batches capture published that the stored checkpoints do not cover: what waits in a queue. */
async function uncovered(s: Setup): Promise<number> {
  const stored = await s.checkpoints.readAllPartitions(4);
  return s.publisher.batches.filter(
    (b) => b.position.key > (stored.get(b.partition)?.position?.key ?? ''),
  ).length;
}

const eventCount = (batches: readonly ChangeBatch[]) =>
  batches.reduce((n, b) => n + b.events.length, 0);

const started = (s: Setup) => until(async () => (await s.checkpoints.readOrigin()) !== undefined);

async function insertMany(client: MongoClient, coll: string, count: number, from = 0, pad = 0) {
  const docs = Array.from({ length: count }, (_, n) => ({ _id: from + n, pad: 'x'.repeat(pad) }));
  await client.db('shop').collection<{ _id: number; pad: string }>(coll).insertMany(docs);
}

describe('capture', () => {
  it('re-sends after a rewind only what each partition lacks, in batches that all decode', async () => {
    current = await setUp();
    const s = current;
    s.start();
    await started(s);
    await insertMany(s.client, 'orders', 60);
    await until(() => s.publisher.batches.reduce((n, b) => n + b.events.length, 0) >= 60);
    // Writers caught up on partitions 0 and 1 only.
    const covered = [await checkpointAtLastBatch(s, 0), await checkpointAtLastBatch(s, 1)];
    for (const p of [2, 3]) {
      const first = s.publisher.batches.find((b) => b.partition === p && b.events.length > 0);
      await s.checkpoints.writePartition(
        {
          partition: p,
          position: {
            key: first?.previousKey || first!.events[0]!.key,
            token: first!.position.token,
          },
          openFiles: [],
          writerId: 'w',
          updatedAt: new Date(),
        },
        undefined,
      );
    }
    const before = s.publisher.batches.length;
    s.publisher.epoch = 'second'; // the queue lost everything
    await until(() =>
      s.publisher.batches.slice(before).some((b) => b.partition === 2 && b.events.length > 0),
    );
    await until(() =>
      s.publisher.batches.slice(before).some((b) => b.partition === 3 && b.events.length > 0),
    );
    const resent = s.publisher.batches.slice(before);
    for (const [index, partition] of [0, 1].entries()) {
      const keys = resent
        .filter((b) => b.partition === partition)
        .flatMap((b) => b.events.map((e) => e.key));
      expect(keys.filter((key) => key <= (covered[index] ?? ''))).toEqual([]);
    }
    const original = s.publisher.batches[0]?.generation ?? Infinity;
    expect(resent.filter((b) => b.events.length > 0).every((b) => b.generation > original)).toBe(
      true,
    );
  });

  it('re-sends one partition from its checkpoint, in a new generation, when its writer reports a gap', async () => {
    current = await setUp();
    const s = current;
    s.start();
    await started(s);
    await insertMany(s.client, 'orders', 40);
    await until(() => s.publisher.batches.reduce((n, b) => n + b.events.length, 0) >= 40);
    for (const p of [0, 1, 2, 3]) await checkpointAtLastBatch(s, p);
    await insertMany(s.client, 'orders', 40, 100);
    await until(() => s.publisher.batches.reduce((n, b) => n + b.events.length, 0) >= 80);
    const stored = await s.checkpoints.readPartition(2);
    const lostFrom = s.publisher.batches
      .filter((b) => b.partition === 2 && b.events.length > 0)
      .at(-1)!;
    const before = s.publisher.batches.length;
    await s.checkpoints.reportGap({
      partition: 2,
      afterKey: stored?.value.position?.key ?? '',
      generation: lostFrom.generation,
      missingUpTo: lostFrom.previousKey,
      writerId: 'w',
      reportedAt: new Date(),
    });
    const sentBefore = s.publisher.batches
      .slice(0, before)
      .filter((b) => b.partition === 2)
      .flatMap((b) => b.events.map((e) => e.key))
      .filter((key) => key > (stored?.value.position?.key ?? ''));
    const resentEvents = () => s.publisher.batches.slice(before).filter((b) => b.events.length > 0);
    await until(() => resentEvents().reduce((n, b) => n + b.events.length, 0) >= sentBefore.length);
    const resent = resentEvents();
    expect(new Set(resent.map((b) => b.partition))).toEqual(new Set([2]));
    expect(resent[0]?.generation).toBeGreaterThan(lostFrom.generation);
    expect(resent[0]?.previousKey).toBe(stored?.value.position?.key);
    const resentKeys = resent.flatMap((b) => b.events.map((e) => e.key));
    expect(resentKeys).toEqual(sentBefore);
    // Answered once: the report names an older generation now.
    const answered = s.publisher.batches.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(s.publisher.batches.slice(answered).filter((b) => b.events.length > 0)).toEqual([]);
  });

  it('pauses at the high-water mark while checkpoints stand still and resumes as writers advance them, without asking the queue what it holds', async () => {
    current = await setUp();
    const s = current;
    const mark = 6;
    const capture = s.start({ queueHighWaterMark: mark, batchMaxEvents: 1 });
    await started(s);
    await insertMany(s.client, 'orders', 60);
    // No writer: nothing is checkpointed, so the queue fills up to the mark.
    await until(() => capture.paused);
    const atPause = s.publisher.batches.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(s.publisher.batches.length).toBe(atPause);
    expect(eventCount(s.publisher.batches)).toBeLessThan(60);
    // One heartbeat round (at most one batch per partition) may follow the batch that reached the mark.
    expect(await uncovered(s)).toBeGreaterThanOrEqual(mark);
    expect(await uncovered(s)).toBeLessThanOrEqual(mark + 4);

    // Writers catch up: capture resumes, and stays within the mark of what they stored.
    await checkpointAll(s);
    await until(() => !capture.paused);
    await until(async () => {
      expect(await uncovered(s)).toBeLessThanOrEqual(mark + 4);
      await checkpointAll(s);
      return eventCount(s.publisher.batches) >= 60;
    });
    const keys = s.publisher.batches.flatMap((b) => b.events.map((e) => e.key));
    expect(new Set(keys).size).toBe(60);
    expect(keys).toHaveLength(60);
  }, 30_000);

  it('re-reads every partition when the queue loses everything while capture is paused', async () => {
    current = await setUp();
    const s = current;
    const capture = s.start({ queueHighWaterMark: 6, batchMaxEvents: 1 });
    await started(s);
    await insertMany(s.client, 'orders', 60);
    await until(() => capture.paused);
    const before = s.publisher.batches.length;
    const lost = s.publisher.batches.flatMap((b) => b.events.map((e) => e.key));
    // The lost batches are never checkpointed; counting them still would pause capture for good.
    s.publisher.epoch = 'second';
    await until(() => eventCount(s.publisher.batches.slice(before)) >= lost.length);
    const resent = s.publisher.batches.slice(before);
    const original = s.publisher.batches[0]?.generation ?? Infinity;
    expect(resent.filter((b) => b.events.length > 0).every((b) => b.generation > original)).toBe(
      true,
    );
    expect(
      resent
        .flatMap((b) => b.events.map((e) => e.key))
        .slice(0, lost.length)
        .sort(),
    ).toEqual([...lost].sort());
    // Its count rebuilt from what it re-sent, capture pauses at the mark again.
    await until(() => capture.paused);
  }, 30_000);

  it('probes stalled partitions while paused, so that batches the queue lost with nothing behind them and no epoch to tell are re-sent', async () => {
    current = await setUp();
    const s = current;
    const queue = new LossyQueue();
    const capture = s.start({ publisher: queue, queueHighWaterMark: 6, batchMaxEvents: 1 });
    await started(s);
    await insertMany(s.client, 'orders', 60);
    await until(() => capture.paused);
    // Writers are down while all the queue holds expires: no batch is left behind the lost
    // ones, and capture publishes nothing while paused.
    const lost = [...queue.published];
    expect(queue.loseAll()).toBe(lost.length);
    expect(lost.length).toBeGreaterThanOrEqual(6);
    const lostGeneration = Math.max(...lost.map((b) => b.generation));
    const lostKeys = new Set(lost.flatMap((b) => b.events.map((e) => e.key)));
    const writers = new ChainWriters(s.checkpoints, queue);
    // Writers come back. Every event of the source must reach them, exactly once.
    const source = s.mongo
      .oplogEntries()
      .filter((r) => r.ns.db === 'shop')
      .map((r) => r.resumeToken._data)
      .sort();
    expect(source).toHaveLength(60);
    const written = () =>
      writers.written.map((w) => (w.event.event._id as { _data: string })._data);
    await until(async () => {
      await writers.drain();
      return written().length >= source.length;
    }, 40_000);
    await until(async () => {
      await writers.drain();
      return !capture.paused;
    });
    expect(written().sort()).toEqual(source);
    expect(writers.gapsReported).toBeGreaterThan(0);
    // The lost events reached the writers re-sent, in a generation after the lost one.
    const rewritten = writers.written.filter((w) => lostKeys.has(w.event.key));
    expect(rewritten.length).toBe(lostKeys.size);
    expect(rewritten.every((w) => w.generation > lostGeneration)).toBe(true);
    // One probe went to each partition that had lost batches, and to no other.
    const probes = probesIn(queue.published.filter((b) => b.generation === lostGeneration));
    expect(probes.map((b) => b.partition).sort()).toEqual(
      [...new Set(lost.map((b) => b.partition))].sort(),
    );
  }, 60_000);

  it('probes behind batches merely waiting for stopped writers harmlessly: nothing is re-sent and nothing is reported', async () => {
    current = await setUp();
    const s = current;
    const queue = new LossyQueue();
    const capture = s.start({ publisher: queue, queueHighWaterMark: 6, batchMaxEvents: 1 });
    await started(s);
    await insertMany(s.client, 'orders', 60);
    await until(() => capture.paused);
    // Writers stay down past the stall interval: the probes wait behind the batches.
    await until(() => probesIn(queue.published).length > 0, 20_000);
    const generation = queue.published[0]?.generation;
    const writers = new ChainWriters(s.checkpoints, queue);
    await until(async () => {
      await writers.drain();
      return writers.written.length >= 60 && !capture.paused;
    }, 30_000);
    const ids = writers.written.map((w) => (w.event.event._id as { _data: string })._data);
    expect(new Set(ids).size).toBe(60);
    expect(ids).toHaveLength(60);
    expect(writers.gapsReported).toBe(0);
    expect(queue.published.every((b) => b.generation === generation)).toBe(true);
  }, 60_000);

  it('answers a writer’s gap report while paused, re-sending that partition in a new generation', async () => {
    current = await setUp();
    const s = current;
    const capture = s.start({ queueHighWaterMark: 6, batchMaxEvents: 1 });
    await started(s);
    await insertMany(s.client, 'orders', 60);
    await until(() => capture.paused);
    const before = s.publisher.batches.length;
    const lostFrom = s.publisher.batches.find((b) => b.events.length > 0)!;
    const partition = lostFrom.partition;
    await s.checkpoints.reportGap({
      partition,
      afterKey: '',
      generation: lostFrom.generation,
      missingUpTo: lostFrom.previousKey,
      writerId: 'w',
      reportedAt: new Date(),
    });
    await until(() =>
      s.publisher.batches
        .slice(before)
        .some((b) => b.partition === partition && b.events.length > 0),
    );
    const resent = s.publisher.batches.slice(before).filter((b) => b.events.length > 0);
    expect(resent[0]?.partition).toBe(partition);
    expect(resent[0]?.generation).toBeGreaterThan(lostFrom.generation);
    expect(resent[0]?.events[0]?.key).toBe(lostFrom.events[0]?.key);
  }, 30_000);

  it('restarts after its collection was dropped, from the invalidate’s token', async () => {
    current = await setUp();
    const s = current;
    s.start({ scope: 'collection', database: 'shop', collection: 'orders' });
    await started(s);
    await insertMany(s.client, 'orders', 3);
    await s.client.db('shop').collection('orders').drop();
    await until(() =>
      s.publisher.batches.some((b) =>
        b.events.some((e) => !isClaimed(e) && e.event.operationType === 'invalidate'),
      ),
    );
    await new Promise((r) => setTimeout(r, 200)); // heartbeats bring every partition to the invalidate
    for (const p of [0, 1, 2, 3]) await checkpointAtLastBatch(s, p).catch(() => undefined);
    await s.captures[0]?.stop();
    const restarted = s.start({ scope: 'collection', database: 'shop', collection: 'orders' });
    const before = s.publisher.batches.length;
    await insertMany(s.client, 'orders', 2, 50);
    await until(() => s.publisher.batches.slice(before).some((b) => b.events.length > 0));
    expect(
      await Promise.race([
        restarted.run().then(
          () => 'ended',
          () => 'failed',
        ),
        new Promise((r) => setTimeout(() => r('running'), 200)),
      ]),
    ).toBe('running');
  });

  it('moves a quiet partition’s resume point with the stream’s postBatchResumeToken, so it can restart after the oplog rolled past its last event', async () => {
    current = await setUp({ oplogMaxEntries: 50 });
    const s = current;
    s.start({ scope: 'collection', database: 'shop', collection: 'quiet' });
    await started(s);
    await insertMany(s.client, 'quiet', 1);
    await until(
      () =>
        s.publisher.eventsOf(0).length +
          s.publisher.eventsOf(1).length +
          s.publisher.eventsOf(2).length +
          s.publisher.eventsOf(3).length ===
        1,
    );
    const lastEvent = s.publisher.batches.find((b) => b.events.length > 0)!;
    // The cluster is busy elsewhere: the oplog rolls past the quiet event.
    for (let round = 0; round < 4; round += 1) await insertMany(s.client, 'busy', 30, round * 100);
    await until(() =>
      s.publisher.batches.some(
        (b) =>
          b.partition === lastEvent.partition &&
          b.events.length === 0 &&
          b.position.key === lastEvent.position.key &&
          JSON.stringify(b.position.token) !== JSON.stringify(lastEvent.position.token),
      ),
    );
    const heartbeat = s.publisher.batches.filter((b) => b.events.length === 0).at(-1)!;
    for (const p of [0, 1, 2, 3])
      await s.checkpoints.writePartition(
        {
          partition: p,
          position: heartbeat.position,
          openFiles: [],
          writerId: 'w',
          updatedAt: new Date(),
        },
        (await s.checkpoints.readPartition(p))?.version,
      );
    await s.captures[0]?.stop();
    const restarted = s.start({ scope: 'collection', database: 'shop', collection: 'quiet' });
    const before = s.publisher.batches.length;
    await insertMany(s.client, 'quiet', 1, 500);
    await until(() => s.publisher.batches.slice(before).some((b) => b.events.length > 0));
    expect(
      await Promise.race([
        restarted.run().then(
          () => 'ended',
          (e: unknown) => String(e),
        ),
        new Promise((r) => setTimeout(() => r('running'), 100)),
      ]),
    ).toBe('running');
  });

  it('cuts batches to the transport’s limit and sends a larger event by claim check through the lake', async () => {
    current = await setUp();
    const s = current;
    s.start({ batchMaxBytes: 4 * 1024, batchMaxEvents: 100 });
    await started(s);
    await insertMany(s.client, 'orders', 5, 0, 200);
    await insertMany(s.client, 'orders', 1, 10, 20_000);
    await until(() => s.publisher.batches.reduce((n, b) => n + b.events.length, 0) >= 6);
    for (const body of s.publisher.bodies)
      expect(body.body.byteLength).toBeLessThanOrEqual(4 * 1024);
    const claimed = s.publisher.batches.flatMap((b) => b.events).filter(isClaimed);
    expect(claimed).toHaveLength(1);
    const staged: string[] = [];
    for (const p of [0, 1, 2, 3])
      for await (const entry of s.lake.list(claimDirectory(p))) staged.push(entry.path);
    expect(staged).toEqual([claimed[0]?.claim]);
  });

  it('waits out MongoDB going away, says so in readiness, and reads on where it was', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'capture-mongo-'));
    current = await setUp({ dataDir });
    const s = current;
    s.dirs.push(dataDir);
    s.start();
    await started(s);
    await insertMany(s.client, 'orders', 10);
    await until(() => s.publisher.batches.reduce((n, b) => n + b.events.length, 0) >= 10);
    const port = s.mongo.port;
    await s.mongo.stop();
    await until(() => s.readiness.reasons().some((r) => r.startsWith('mongodb:')), 30_000);
    s.mongo = await startMongoEmulator({ dataDir, port });
    await insertMany(s.client, 'orders', 10, 100);
    await until(() => s.publisher.batches.reduce((n, b) => n + b.events.length, 0) >= 20, 30_000);
    const keys = s.publisher.batches.flatMap((b) => b.events.map((e) => e.key));
    expect(new Set(keys).size).toBe(keys.length);
    await until(() => !s.readiness.reasons().some((r) => r.startsWith('mongodb:')));
  }, 60_000);

  it('stops with a clear error when the source no longer has the event its resume point names', async () => {
    current = await setUp();
    const s = current;
    await s.checkpoints.writeOriginIfAbsent({
      startAtOperationTime: (await s.client.db('admin').command({ ping: 1 })).operationTime,
      createdAt: new Date(),
    });
    for (const p of [0, 1, 2, 3])
      await s.checkpoints.writePartition(
        {
          partition: p,
          position: {
            key: '1763731200-0000000001-0000000000',
            token: { _data: '82000000010000000100000000' + '00' },
          },
          openFiles: [],
          writerId: 'w',
          updatedAt: new Date(),
        },
        undefined,
      );
    const capture = s.start();
    const error = await capture.run().catch((e: unknown) => e);
    expect(isCaptureError(error) && error.code).toBe('RESUME_POINT_GONE');
    expect((error as Error).message).toMatch(/To recover/);
  });
});
