import { Writable } from 'node:stream';
import {
  CheckpointError,
  type CheckpointStore,
  type ResumeOverride,
  clusterTimeOfRestartPoint,
  createLakeCheckpointStore,
  moveResumePoint,
  partitionsBefore,
  restartPoint,
  resumeMoveKind,
} from '@tributary/checkpoint';
import { type ChangeBatch, createLogger, decodeBatch, isClaimed } from '@tributary/core';
import { type MongoEmulator, startMongoEmulator } from '@tributary/emulator-mongodb';
import { type Lake, createMemoryLake } from '@tributary/lake';
import type { BatchPublisher, OutgoingBatch } from '@tributary/queue';
import { Readiness } from '@tributary/telemetry';
import type { Timestamp } from 'bson';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeCapture } from '../src/change-capture.ts';
import { lakeClaimStager } from '../src/claim-stager.ts';

const PARTITIONS = 2;

/** Keeps every batch capture publishes, decoded. */
class RecordingPublisher implements BatchPublisher {
  readonly maxBatchBytes = 64 * 1024 * 1024;
  readonly batches: ChangeBatch[] = [];
  async ready(): Promise<void> {}
  async publish(batch: OutgoingBatch): Promise<void> {
    this.batches.push(decodeBatch(batch.body, PARTITIONS));
  }
  async close(): Promise<void> {}

  /** The `_id`s of the documents in the events published from batch `from` on. */
  documentIds(from = 0): number[] {
    return this.batches
      .slice(from)
      .flatMap((b) => b.events)
      .map((e) => (isClaimed(e) ? -1 : (e.event.documentKey as { _id: number })._id));
  }
}

interface Setup {
  readonly mongo: MongoEmulator;
  readonly client: MongoClient;
  readonly lake: Lake;
  readonly checkpoints: CheckpointStore;
  readonly publisher: RecordingPublisher;
  readonly captures: ChangeCapture[];
  readonly logged: string[];
  /** The `$changeStream` stage of every change stream capture opened, as MongoDB received it. */
  readonly streamsOpened: Record<string, unknown>[];
}

let current: Setup | undefined;
afterEach(async () => {
  if (!current) return;
  for (const capture of current.captures) await capture.stop();
  await current.client.close();
  await current.mongo.stop();
  current = undefined;
});

async function setUp(oplogMaxEntries?: number): Promise<Setup> {
  const mongo = await startMongoEmulator(oplogMaxEntries ? { oplogMaxEntries } : {});
  const lake = createMemoryLake();
  const client = new MongoClient(mongo.uri, {
    serverSelectionTimeoutMS: 2_000,
    monitorCommands: true,
  });
  const streamsOpened: Record<string, unknown>[] = [];
  client.on('commandStarted', (event) => {
    const stage = (event.command.pipeline as Record<string, unknown>[] | undefined)?.[0];
    if (event.commandName === 'aggregate' && stage?.$changeStream)
      streamsOpened.push(stage.$changeStream as Record<string, unknown>);
  });
  current = {
    mongo,
    client,
    lake,
    checkpoints: createLakeCheckpointStore({ lake }),
    publisher: new RecordingPublisher(),
    captures: [],
    logged: [],
    streamsOpened,
  };
  return current;
}

function start(s: Setup): ChangeCapture {
  const logger = createLogger({
    name: 'test',
    level: 'info',
    destination: new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        s.logged.push(chunk.toString());
        done();
      },
    }),
  });
  const capture = new ChangeCapture({
    client: s.client,
    publisher: s.publisher,
    checkpoints: s.checkpoints,
    claims: lakeClaimStager(s.lake),
    readiness: new Readiness(),
    logger,
    scope: 'deployment',
    includeNamespaces: [],
    excludeNamespaces: [],
    fullDocument: 'default',
    fullDocumentBeforeChange: 'off',
    partitionCount: PARTITIONS,
    // Every event of shop.orders goes to one partition: the one the operator's gap concerns.
    partitionKey: 'namespace',
    queueHighWaterMark: 1_000_000,
    gapCheckIntervalMs: 50,
    maxAwaitTimeMs: 50,
    batchMaxEvents: 5,
    batchMaxBytes: 64 * 1024,
    batchMaxWaitMs: 20,
    heartbeatIntervalMs: 100,
    presenceIntervalMs: 100,
  });
  s.captures.push(capture);
  void capture.run().catch(() => {});
  return capture;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 4_000) {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function insert(s: Setup, ids: number[]): Promise<void> {
  await s.client
    .db('shop')
    .collection<{ _id: number }>('orders')
    .insertMany(ids.map((_id) => ({ _id })));
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, n) => from + n);

/** Writers caught up: each partition's checkpoint at the last batch capture sent it. */
async function checkpointAll(s: Setup): Promise<void> {
  for (let partition = 0; partition < PARTITIONS; partition += 1) {
    const last = s.publisher.batches.filter((b) => b.partition === partition).at(-1);
    if (!last) continue;
    const stored = await s.checkpoints.readPartition(partition);
    await s.checkpoints.writePartition(
      { partition, position: last.position, openFiles: [], writerId: 'w', updatedAt: new Date() },
      stored?.version,
    );
  }
}

/** The clusterTime of the insert of document `_id`, from the source's own oplog. */
function clusterTimeOfInsert(s: Setup, id: number): Timestamp {
  const record = s.mongo.oplogEntries().find((r) => r.documentKey?._id === id);
  if (!record) throw new Error(`no insert of ${id} in the oplog`);
  return record.clusterTime;
}

/** What `tributary resume-point set` does once the operator confirmed: marker, then override. */
async function moveTo(s: Setup, to: Timestamp): Promise<ResumeOverride> {
  const [checkpoints, origin] = [
    await s.checkpoints.readAllPartitions(PARTITIONS),
    await s.checkpoints.readOrigin(),
  ];
  if (!origin) throw new Error('capture never started');
  const from = restartPoint(checkpoints, range(0, PARTITIONS), origin);
  if (!('after' in from)) throw new Error('expected a checkpoint to resume after');
  const override: ResumeOverride = {
    kind: resumeMoveKind(from, to),
    to: { clusterTime: to },
    from: {
      key: from.after.key,
      clusterTime: clusterTimeOfRestartPoint(from),
      token: from.after.token,
    },
    setAt: new Date(),
  };
  await moveResumePoint({
    lake: s.lake,
    checkpoints: s.checkpoints,
    override,
    partitionsBehind: partitionsBefore(checkpoints, PARTITIONS, origin, to),
  });
  return override;
}

/** Runs a first capture over documents `ids`, lets writers catch up, and stops it. */
async function captureThenStop(s: Setup, ids: number[]): Promise<void> {
  const first = start(s);
  await until(async () => (await s.checkpoints.readOrigin()) !== undefined);
  await insert(s, ids);
  await until(() => s.publisher.documentIds().length >= ids.length);
  // Heartbeats bring every partition to the last event: all of them have a checkpoint there.
  const lastKey = s.publisher.batches.flatMap((b) => b.events).at(-1)!.key;
  await until(() =>
    range(0, PARTITIONS).every((p) =>
      s.publisher.batches.some((b) => b.partition === p && b.position.key >= lastKey),
    ),
  );
  await checkpointAll(s);
  await first.stop();
}

describe('capture after an operator moved its resume point', () => {
  it('resumes at a gap’s floor, and a writer’s gap report after the jump does not re-read the skipped range', async () => {
    const s = await setUp();
    await captureThenStop(s, range(0, 3));
    expect(await s.checkpoints.readPresence()).toBeUndefined();
    // While capture is stopped: events the operator gives up, then events after the new point.
    const skipped = range(100, 6);
    await insert(s, skipped);
    await insert(s, range(200, 4));
    const override = await moveTo(s, clusterTimeOfInsert(s, 200));
    expect(override.kind).toBe('gap');

    const before = s.publisher.batches.length;
    const capture = start(s);
    await until(() => s.publisher.documentIds(before).length >= 4);
    expect(s.publisher.documentIds(before).sort()).toEqual(range(200, 4));
    // Running, it says so in its presence record.
    expect((await s.checkpoints.readPresence())?.reportedAt).toBeInstanceOf(Date);

    // The partition's writer never stored a checkpoint past the floor, and reports a gap.
    const partition = s.publisher.batches.slice(before).find((b) => b.events.length > 0)!;
    const stored = await s.checkpoints.readPartition(partition.partition);
    const resentFrom = s.publisher.batches.length;
    await s.checkpoints.reportGap({
      partition: partition.partition,
      afterKey: stored?.value.position?.key ?? '',
      generation: partition.generation,
      missingUpTo: partition.previousKey,
      writerId: 'w',
      reportedAt: new Date(),
    });
    await until(() => s.publisher.documentIds(resentFrom).length >= 4);
    const resent = s.publisher.batches.slice(resentFrom).filter((b) => b.events.length > 0);
    expect(resent[0]?.generation).toBeGreaterThan(partition.generation);
    expect(resent[0]?.previousKey).toBe(stored?.value.position?.key);
    expect(s.publisher.documentIds(resentFrom).sort()).toEqual(range(200, 4));
    expect(s.publisher.documentIds().filter((id) => skipped.includes(id))).toEqual([]);

    // The floor stays stored; the marker tells readers of the lake what is missing.
    expect(await s.checkpoints.readResumeOverride()).toEqual(override);
    const markers: string[] = [];
    for await (const entry of s.lake.list('_tributary/markers')) markers.push(entry.path);
    expect(markers).toHaveLength(1);
    const marker = JSON.parse(new TextDecoder().decode(await s.lake.read(markers[0]!)));
    expect(marker).toMatchObject({ marker: 'resume-point-moved', kind: 'gap' });
    expect(marker.partitions).toContain(partition.partition);
    await capture.stop();
    expect(await s.checkpoints.readPresence()).toBeUndefined();
  });

  it('starts at a gap’s floor when the oplog no longer holds its checkpoints', async () => {
    const s = await setUp(12);
    await captureThenStop(s, range(0, 3));
    // The oplog rolls past the checkpoints: capture alone would stop with lost history.
    await insert(s, range(100, 20));
    await insert(s, range(200, 3));
    await moveTo(s, clusterTimeOfInsert(s, 200));
    const before = s.publisher.batches.length;
    start(s);
    // Without the floor, capture would stop at once (history lost) and publish nothing.
    await until(() => s.publisher.documentIds(before).length >= 3);
    expect(s.publisher.documentIds(before).sort()).toEqual(range(200, 3));
  });

  it('re-reads once from an overlap’s earlier point, sends nothing writers have, and clears it', async () => {
    const s = await setUp();
    await captureThenStop(s, range(0, 5));
    const override = await moveTo(s, clusterTimeOfInsert(s, 1));
    expect(override.kind).toBe('overlap');
    const before = s.publisher.batches.length;
    const opened = s.streamsOpened.length;
    start(s);
    await until(async () => (await s.checkpoints.readResumeOverride()) === undefined);
    expect(s.streamsOpened[opened]?.startAtOperationTime).toEqual(override.to.clusterTime);
    const started = s.logged.find((line) => line.includes('earlier point'));
    expect(JSON.parse(started ?? '{}')).toMatchObject({
      kind: 'overlap',
      to: override.to.clusterTime.toString(),
    });
    await insert(s, [10]);
    await until(() => s.publisher.documentIds(before).includes(10));
    expect(s.publisher.documentIds(before)).toEqual([10]);
  });

  it('ignores an overlap whose clear failed once the checkpoints moved on past where it was set', async () => {
    const s = await setUp();
    // The one clear capture attempts meets a blip of the checkpoint store.
    let clears = 0;
    const clearResumeOverride = s.checkpoints.clearResumeOverride.bind(s.checkpoints);
    s.checkpoints.clearResumeOverride = async (override) => {
      clears += 1;
      if (clears === 1) throw new CheckpointError('UNAVAILABLE', 'checkpoint store blip');
      await clearResumeOverride(override);
    };
    await captureThenStop(s, range(0, 5));
    const override = await moveTo(s, clusterTimeOfInsert(s, 1));
    expect(override.kind).toBe('overlap');
    const opened = s.streamsOpened.length;
    const rereading = start(s);
    await until(() => clears === 1);
    expect(s.streamsOpened[opened]?.startAtOperationTime).toEqual(override.to.clusterTime);
    // New events, which writers checkpoint: the restart point moves on past `from`.
    await insert(s, [10]);
    await until(() => s.publisher.documentIds().includes(10));
    const lastKey = s.publisher.batches.flatMap((b) => b.events).at(-1)!.key;
    await until(() =>
      range(0, PARTITIONS).every((p) =>
        s.publisher.batches.some((b) => b.partition === p && b.position.key >= lastKey),
      ),
    );
    await checkpointAll(s);
    await rereading.stop();
    expect(await s.checkpoints.readResumeOverride()).toEqual(override);

    const again = s.streamsOpened.length;
    const before = s.publisher.batches.length;
    start(s);
    await insert(s, [11]);
    await until(() => s.publisher.documentIds(before).includes(11));
    // After its checkpoints, not from the overlap's point again.
    expect(s.streamsOpened[again]?.startAtOperationTime).toBeUndefined();
    expect(s.streamsOpened[again]?.startAfter).toBeDefined();
    expect(s.publisher.documentIds(before)).toEqual([11]);
    expect(s.logged.filter((line) => line.includes('earlier point'))).toHaveLength(1);
    expect(s.logged.some((line) => line.includes('overlap is still stored but passed'))).toBe(true);
  });
});
