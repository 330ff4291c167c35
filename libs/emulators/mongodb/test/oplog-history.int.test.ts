import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('delivers exactly what the oplog recorded to a stream that keeps up', async () => {
    const coll = target.db('hist_match').collection('c');
    const stream = await started(coll.watch([], AWAIT));
    try {
      const received: Document[] = [];
      for (let i = 0; i < 30; i++) {
        await coll.insertOne({ _id: i } as never);
        if (i % 5 === 4) received.push(...((await readEvents(stream, 5)) as Document[]));
      }
      const recorded = target.emulator!.oplogEntries().filter((r) => r.ns.db === coll.dbName);
      const tail = received.slice(-recorded.length);
      expect(tail.map((e) => e._id._data)).toEqual(recorded.map((r) => r.resumeToken._data));
    } finally {
      await stream.close();
    }
  });
});

describe.skipIf(AGAINST_REAL_SERVER)('oplog bounded by bytes', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget({ oplogMaxBytes: 64 * 1024 });
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
    expect(records.length).toBeLessThan(201);
    expect(records.at(-1)?.documentKey?._id).toBe(199);
    const resumed = coll.watch([], { ...AWAIT, resumeAfter: token });
    const error = await resumed.tryNext().catch((e: unknown) => e);
    await resumed.close();
    expect((error as MongoServerError).code).toBe(286);
  });
});
