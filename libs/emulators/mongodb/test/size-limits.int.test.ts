import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateObjectSize } from 'bson';
import type { Db, Document } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { failure } from './support/failure.ts';
import { readEvents, started } from './support/stream-helpers.ts';

/** hello's maxBsonObjectSize. */
const MAX_BSON = 16 * 1024 * 1024;
const MiB = 1024 * 1024;
/** A document of `bytes` bytes: `{ _id: <int32>, x: <string> }` has 22 bytes of overhead. */
const docOfSize = (id: number, bytes: number) => ({ _id: id, x: 'a'.repeat(bytes - 22) });

describe('documents and events at the 16 MiB limit get the server errors, never a crash', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('size_limits');
  });
  afterAll(async () => {
    await target.close();
  });

  it('stores a document of exactly 16 MiB and refuses one a byte larger', async () => {
    const coll = db.collection('exact');
    const largest = docOfSize(1, MAX_BSON);
    expect(calculateObjectSize(largest)).toBe(MAX_BSON);
    await coll.insertOne(largest as never);
    const error = await failure(coll.insertOne(docOfSize(2, MAX_BSON + 1) as never));
    expect(error.code).toBe(2);
    expect(error.message).toMatch(/object to insert too large/);
    expect(await coll.find({}, { projection: { _id: 1 } }).toArray()).toEqual([{ _id: 1 }]);
  }, 30_000);

  it('refuses an update whose result would exceed 16 MiB (17419) and leaves the document as it was', async () => {
    const coll = db.collection('update');
    await coll.insertOne({ _id: 1, a: 'a'.repeat(9 * MiB) } as never);
    const error = await failure(
      coll.updateOne({ _id: 1 } as never, { $set: { b: 'b'.repeat(9 * MiB) } }),
    );
    expect(error.code).toBe(17419);
    expect(error.message).toMatch(/Resulting document after update is larger than 16777216/);
    expect(await coll.findOne({ _id: 1 } as never, { projection: { b: 1 } })).toEqual({ _id: 1 });
  }, 30_000);

  it('refuses an upsert whose new document would exceed 16 MiB (17420)', async () => {
    const coll = db.collection('upsert');
    const error = await failure(
      coll.updateOne({ _id: 1 } as never, { $set: { a: 'a'.repeat(MAX_BSON) } }, { upsert: true }),
    );
    expect(error.code).toBe(17420);
    expect(await coll.countDocuments()).toBe(0);
  }, 30_000);

  it('streams the insert of a document of the largest size', async () => {
    const coll = db.collection('stream_largest');
    const stream = await started(coll.watch([], { maxAwaitTimeMS: 100 }));
    try {
      await coll.insertOne(docOfSize(1, MAX_BSON) as never);
      const [event] = (await readEvents(stream, 1, 20_000)) as Document[];
      expect(event?.operationType).toBe('insert');
      expect(event?.fullDocument.x.length).toBe(MAX_BSON - 22);
    } finally {
      await stream.close();
    }
  }, 30_000);

  it('fails a change stream whose event would exceed 16 MiB + 16 KiB with BSONObjectTooLarge (10334), and keeps serving', async () => {
    const coll = db.collection('stream_oversized');
    const stream = await started(
      coll.watch([], { maxAwaitTimeMS: 100, fullDocument: 'updateLookup' }),
    );
    try {
      await coll.insertOne({ _id: 1, a: 'a'.repeat(8 * MiB) } as never);
      const [inserted] = (await readEvents(stream, 1, 20_000)) as Document[];
      expect(inserted?.operationType).toBe('insert');
      // The stored document stays under 16 MiB; its update event carries it and `b` again.
      // (Read apart: the server fails the whole getMore that meets such an event.)
      await coll.updateOne({ _id: 1 } as never, { $set: { b: 'b'.repeat(8 * MiB - 1024) } });
      const error = await failure(stream.next());
      expect(error.code).toBe(10334);
      expect(error.codeName).toBe('BSONObjectTooLarge');
      expect(stream.closed).toBe(true);
    } finally {
      await stream.close();
    }
    expect((await target.client.db('admin').command({ ping: 1 })).ok).toBe(1);
    if (!AGAINST_REAL_SERVER) expect(target.emulator!.openCursorCount()).toBe(0);
  }, 30_000);

  it('caps a distinct answer at 16 MiB (17217)', async () => {
    const coll = db.collection('distinct');
    for (let i = 0; i < 3; i++)
      await coll.insertOne({ _id: i, v: String(i).repeat(6 * MiB) } as never);
    const error = await failure(coll.distinct('v'));
    expect(error.code).toBe(17217);
    expect(error.message).toMatch(/distinct too big, 16mb cap/);
  }, 30_000);

  it('answers an aggregation result over 16 MiB with BSONObjectTooLarge (10334)', async () => {
    const coll = db.collection('aggregate');
    for (let i = 0; i < 3; i++) await coll.insertOne({ _id: i, a: 'a'.repeat(6 * MiB) } as never);
    const error = await failure(
      coll.aggregate([{ $group: { _id: null, all: { $push: '$$ROOT' } } }]).toArray(),
    );
    expect(error.code).toBe(10334);
    expect((await target.client.db('admin').command({ ping: 1 })).ok).toBe(1);
  }, 30_000);
});
