import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoBulkWriteError, MongoServerError, ObjectId, type Db } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';

describe('CRUD with the server semantics', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('crud');
  });
  afterAll(async () => {
    await target.close();
  });

  it('generates an ObjectId _id on insert and finds the document back', async () => {
    const coll = db.collection('generated');
    const { insertedId } = await coll.insertOne({ name: 'a' });
    expect(insertedId).toBeInstanceOf(ObjectId);
    expect(await coll.findOne({ _id: insertedId })).toEqual({ _id: insertedId, name: 'a' });
  });

  it('rejects a duplicate _id with E11000 and keeps the first document', async () => {
    const coll = db.collection('dup');
    await coll.insertOne({ _id: 1, v: 'first' } as never);
    const error = await coll.insertOne({ _id: 1, v: 'second' } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
    expect((error as MongoServerError).message).toMatch(
      /E11000 duplicate key error collection: .*dup index: _id_ dup key/,
    );
    expect(await coll.findOne({ _id: 1 } as never)).toEqual({ _id: 1, v: 'first' });
  });

  it('stops an ordered insertMany at the first duplicate but continues an unordered one', async () => {
    const ordered = db.collection('ordered');
    const e1 = await ordered
      .insertMany([{ _id: 1 }, { _id: 1 }, { _id: 2 }] as never[])
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(MongoBulkWriteError);
    expect((e1 as MongoBulkWriteError).insertedCount).toBe(1);
    expect(await ordered.countDocuments()).toBe(1);
    const unordered = db.collection('unordered');
    const e2 = await unordered
      .insertMany([{ _id: 1 }, { _id: 1 }, { _id: 2 }] as never[], { ordered: false })
      .catch((e: unknown) => e);
    expect((e2 as MongoBulkWriteError).insertedCount).toBe(2);
    expect((e2 as MongoBulkWriteError).writeErrors).toHaveLength(1);
    expect(await unordered.countDocuments()).toBe(2);
  });

  it('applies update operators, multi updates and counts modified documents', async () => {
    const coll = db.collection('ops');
    await coll.insertMany([
      { _id: 1, n: 1, tags: ['a'] },
      { _id: 2, n: 2, tags: [] },
    ] as never[]);
    const one = await coll.updateOne(
      { _id: 1 } as never,
      {
        $inc: { n: 5 },
        $push: { tags: 'b' },
        $set: { 'sub.x': 1 },
      } as never,
    );
    expect(one).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(await coll.findOne({ _id: 1 } as never)).toEqual({
      _id: 1,
      n: 6,
      tags: ['a', 'b'],
      sub: { x: 1 },
    });
    const many = await coll.updateMany({}, { $unset: { tags: '' } });
    expect(many).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    const noop = await coll.updateOne({ _id: 2 } as never, { $set: { n: 2 } });
    expect(noop).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
  });

  it('upserts from the filter equality fields and reports the upserted id', async () => {
    const coll = db.collection('upsert');
    const result = await coll.updateOne(
      { key: 'k1' },
      { $set: { v: 1 }, $setOnInsert: { created: true } },
      { upsert: true },
    );
    expect(result.upsertedCount).toBe(1);
    const doc = await coll.findOne({ key: 'k1' });
    expect(doc).toMatchObject({ key: 'k1', v: 1, created: true });
    await coll.updateOne(
      { key: 'k1' },
      { $set: { v: 2 }, $setOnInsert: { created: false } },
      { upsert: true },
    );
    expect(await coll.findOne({ key: 'k1' })).toMatchObject({ v: 2, created: true });
  });

  it('replaces a whole document and keeps its _id', async () => {
    const coll = db.collection('replace');
    await coll.insertOne({ _id: 1, a: 1, b: 2 } as never);
    await coll.replaceOne({ _id: 1 } as never, { c: 3 });
    expect(await coll.findOne({ _id: 1 } as never)).toEqual({ _id: 1, c: 3 });
  });

  it('updates array elements selected by arrayFilters', async () => {
    const coll = db.collection('arrayfilters');
    await coll.insertOne({
      _id: 1,
      items: [
        { k: 1, v: 0 },
        { k: 2, v: 0 },
      ],
    } as never);
    await coll.updateOne(
      { _id: 1 } as never,
      { $set: { 'items.$[e].v': 9 } },
      { arrayFilters: [{ 'e.k': 2 }] },
    );
    expect(await coll.findOne({ _id: 1 } as never)).toEqual({
      _id: 1,
      items: [
        { k: 1, v: 0 },
        { k: 2, v: 9 },
      ],
    });
  });

  it('refuses to change _id with ImmutableField (66)', async () => {
    const coll = db.collection('immutable');
    await coll.insertOne({ _id: 1 } as never);
    const error = await coll
      .updateOne({ _id: 1 } as never, { $set: { _id: 2 } } as never)
      .catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(66);
  });

  it('deletes one or many documents', async () => {
    const coll = db.collection('delete');
    await coll.insertMany([{ g: 1 }, { g: 1 }, { g: 2 }]);
    expect((await coll.deleteOne({ g: 1 })).deletedCount).toBe(1);
    expect((await coll.deleteMany({})).deletedCount).toBe(2);
  });

  it('runs findAndModify: returns the old or new document, removes, upserts', async () => {
    const coll = db.collection('fam');
    await coll.insertOne({ _id: 1, n: 1 } as never);
    expect(await coll.findOneAndUpdate({ _id: 1 } as never, { $inc: { n: 1 } })).toEqual({
      _id: 1,
      n: 1,
    });
    expect(
      await coll.findOneAndUpdate(
        { _id: 1 } as never,
        { $inc: { n: 1 } },
        { returnDocument: 'after' },
      ),
    ).toEqual({ _id: 1, n: 3 });
    const upserted = await coll.findOneAndUpdate(
      { _id: 2 } as never,
      { $set: { n: 0 } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(upserted).toEqual({ _id: 2, n: 0 });
    expect(await coll.findOneAndDelete({ _id: 1 } as never)).toEqual({ _id: 1, n: 3 });
    expect(
      await coll.findOneAndReplace({ _id: 2 } as never, { r: true }, { returnDocument: 'after' }),
    ).toEqual({ _id: 2, r: true });
  });

  it('finds with filter, sort, projection, skip and limit, paging with getMore', async () => {
    const coll = db.collection('find');
    await coll.insertMany(
      Array.from({ length: 250 }, (_, i) => ({ _id: i, even: i % 2 === 0, v: 250 - i })) as never[],
    );
    const docs = await coll
      .find(
        { even: true },
        { sort: { v: 1 }, projection: { _id: 1 }, skip: 5, limit: 100, batchSize: 7 },
      )
      .toArray();
    expect(docs).toHaveLength(100);
    expect(docs[0]).toEqual({ _id: 238 });
    expect(Object.keys(docs[0] as object)).toEqual(['_id']);
    const all = await coll.find({}, { batchSize: 3 }).toArray();
    expect(all.map((d) => d._id)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('counts and aggregates ordinary pipelines', async () => {
    const coll = db.collection('agg');
    await coll.insertMany([
      { g: 'a', n: 1 },
      { g: 'a', n: 2 },
      { g: 'b', n: 5 },
    ]);
    expect(await coll.countDocuments({ g: 'a' })).toBe(2);
    expect(await coll.estimatedDocumentCount()).toBe(3);
    const grouped = await coll
      .aggregate([{ $group: { _id: '$g', total: { $sum: '$n' } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(grouped).toEqual([
      { _id: 'a', total: 3 },
      { _id: 'b', total: 5 },
    ]);
    expect((await coll.distinct('g')).sort()).toEqual(['a', 'b']);
  });

  it('joins with $lookup against another collection', async () => {
    await db.collection('orders').insertMany([{ _id: 1, item: 'x' }] as never[]);
    await db.collection('items').insertMany([{ _id: 'x', price: 3 }] as never[]);
    const joined = await db
      .collection('orders')
      .aggregate([{ $lookup: { from: 'items', localField: 'item', foreignField: '_id', as: 'i' } }])
      .toArray();
    expect(joined).toEqual([{ _id: 1, item: 'x', i: [{ _id: 'x', price: 3 }] }]);
  });
});
