import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BSONRegExp, type Db } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('_id survives pipeline updates and invalid _id values are refused as on the server', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('ids');
  });
  afterAll(async () => {
    await target.close();
  });

  it('keeps the original _id when a pipeline update replaces the root with a document without one', async () => {
    const coll = db.collection('replaced');
    await coll.insertMany([
      { _id: 1, a: 1, sub: { b: 2 } },
      { _id: 2, a: 1, sub: { c: 3 } },
    ] as never[]);
    const withReplaceWith = await coll.updateOne({ _id: 1 } as never, [{ $replaceWith: '$sub' }]);
    expect(withReplaceWith).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    const withReplaceRoot = await coll.updateOne({ _id: 2 } as never, [
      { $replaceRoot: { newRoot: { $mergeObjects: ['$sub', { d: 4 }] } } },
    ]);
    expect(withReplaceRoot).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, b: 2 },
      { _id: 2, c: 3, d: 4 },
    ]);
  });

  it('refuses an inserted _id with a $-prefixed field with DollarPrefixedFieldName (52)', async () => {
    const coll = db.collection('dollar');
    const error = await failure(coll.insertOne({ _id: { $oid: 'abc' }, x: 1 } as never));
    expect(error.code).toBe(52);
    expect(error.message).toBe(
      "_id fields may not contain '$'-prefixed fields: $oid is not valid for storage.",
    );
    const nested = await failure(coll.insertOne({ _id: { a: { $b: 1 } } } as never));
    expect(nested.code).toBe(52);
    expect(await coll.countDocuments()).toBe(0);
  });

  it('refuses an inserted array or regex _id with BadValue (2)', async () => {
    const coll = db.collection('badInsert');
    const array = await failure(coll.insertOne({ _id: [1, 2] } as never));
    expect(array.code).toBe(2);
    expect(array.message).toBe("can't use an array for _id");
    const regex = await failure(coll.insertOne({ _id: new BSONRegExp('^a') } as never));
    expect(regex.code).toBe(2);
    expect(regex.message).toBe("can't use a regex for _id");
    expect(await coll.countDocuments()).toBe(0);
  });

  it('refuses an upserted array or $-prefixed _id as an update does', async () => {
    const coll = db.collection('badUpsert');
    const array = await failure(
      coll.updateOne({ n: 1 }, { $set: { _id: [1, 2] } } as never, { upsert: true }),
    );
    expect(array.code).toBe(53);
    expect(array.message).toBe("The '_id' value cannot be of type array");
    const dollar = await failure(
      coll.replaceOne({ n: 1 }, { _id: { $x: 1 }, n: 1 } as never, { upsert: true }),
    );
    expect(dollar.code).toBe(52);
    expect(await coll.countDocuments()).toBe(0);
    // A valid _id from $set is the inserted document's.
    const upserted = await coll.updateOne({ n: 2 }, { $set: { _id: 7, m: 1 } } as never, {
      upsert: true,
    });
    expect(upserted.upsertedId).toBe(7);
    expect(await coll.find().toArray()).toEqual([{ _id: 7, n: 2, m: 1 }]);
  });
});
