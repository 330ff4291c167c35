import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoServerError } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';

describe('catalog commands', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('creates, lists and drops collections', async () => {
    const db = target.db('admin_cat');
    await db.createCollection('a');
    await db.collection('b').insertOne({ x: 1 });
    const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
    expect(names).toEqual(['a', 'b']);
    const error = await db.createCollection('a').catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(48);
    expect(await db.collection('a').drop()).toBe(true);
    expect((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(
      ['b'],
    );
  });

  it('lists databases including a new one, and drops a database', async () => {
    const name = target.dbName('admin_dbs');
    await target.client.db(name).collection('c').insertOne({});
    const listed = await target.client.db('admin').admin().listDatabases();
    expect(listed.databases.map((d) => d.name)).toContain(name);
    await target.client.db(name).dropDatabase();
    const after = await target.client.db('admin').admin().listDatabases({ nameOnly: true });
    expect(after.databases.map((d) => d.name)).not.toContain(name);
  });

  it('renames a collection and refuses to overwrite an existing target', async () => {
    const db = target.db('admin_ren');
    await db.collection('from').insertOne({ _id: 1 } as never);
    await db.collection('other').insertOne({ _id: 2 } as never);
    await db.renameCollection('from', 'to');
    expect(await db.collection('to').findOne({})).toEqual({ _id: 1 });
    const error = await db.renameCollection('to', 'other').catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(48);
    const missing = await db.renameCollection('nope', 'x').catch((e: unknown) => e);
    expect((missing as MongoServerError).code).toBe(26);
  });

  it('enables changeStreamPreAndPostImages with collMod and shows it in listCollections', async () => {
    const db = target.db('admin_mod');
    await db.createCollection('c');
    await db.command({ collMod: 'c', changeStreamPreAndPostImages: { enabled: true } });
    const [info] = await db.listCollections({ name: 'c' }).toArray();
    expect((info as { options?: unknown } | undefined)?.options).toMatchObject({
      changeStreamPreAndPostImages: { enabled: true },
    });
    const error = await db
      .command({ collMod: 'missing', changeStreamPreAndPostImages: { enabled: true } })
      .catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(26);
  });

  it('creates and lists indexes', async () => {
    const coll = target.db('admin_idx').collection('c');
    await coll.createIndex({ a: 1 }, { name: 'a_1' });
    const names = (await coll.listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(['_id_', 'a_1']);
  });

  it('enforces unique secondary indexes with E11000, also when building one', async () => {
    const coll = target.db('admin_unique').collection('c');
    await coll.createIndex({ email: 1 }, { unique: true, name: 'email_1' });
    await coll.insertOne({ email: 'a@x' });
    const error = await coll.insertOne({ email: 'a@x' }).catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(11000);
    expect((error as MongoServerError).message).toMatch(/index: email_1 dup key/);
    const other = target.db('admin_unique').collection('d');
    await other.insertMany([{ k: 1 }, { k: 1 }]);
    const build = await other.createIndex({ k: 1 }, { unique: true }).catch((e: unknown) => e);
    expect((build as MongoServerError).code).toBe(11000);
  });

  it('reports replica-set status with this node as PRIMARY', async () => {
    const status = await target.client.db('admin').command({ replSetGetStatus: 1 });
    expect(status.set).toBe('rs0');
    expect(status.members.find((m: { self?: boolean }) => m.self)?.stateStr).toBe('PRIMARY');
  });
});
