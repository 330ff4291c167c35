import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UUID, type Binary, type Db } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

async function uuidOf(db: Db, name: string): Promise<Binary> {
  const [info] = await db.listCollections({ name }).toArray();
  return (info as { info: { uuid: Binary } }).info.uuid;
}

describe('catalog commands apply all or nothing', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('a collMod with one bad field changes nothing', async () => {
    const db = target.db('atomic_mod');
    await db.createCollection('c');
    const error = await failure(
      db.command({
        collMod: 'c',
        changeStreamPreAndPostImages: { enabled: true },
        validationLevel: 'bogus',
      }),
    );
    expect(error.code).toBe(2);
    const [info] = await db.listCollections({ name: 'c' }).toArray();
    expect((info as { options: object }).options).toEqual({});
  });

  it('a createIndexes with one failing index builds none of them', async () => {
    const db = target.db('atomic_idx');
    await db.collection('c').insertMany([{ k: 1 }, { k: 1 }]);
    const error = await failure(
      db.command({
        createIndexes: 'c',
        indexes: [
          { key: { a: 1 }, name: 'a_1' },
          { key: { k: 1 }, name: 'k_1', unique: true },
        ],
      }),
    );
    expect(error.code).toBe(11000);
    const names = (await db.collection('c').listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(['_id_']);
  });

  it('an index name or key already taken by another index is a conflict', async () => {
    const coll = target.db('atomic_conflict').collection('c');
    await coll.createIndex({ a: 1 }, { name: 'i' });
    await coll.createIndex({ a: 1 }, { name: 'i' }); // the same index again: fine
    expect((await failure(coll.createIndex({ b: 1 }, { name: 'i' }))).code).toBe(86);
    expect((await failure(coll.createIndex({ a: 1 }, { name: 'i', sparse: true }))).code).toBe(85);
    expect((await failure(coll.createIndex({ a: 1 }, { name: 'other' }))).code).toBe(85);
    const names = (await coll.listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(['_id_', 'i']);
  });
});

describe('collectionUUID', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('coll_uuid');
    await db.collection('a').createIndex({ x: 1 }, { name: 'x_1' });
    await db.createCollection('b');
  });
  afterAll(async () => {
    await target.close();
  });

  const commands: [string, (uuid: Binary) => Record<string, unknown>, 'a' | 'admin'][] = [
    ['drop', (uuid) => ({ drop: 'a', collectionUUID: uuid }), 'a'],
    ['collMod', (uuid) => ({ collMod: 'a', collectionUUID: uuid }), 'a'],
    ['dropIndexes', (uuid) => ({ dropIndexes: 'a', index: 'x_1', collectionUUID: uuid }), 'a'],
  ];

  it.each(commands)('%s answers CollectionUUIDMismatch for another UUID', async (_, build) => {
    const other = await uuidOf(db, 'b');
    const error = await failure(db.command(build(other)));
    expect(error.code).toBe(361);
    expect(error.errorResponse).toMatchObject({
      db: db.databaseName,
      expectedCollection: 'a',
      actualCollection: 'b',
    });
    const unknown = new UUID().toBinary();
    const missing = await failure(db.command(build(unknown)));
    expect(missing.code).toBe(361);
    expect(missing.errorResponse.actualCollection).toBeNull();
    expect((await db.collection('a').listIndexes().toArray()).map((i) => i.name)).toEqual([
      '_id_',
      'x_1',
    ]);
  });

  it('renameCollection checks the source UUID, and a matching UUID goes through', async () => {
    const other = await uuidOf(db, 'b');
    const from = `${db.databaseName}.b`;
    const to = `${db.databaseName}.renamed`;
    const admin = target.client.db('admin');
    const error = await failure(
      admin.command({ renameCollection: from, to, collectionUUID: await uuidOf(db, 'a') }),
    );
    expect(error.code).toBe(361);
    expect(error.errorResponse).toMatchObject({ expectedCollection: 'b', actualCollection: 'a' });
    await admin.command({ renameCollection: from, to, collectionUUID: other });
    expect(await uuidOf(db, 'renamed')).toEqual(other);
  });

  it('drop with the matching UUID drops', async () => {
    await db.command({ drop: 'a', collectionUUID: await uuidOf(db, 'a') });
    expect(await db.listCollections({ name: 'a' }).toArray()).toEqual([]);
  });
});

describe('collectionUUID on reads and writes', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('coll_uuid_rw');
    await db.collection('r').insertOne({ _id: 1, v: 1 } as never);
    await db.createCollection('other');
  });
  afterAll(async () => {
    await target.close();
  });

  const commands: [string, (uuid: Binary) => Record<string, unknown>][] = [
    ['find', (uuid) => ({ find: 'r', filter: {}, collectionUUID: uuid })],
    ['aggregate', (uuid) => ({ aggregate: 'r', pipeline: [], cursor: {}, collectionUUID: uuid })],
    ['count', (uuid) => ({ count: 'r', collectionUUID: uuid })],
    ['distinct', (uuid) => ({ distinct: 'r', key: 'v', collectionUUID: uuid })],
    ['insert', (uuid) => ({ insert: 'r', documents: [{ _id: 2 }], collectionUUID: uuid })],
    [
      'update',
      (uuid) => ({
        update: 'r',
        updates: [{ q: {}, u: { $set: { v: 2 } } }],
        collectionUUID: uuid,
      }),
    ],
    ['delete', (uuid) => ({ delete: 'r', deletes: [{ q: {}, limit: 0 }], collectionUUID: uuid })],
    [
      'findAndModify',
      (uuid) => ({ findAndModify: 'r', query: {}, remove: true, collectionUUID: uuid }),
    ],
  ];

  it.each(commands)('%s checks it: 361 for another UUID, runs for its own', async (_, build) => {
    const error = await failure(db.command(build(await uuidOf(db, 'other'))));
    expect(error.code).toBe(361);
    expect(error.errorResponse).toMatchObject({
      expectedCollection: 'r',
      actualCollection: 'other',
    });
    expect(await db.collection('r').find().toArray()).toEqual([{ _id: 1, v: 1 }]);
    const own = await uuidOf(db, 'r');
    await db.command(build(own));
    // Put the collection back as it was (same UUID) for the next command.
    await db.collection('r').deleteMany({});
    await db.collection('r').insertOne({ _id: 1, v: 1 } as never);
  });
});
