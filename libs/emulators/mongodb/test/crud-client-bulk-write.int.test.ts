import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Long,
  MongoClientBulkWriteError,
  type ClientBulkWriteOptions,
  type Db,
  type Document,
} from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';

/**
 * A write model as MongoClient.bulkWrite takes it; written untyped because
 * the driver's types allow only ObjectId _ids, and these tests choose theirs.
 */
type Model = Document;

/**
 * MongoClient.bulkWrite sends MongoDB 8.0's client-level bulkWrite command to
 * admin (the emulator reports maxWireVersion 25), so these go through it.
 */
describe('the client-level bulkWrite command', () => {
  let target: ConformanceTarget;
  let db: Db;
  let ns: (coll: string) => string;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('clientbulk');
    ns = (coll) => `${db.databaseName}.${coll}`;
  });
  afterAll(async () => {
    await target.close();
  });
  const bulk = (models: Model[], options: ClientBulkWriteOptions = {}) =>
    target.client.bulkWrite(models as never, options);

  it('runs inserts, updates, replacements and deletes across namespaces with per-op results', async () => {
    await db.collection('b').insertMany([
      { _id: 1, n: 1 },
      { _id: 2, n: 2 },
      { _id: 3, n: 3 },
    ] as never[]);
    const models: Model[] = [
      { name: 'insertOne', namespace: ns('a'), document: { _id: 'x', v: 1 } },
      { name: 'updateOne', namespace: ns('b'), filter: { _id: 1 }, update: { $inc: { n: 10 } } },
      {
        name: 'updateOne',
        namespace: ns('b'),
        filter: { _id: 9 },
        update: { $set: { n: 9 } },
        upsert: true,
      },
      {
        name: 'updateMany',
        namespace: ns('b'),
        filter: { n: { $lt: 5 } },
        update: { $set: { small: true } },
      },
      { name: 'replaceOne', namespace: ns('a'), filter: { _id: 'x' }, replacement: { v: 2 } },
      { name: 'deleteOne', namespace: ns('b'), filter: { _id: 3 } },
      { name: 'deleteMany', namespace: ns('b'), filter: { n: { $gt: 100 } } },
    ];
    const result = await bulk(models, { verboseResults: true });
    expect(result).toMatchObject({
      insertedCount: 1,
      upsertedCount: 1,
      // updateOne 1, updateMany 2 (_id 2 and 3), replaceOne 1; the upsert matched none.
      matchedCount: 4,
      modifiedCount: 4,
      deletedCount: 1,
    });
    expect(result.insertResults?.get(0)).toEqual({ insertedId: 'x' });
    expect(result.updateResults?.get(2)).toMatchObject({ didUpsert: true, upsertedId: 9 });
    expect(result.updateResults?.get(3)).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    expect(result.deleteResults?.get(5)).toEqual({ deletedCount: 1 });
    expect(await db.collection('a').find().toArray()).toEqual([{ _id: 'x', v: 2 }]);
    expect(await db.collection('b').find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, n: 11 },
      { _id: 2, n: 2, small: true },
      { _id: 9, n: 9 },
    ]);
  });

  it('stops an ordered bulk at the first error and carries on with an unordered one', async () => {
    const models = (coll: string): Model[] => [
      { name: 'insertOne', namespace: ns(coll), document: { _id: 1 } },
      { name: 'insertOne', namespace: ns(coll), document: { _id: 1 } },
      { name: 'insertOne', namespace: ns(coll), document: { _id: 2 } },
    ];
    const ordered = await bulk(models('ord')).catch((e: unknown) => e);
    expect(ordered).toBeInstanceOf(MongoClientBulkWriteError);
    const orderedError = ordered as MongoClientBulkWriteError;
    expect([...orderedError.writeErrors.keys()]).toEqual([1]);
    expect(orderedError.writeErrors.get(1)?.code).toBe(11000);
    expect(orderedError.partialResult?.insertedCount).toBe(1);
    expect(await db.collection('ord').countDocuments()).toBe(1);
    const unordered = await bulk(models('unord'), { ordered: false }).catch((e: unknown) => e);
    const unorderedError = unordered as MongoClientBulkWriteError;
    expect([...unorderedError.writeErrors.keys()]).toEqual([1]);
    expect(unorderedError.partialResult?.insertedCount).toBe(2);
    expect(await db.collection('unord').countDocuments()).toBe(2);
  });

  it('writes inside a transaction only at commit, and nothing when it aborts', async () => {
    const session = target.client.startSession();
    try {
      session.startTransaction();
      const both: Model[] = [
        { name: 'insertOne', namespace: ns('txn'), document: { _id: 1 } },
        { name: 'insertOne', namespace: ns('txn2'), document: { _id: 1 } },
      ];
      await bulk(both, { session });
      expect(await db.collection('txn').countDocuments()).toBe(0);
      await session.commitTransaction();
      expect(await db.collection('txn').countDocuments()).toBe(1);
      expect(await db.collection('txn2').countDocuments()).toBe(1);
      session.startTransaction();
      const second: Model[] = [{ name: 'insertOne', namespace: ns('txn'), document: { _id: 2 } }];
      await bulk(second, { session });
      await session.abortTransaction();
      expect(await db.collection('txn').countDocuments()).toBe(1);
    } finally {
      await session.endSession();
    }
  });

  it('answers a retried bulkWrite (same lsid and txnNumber) from its first outcome', async () => {
    const session = target.client.startSession();
    try {
      const command = {
        bulkWrite: 1,
        ops: [{ insert: 0, document: { _id: 'once' } }],
        nsInfo: [{ ns: ns('retry') }],
        txnNumber: Long.fromNumber(7),
      };
      const first = await target.client.db('admin').command(command, { session });
      const again = await target.client.db('admin').command(command, { session });
      expect(first).toMatchObject({ ok: 1, nInserted: 1, nErrors: 0 });
      expect(again).toMatchObject({ ok: 1, nInserted: 1, nErrors: 0 });
      expect(await db.collection('retry').countDocuments()).toBe(1);
    } finally {
      await session.endSession();
    }
  });

  it('takes a write concern, and answers one this one-node set cannot satisfy with a writeConcernError', async () => {
    const model = (id: string): Model => ({
      name: 'insertOne',
      namespace: ns('wc'),
      document: { _id: id },
    });
    const acknowledged = await bulk([model('w1')], { writeConcern: { w: 1 } });
    expect(acknowledged.insertedCount).toBe(1);
    const unsatisfiable = await bulk([model('w10')], { writeConcern: { w: 10 } }).then(
      () => undefined,
      (error: unknown) => error as MongoClientBulkWriteError,
    );
    expect(unsatisfiable?.writeConcernErrors?.[0]).toMatchObject({ code: 100 });
    // The write itself is applied, as on the server.
    expect(await db.collection('wc').countDocuments()).toBe(2);
  });
});
