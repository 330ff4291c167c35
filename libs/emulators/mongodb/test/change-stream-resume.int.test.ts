import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoServerError } from 'mongodb';
import { type Document, type ResumeToken, type Timestamp } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { readEvents, started } from './support/stream-helpers.ts';

const AWAIT = { maxAwaitTimeMS: 100 };

function data(token: unknown): string {
  return (token as { _data: string })._data;
}

describe('change stream resumption', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('gives opaque, strictly increasing tokens, identical when the same event is read again', async () => {
    const coll = target.db('rs_tokens').collection('c');
    const stream = await started(coll.watch([], AWAIT));
    const written = Array.from({ length: 20 }, (_, i) => ({ _id: i }));
    try {
      await coll.insertMany(written.slice(0, 10) as never[]);
      const session = target.client.startSession();
      await session.withTransaction(async () => {
        await coll.insertMany(written.slice(10) as never[], { session });
      });
      await session.endSession();
      const events = (await readEvents(stream, 20)) as Document[];
      expect(events.map((e) => e.documentKey._id)).toEqual(written.map((d) => d._id));
      const tokens = events.map((e) => data(e._id));
      for (let i = 1; i < tokens.length; i++)
        expect((tokens[i] as string) > (tokens[i - 1] as string)).toBe(true);
      const again = coll.watch([], { ...AWAIT, resumeAfter: events[4]?._id });
      try {
        const reread = (await readEvents(again, 15)) as Document[];
        expect(reread.map((e) => data(e._id))).toEqual(tokens.slice(5));
      } finally {
        await again.close();
      }
    } finally {
      await stream.close();
    }
  });

  it('starts after an invalidate with startAfter, and refuses resumeAfter on it (260)', async () => {
    const coll = target.db('rs_startafter').collection('c');
    await coll.insertOne({ _id: 0 } as never);
    const stream = await started(coll.watch([], AWAIT));
    let invalidate: Document | undefined;
    try {
      await coll.drop();
      [, invalidate] = (await readEvents(stream, 2)) as Document[];
      expect(invalidate?.operationType).toBe('invalidate');
    } finally {
      await stream.close();
    }
    await coll.insertOne({ _id: 'after' } as never);
    const resumed = coll.watch([], { ...AWAIT, startAfter: invalidate?._id });
    try {
      const [event] = (await readEvents(resumed, 1)) as Document[];
      expect(event?.documentKey).toEqual({ _id: 'after' });
    } finally {
      await resumed.close();
    }
    const refused = coll.watch([], { ...AWAIT, resumeAfter: invalidate?._id });
    const error = await refused.tryNext().catch((e: unknown) => e);
    await refused.close();
    expect((error as MongoServerError).code).toBe(260);
  });

  it('starts at an operation time, including the event at that time', async () => {
    const coll = target.db('rs_optime').collection('c');
    await coll.insertOne({ _id: 'before' } as never);
    const session = target.client.startSession();
    await coll.insertOne({ _id: 'first' } as never, { session });
    const operationTime = session.operationTime as Timestamp;
    await session.endSession();
    await coll.insertOne({ _id: 'second' } as never);
    const stream = coll.watch([], { ...AWAIT, startAtOperationTime: operationTime });
    try {
      const events = (await readEvents(stream, 2)) as Document[];
      expect(events.map((e) => e.documentKey._id)).toEqual(['first', 'second']);
    } finally {
      await stream.close();
    }
  });

  it('advances the postBatchResumeToken while the collection is idle', async () => {
    const coll = target.db('rs_idle').collection('c');
    await coll.insertOne({ _id: 1 } as never);
    const stream = await started(coll.watch([], AWAIT));
    try {
      const first = data(stream.resumeToken);
      // Cluster time has one-second resolution; the real server's no-op writer is even slower (10 s),
      // so against a real server write elsewhere to move the oplog on.
      await target.db('rs_idle_other').collection('noise').insertOne({});
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await stream.tryNext();
      await stream.tryNext();
      const second = data(stream.resumeToken);
      expect(second > first).toBe(true);
      const resumed = await started(
        coll.watch([], { ...AWAIT, resumeAfter: stream.resumeToken as ResumeToken }),
      );
      await coll.insertOne({ _id: 2 } as never);
      const [event] = (await readEvents(resumed, 1)) as Document[];
      expect(event?.documentKey).toEqual({ _id: 2 });
      await resumed.close();
    } finally {
      await stream.close();
    }
  });

  it('waits for maxTimeMS on an awaitData getMore, and returns early when an event arrives', async () => {
    const db = target.db('rs_await');
    await db.createCollection('c');
    const opened = await db.command({
      aggregate: 'c',
      pipeline: [{ $changeStream: {} }],
      cursor: {},
    });
    const id = opened.cursor.id;
    const t0 = Date.now();
    const empty = await db.command({ getMore: id, collection: 'c', maxTimeMS: 400 });
    const waited = Date.now() - t0;
    expect(empty.cursor.nextBatch).toEqual([]);
    expect(empty.cursor.postBatchResumeToken).toBeDefined();
    expect(waited).toBeGreaterThanOrEqual(350);
    expect(waited).toBeLessThan(2000);
    const t1 = Date.now();
    const pending = db.command({ getMore: id, collection: 'c', maxTimeMS: 5000 });
    setTimeout(() => void db.collection('c').insertOne({ _id: 'wake' } as never), 100);
    const woken = await pending;
    expect(woken.cursor.nextBatch.map((e: Document) => e.documentKey._id)).toEqual(['wake']);
    expect(Date.now() - t1).toBeLessThan(2000);
    await db.command({ killCursors: 'c', cursors: [id] });
  });

  it.skipIf(AGAINST_REAL_SERVER)(
    'frees the cursor when the client disconnects during an awaiting getMore',
    async () => {
      const emulator = target.emulator!;
      const other = await target.newClient({ maxPoolSize: 1 });
      const db = other.db(target.dbName('rs_disconnect'));
      await db.createCollection('c');
      const before = emulator.openCursorCount();
      const opened = await db.command({
        aggregate: 'c',
        pipeline: [{ $changeStream: {} }],
        cursor: {},
      });
      expect(emulator.openCursorCount()).toBe(before + 1);
      const waiting = db
        .command({ getMore: opened.cursor.id, collection: 'c', maxTimeMS: 30_000 })
        .catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await other.close(true);
      await waiting;
      for (let i = 0; i < 50 && emulator.openCursorCount() > before; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(emulator.openCursorCount()).toBe(before);
    },
  );
});
