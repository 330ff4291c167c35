import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoBulkWriteError, type Db } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

const VALIDATOR = { qty: { $gte: 0 }, name: { $type: 'string' } };

describe('collection validators are enforced as on the server', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('validation');
  });
  afterAll(async () => {
    await target.close();
  });

  it('refuses inserts and updates that fail the validator with 121 and errInfo, unless bypassed', async () => {
    const coll = await db.createCollection('stock', { validator: VALIDATOR });
    await coll.insertOne({ _id: 1, qty: 5, name: 'bolt' } as never);
    const inserted = await failure(coll.insertOne({ _id: 2, qty: -1, name: 'nut' } as never));
    expect(inserted.code).toBe(121);
    expect(inserted.message).toBe('Document failed validation');
    expect(inserted.errInfo).toMatchObject({
      failingDocumentId: 2,
      details: {
        operatorName: '$and',
        clausesNotSatisfied: [
          { index: 0, details: { operatorName: '$gte', specifiedAs: { qty: { $gte: 0 } } } },
        ],
      },
    });
    const updated = await failure(coll.updateOne({ _id: 1 } as never, { $set: { name: 7 } }));
    expect(updated.code).toBe(121);
    expect(await coll.find().toArray()).toEqual([{ _id: 1, qty: 5, name: 'bolt' }]);
    await coll.insertOne({ _id: 3, qty: -3 } as never, { bypassDocumentValidation: true });
    await coll.updateOne(
      { _id: 1 } as never,
      { $set: { qty: -5 } },
      {
        bypassDocumentValidation: true,
      },
    );
    expect(await coll.countDocuments({ qty: { $lt: 0 } })).toBe(2);
    const upsert = await failure(
      coll.updateOne({ _id: 4 } as never, { $set: { qty: -1 } }, { upsert: true }),
    );
    expect(upsert.code).toBe(121);
  });

  it('stops an ordered insertMany at the failing document, the write error carrying errInfo', async () => {
    const coll = await db.createCollection('batch', { validator: { qty: { $gte: 0 } } });
    const error = await coll
      .insertMany([{ qty: 1 }, { _id: 'bad', qty: -1 }, { qty: 2 }] as never[])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    const bulk = error as MongoBulkWriteError;
    expect(bulk.insertedCount).toBe(1);
    expect(bulk.writeErrors).toMatchObject([{ index: 1, code: 121 }]);
    const [writeError] = bulk.writeErrors as unknown as Array<{ errInfo?: unknown }>;
    expect(writeError?.errInfo).toMatchObject({
      failingDocumentId: 'bad',
      details: { operatorName: '$gte', specifiedAs: { qty: { $gte: 0 } } },
    });
  });

  it('takes a validator from collMod, honours moderate and warn, and lists the options', async () => {
    const coll = db.collection('later');
    await coll.insertMany([
      { _id: 1, qty: -1 },
      { _id: 2, qty: 1 },
    ] as never[]);
    await db.command({
      collMod: 'later',
      validator: { qty: { $gte: 0 } },
      validationLevel: 'moderate',
    });
    // Moderate: a document that already failed may still be updated; a valid one may not be broken.
    await coll.updateOne({ _id: 1 } as never, { $set: { qty: -2 } });
    const broken = await failure(coll.updateOne({ _id: 2 } as never, { $set: { qty: -2 } }));
    expect(broken.code).toBe(121);
    const [info] = await db.listCollections({ name: 'later' }).toArray();
    expect((info as { options?: unknown } | undefined)?.options).toMatchObject({
      validator: { qty: { $gte: 0 } },
      validationLevel: 'moderate',
      validationAction: 'error',
    });
    await db.command({ collMod: 'later', validationAction: 'warn' });
    await coll.insertOne({ _id: 3, qty: -3 } as never);
    expect(await coll.countDocuments({ qty: { $lt: 0 } })).toBe(2);
  });

  it('enforces a $jsonSchema validator, and matches $jsonSchema in queries', async () => {
    const coll = await db.createCollection('people', {
      validator: {
        $jsonSchema: {
          bsonType: 'object',
          required: ['name', 'age'],
          additionalProperties: false,
          properties: {
            _id: {},
            name: { bsonType: 'string', minLength: 1 },
            age: { bsonType: 'int', minimum: 0, maximum: 150 },
            tags: { bsonType: 'array', items: { bsonType: 'string' }, uniqueItems: true },
          },
        },
      },
    });
    await coll.insertOne({ _id: 1, name: 'Ann', age: 30, tags: ['a', 'b'] } as never);
    await coll.insertOne({ _id: 2, name: 'Bo', age: 0 } as never);
    const invalid = [
      { _id: 10, name: 'Cy' },
      { _id: 11, name: 'Cy', age: 30.5 },
      { _id: 12, name: '', age: 1 },
      { _id: 13, name: 'Cy', age: -1 },
      { _id: 14, name: 'Cy', age: 1, tags: ['x', 'x'] },
      { _id: 15, name: 'Cy', age: 1, tags: [1] },
      { _id: 16, name: 'Cy', age: 1, extra: true },
    ];
    for (const doc of invalid) {
      const error = await failure(coll.insertOne(doc as never));
      expect(error.code).toBe(121);
      expect(error.errInfo).toMatchObject({
        failingDocumentId: doc._id,
        details: { operatorName: '$jsonSchema' },
      });
    }
    expect(await coll.countDocuments()).toBe(2);
    const tagged = await coll.find({ $jsonSchema: { required: ['tags'] } }).toArray();
    expect(tagged.map((doc) => doc._id)).toEqual([1]);
    const unknown = await failure(coll.find({ $jsonSchema: { colour: 'red' } }).toArray());
    expect(unknown.code).toBe(9);
  });
});
