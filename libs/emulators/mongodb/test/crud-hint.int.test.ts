import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, Db, Document } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('hint names an index that must exist, as on the server', () => {
  let target: ConformanceTarget;
  let db: Db;
  let coll: Collection<Document>;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('hint');
    coll = db.collection('items');
    await coll.insertMany([
      { _id: 1, a: 1 },
      { _id: 2, a: 2 },
    ] as never[]);
    await coll.createIndex({ a: 1 }, { name: 'by_a' });
  });
  afterAll(async () => {
    await target.close();
  });

  it('runs CRUD commands hinted by an existing index and fails those hinted by a missing one', async () => {
    for (const hint of ['by_a', { a: 1 }, '_id_', { _id: 1 }, { $natural: 1 }]) {
      expect(await coll.find({ a: 2 }, { hint }).toArray()).toEqual([{ _id: 2, a: 2 }]);
      expect(await coll.countDocuments({ a: 2 }, { hint })).toBe(1);
      expect(await coll.aggregate([{ $match: { a: 1 } }], { hint }).toArray()).toHaveLength(1);
      expect(await coll.updateOne({ a: 1 }, { $set: { b: 1 } }, { hint })).toMatchObject({
        matchedCount: 1,
      });
      expect(await coll.deleteMany({ a: 3 }, { hint })).toMatchObject({ deletedCount: 0 });
    }
    const hinted: Array<() => Promise<unknown>> = [
      () => coll.find({}, { hint: 'no_such_index' }).toArray(),
      () => coll.find({}, { hint: { b: 1 } }).toArray(),
      () => coll.countDocuments({}, { hint: 'no_such_index' }),
      () => coll.aggregate([], { hint: { b: 1 } }).toArray(),
      () => coll.distinct('a', {}, { hint: 'no_such_index' }),
      () => coll.updateOne({ a: 1 }, { $set: { c: 1 } }, { hint: 'no_such_index' }),
      () => coll.deleteOne({ a: 1 }, { hint: { b: 1 } }),
      () => coll.findOneAndUpdate({ a: 1 }, { $set: { c: 1 } }, { hint: { b: 1 } }),
      () => coll.findOneAndDelete({ a: 1 }, { hint: { b: 1 } }),
    ];
    for (const run of hinted) {
      const error = await failure(run());
      expect(error.code).toBe(2);
      expect(error.message).toMatch(/hint provided does not correspond to an existing index/);
    }
    // The refused writes changed nothing.
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, a: 1, b: 1 },
      { _id: 2, a: 2 },
    ]);
  });
});
