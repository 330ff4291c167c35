import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('sparse and partial unique indexes hold only the documents they index', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('uniqueidx');
  });
  afterAll(async () => {
    await target.close();
  });

  it('lets documents outside a partial unique index share a value, and refuses duplicates inside it', async () => {
    const coll = db.collection('partial');
    await coll.createIndex(
      { email: 1 },
      { unique: true, partialFilterExpression: { email: { $type: 'string' } } },
    );
    await coll.insertMany([
      { _id: 1 },
      { _id: 2 },
      { _id: 3, email: null },
      { _id: 4, email: null },
    ] as never[]);
    await coll.insertOne({ _id: 5, email: 'a@x' } as never);
    const error = await failure(coll.insertOne({ _id: 6, email: 'a@x' } as never));
    expect(error.code).toBe(11000);
    expect(await coll.countDocuments()).toBe(5);
  });

  it('lets documents without the field share a sparse unique index, and builds one over them', async () => {
    const coll = db.collection('sparse');
    await coll.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3, code: 'a' }] as never[]);
    await coll.createIndex({ code: 1 }, { unique: true, sparse: true });
    await coll.insertOne({ _id: 4 } as never);
    expect((await failure(coll.insertOne({ _id: 5, code: 'a' } as never))).code).toBe(11000);
    expect(await coll.countDocuments()).toBe(4);
  });
});
