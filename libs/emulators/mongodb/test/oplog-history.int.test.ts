import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateObjectSize } from 'bson';
import type { Document, MongoServerError, ResumeToken } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { readEvents, started } from './support/stream-helpers.ts';

const AWAIT = { maxAwaitTimeMS: 100 };

// Emulator-only: a real server's oplog size cannot be set per test.
describe.skipIf(AGAINST_REAL_SERVER)('bounded oplog history', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget({ oplogMaxEntries: 10 });
  });
  afterAll(async () => {
    await target.close();
  });

  it('keeps only the configured number of entries, newest last', async () => {
    const coll = target.db('hist_keep').collection('c');
    const written = Array.from({ length: 25 }, (_, i) => ({ _id: i }));
    await coll.insertMany(written as never[]);
    const records = target.emulator!.oplogEntries();
    expect(records).toHaveLength(10);
    expect(records.map((r) => r.documentKey?._id)).toEqual(written.slice(15).map((d) => d._id));
  });

  it('shows its window as local.oplog.rs: oldest first by $natural, newest first reversed', async () => {
    const coll = target.db('hist_window').collection('c');
    await coll.insertMany(Array.from({ length: 15 }, (_, i) => ({ _id: i })) as never[]);
    const records = target.emulator!.oplogEntries();
    const oplog = target.client.db('local').collection('oplog.rs');
    const [oldest] = await oplog.find({}, { sort: { $natural: 1 }, limit: 1 }).toArray();
    const [newest] = await oplog.find({}, { sort: { $natural: -1 }, limit: 1 }).toArray();
    expect(oldest?.ts).toEqual(records[0]?.clusterTime);
    expect(newest?.ts).toEqual(records.at(-1)?.clusterTime);
    const ns = `${coll.dbName}.c`;
    expect(newest).toMatchObject({ op: 'i', ns, o: { _id: 14 } });
    // The whole retained window, in order, as many documents as the oplog holds.
    const all = await oplog.find({}).toArray();
    expect(all.map((d) => d.o._id)).toEqual(records.map((r) => r.documentKey?._id));
    expect(await oplog.find({ op: 'i', ns }).toArray()).toHaveLength(10);
  });

  it('answers ChangeStreamHistoryLost (286) when resuming from a token that fell off', async () => {
    const coll = target.db('hist_lost').collection('c');
    const stream = await started(coll.watch([], AWAIT));
    let token: ResumeToken | undefined;
    try {
      await coll.insertOne({ _id: 'first' } as never);
      const [event] = (await readEvents(stream, 1)) as Document[];
      token = event?._id as ResumeToken;
    } finally {
      await stream.close();
    }
    await coll.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })) as never[]);
    const resumed = coll.watch([], { ...AWAIT, resumeAfter: token });
    const error = await resumed.tryNext().catch((e: unknown) => e);
    await resumed.close();
    expect((error as MongoServerError).code).toBe(286);
    expect((error as MongoServerError).codeName).toBe('ChangeStreamHistoryLost');
    // The server's NonResumableChangeStreamError category: the driver must not resume after it.
    expect((error as MongoServerError).errorLabels).toEqual(['NonResumableChangeStreamError']);
  });

  it('answers 286 for a startAtOperationTime older than the retained history', async () => {
    const coll = target.db('hist_time').collection('c');
    const session = target.client.startSession();
    await coll.insertOne({ _id: 'old' } as never, { session });
    const time = session.operationTime;
    await session.endSession();
    await coll.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })) as never[]);
    const stream = coll.watch([], { ...AWAIT, startAtOperationTime: time });
    const error = await stream.tryNext().catch((e: unknown) => e);
    await stream.close();
    expect((error as MongoServerError).code).toBe(286);
  });

  it('delivers every write, in order, to a stream that keeps up, as the oplog recorded them', async () => {
    const coll = target.db('hist_match').collection('c');
    const ns = { db: coll.dbName, coll: 'c' };
    const stream = await started(coll.watch([], AWAIT));
    try {
      const written: Document[] = [];
      const received: Document[] = [];
      for (let i = 0; i < 30; i++) {
        // insert x, update x, delete x, then the next document: every kind of change.
        const id = i - (i % 3);
        if (i % 3 === 0) await coll.insertOne({ _id: id } as never);
        else if (i % 3 === 1) await coll.updateOne({ _id: id } as never, { $set: { v: i } });
        else await coll.deleteOne({ _id: id } as never);
        written.push({
          operationType: ['insert', 'update', 'delete'][i % 3],
          documentKey: { _id: id },
          ns,
        });
        // Reading every five writes keeps the stream within the ten retained entries.
        if (i % 5 === 4) received.push(...((await readEvents(stream, 5)) as Document[]));
      }
      const shape = (e: Document) => ({
        operationType: e.operationType,
        documentKey: e.documentKey,
        ns: e.ns,
      });
      expect(received.map(shape)).toEqual(written);
      // The emulator's own record of the newest ten changes is the tail of what the stream saw.
      const recorded = target.emulator!.oplogEntries().filter((r) => r.ns.db === coll.dbName);
      expect(recorded).toHaveLength(10);
      expect(recorded.map((r) => ({ ...shape(r), _id: r.resumeToken._data }))).toEqual(
        received.slice(-10).map((e) => ({ ...shape(e), _id: e._id._data })),
      );
    } finally {
      await stream.close();
    }
  });
});

describe.skipIf(AGAINST_REAL_SERVER)('oplog bounded by bytes', () => {
  const MAX_BYTES = 64 * 1024;
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget({ oplogMaxBytes: MAX_BYTES });
  });
  afterAll(async () => {
    await target.close();
  });

  it('drops the oldest entries once the byte budget is spent, and 286 for a lost token', async () => {
    const coll = target.db('hist_bytes').collection('c');
    const stream = await started(coll.watch([], AWAIT));
    let token: ResumeToken | undefined;
    try {
      await coll.insertOne({ _id: 'first', pad: 'x'.repeat(1000) } as never);
      const [event] = (await readEvents(stream, 1)) as Document[];
      token = event?._id as ResumeToken;
    } finally {
      await stream.close();
    }
    await coll.insertMany(
      Array.from({ length: 200 }, (_, i) => ({ _id: i, pad: 'x'.repeat(1000) })) as never[],
    );
    const records = target.emulator!.oplogEntries();
    const retained = records.map((r) => r.documentKey?._id);
    // The newest entries are the ones kept, without a gap...
    expect(retained).toEqual(
      Array.from({ length: records.length }, (_, i) => 200 - records.length + i),
    );
    // ...and together they fit the budget, which is used, not just respected: dropping
    // stops once the rest fits (the emulator's per-entry bookkeeping takes well under 15 %).
    const bytes = records.reduce((sum, r) => sum + calculateObjectSize(r.fullDocument!), 0);
    const entryBytes = calculateObjectSize(records[0]!.fullDocument!);
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(bytes + entryBytes).toBeGreaterThan(MAX_BYTES * 0.85);
    const resumed = coll.watch([], { ...AWAIT, resumeAfter: token });
    const error = await resumed.tryNext().catch((e: unknown) => e);
    await resumed.close();
    expect((error as MongoServerError).code).toBe(286);
  });
});
