import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientSession, MongoServerError } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';

describe('commands in a transaction', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  /** Runs `body` in a started transaction; ends the session whatever happens. */
  async function inTransaction(body: (session: ClientSession) => Promise<void>): Promise<void> {
    const session = target.client.startSession();
    try {
      session.startTransaction();
      await body(session);
    } finally {
      await session.endSession();
    }
  }

  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: MongoServerError) => ({ code: error.code, errorLabels: error.errorLabels }),
    );

  it('refuses count (263) without aborting the transaction it is in', async () => {
    const db = target.db('txn_cmd_count');
    const coll = db.collection<{ _id: number }>('c');
    await inTransaction(async (session) => {
      await coll.insertOne({ _id: 1 }, { session });
      expect(await failureOf(db.command({ count: 'c' }, { session }))).toEqual({
        code: 263,
        errorLabels: [],
      });
      await session.commitTransaction();
    });
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('refuses commands against the local database in a transaction (263)', async () => {
    const coll = target.db('txn_cmd_local').collection<{ _id: number }>('c');
    await inTransaction(async (session) => {
      await coll.insertOne({ _id: 1 }, { session });
      const oplog = target.client.db('local').collection('oplog.rs');
      expect(await failureOf(oplog.findOne({}, { session }))).toEqual({
        code: 263,
        errorLabels: [],
      });
      await session.commitTransaction();
    });
    expect(await coll.countDocuments()).toBe(1);
  });

  it('refuses $out and $merge in a transaction (263) without aborting it: the commit after succeeds', async () => {
    const coll = target.db('txn_cmd_out').collection<{ _id: number }>('c');
    await inTransaction(async (session) => {
      await coll.insertOne({ _id: 1 }, { session });
      const refused = { code: 263, errorLabels: [] };
      const out = coll.aggregate([{ $out: 'copy' }], { session }).toArray();
      expect(await failureOf(out)).toEqual(refused);
      const merge = coll.aggregate([{ $merge: { into: 'copy' } }], { session }).toArray();
      expect(await failureOf(merge)).toEqual(refused);
      await session.commitTransaction();
    });
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
  });

  const collectionNames = async (label: string) =>
    (await target.db(label).listCollections({}, { nameOnly: true }).toArray())
      .map((info) => info.name)
      .sort();

  it('creates a collection and its index in a transaction for others only at commit', async () => {
    const db = target.db('txn_cmd_create');
    await inTransaction(async (session) => {
      await db.createCollection('made', { session });
      await db.collection('made').createIndex({ a: 1 }, { session });
      await db.collection<{ _id: number }>('made').insertOne({ _id: 1 }, { session });
      expect(await collectionNames('txn_cmd_create')).toEqual([]);
      await session.commitTransaction();
    });
    expect(await collectionNames('txn_cmd_create')).toEqual(['made']);
    const indexes = await db.collection('made').listIndexes().toArray();
    expect(indexes.map((index) => index.name)).toEqual(['_id_', 'a_1']);
    expect(await db.collection('made').find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('discards the collections an aborted transaction created, explicitly or by a write', async () => {
    const db = target.db('txn_cmd_create_abort');
    await db.collection('kept').insertOne({ _id: 0 } as never);
    await inTransaction(async (session) => {
      await db.createCollection('explicit', { session });
      await db.collection<{ _id: number }>('implicit').insertOne({ _id: 1 }, { session });
      await session.abortTransaction();
    });
    expect(await collectionNames('txn_cmd_create_abort')).toEqual(['kept']);
  });

  it('refuses in a transaction to create an existing collection (48) or a new index on one (263)', async () => {
    const db = target.db('txn_cmd_create_existing');
    await db.collection('c').insertOne({ _id: 0 } as never);
    await inTransaction(async (session) => {
      expect(await failureOf(db.createCollection('c', { session }))).toMatchObject({ code: 48 });
    });
    await inTransaction(async (session) => {
      const build = db.collection('c').createIndex({ a: 1 }, { session });
      expect(await failureOf(build)).toMatchObject({ code: 263 });
    });
    const indexes = await db.collection('c').listIndexes().toArray();
    expect(indexes.map((index) => index.name)).toEqual(['_id_']);
  });
});
