import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Document } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('read-only views run their pipeline on every read and refuse writes', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('views');
    await db.collection('orders').insertMany([
      { _id: 1, status: 'A', amount: 10, customer: 'x' },
      { _id: 2, status: 'B', amount: 20, customer: 'y' },
      { _id: 3, status: 'A', amount: 30, customer: 'y' },
      { _id: 4, status: 'A', amount: 40, customer: 'z' },
    ] as never[]);
    await db.createCollection('active', {
      viewOn: 'orders',
      pipeline: [{ $match: { status: 'A' } }, { $project: { status: 0 } }],
    });
    await db.createCollection('bigActive', {
      viewOn: 'active',
      pipeline: [{ $match: { amount: { $gte: 30 } } }],
    });
  });
  afterAll(async () => {
    await target.close();
  });

  it('answers find, count, distinct and aggregate through the view pipeline, views on views too', async () => {
    const active = db.collection('active');
    expect(
      await active.find({ amount: { $gt: 10 } }, { sort: { amount: -1 }, limit: 2 }).toArray(),
    ).toEqual([
      { _id: 4, amount: 40, customer: 'z' },
      { _id: 3, amount: 30, customer: 'y' },
    ]);
    expect(await active.countDocuments()).toBe(3);
    expect((await active.distinct('customer')).sort()).toEqual(['x', 'y', 'z']);
    const totals = await active
      .aggregate([{ $group: { _id: null, total: { $sum: '$amount' } } }])
      .toArray();
    expect(totals).toEqual([{ _id: null, total: 80 }]);
    const big = await db.collection('bigActive').find().sort({ _id: 1 }).toArray();
    expect(big.map((doc: Document) => doc._id)).toEqual([3, 4]);
    // A view reads its source as it is now.
    await db.collection('orders').insertOne({ _id: 5, status: 'A', amount: 50 } as never);
    expect(await db.collection('bigActive').countDocuments()).toBe(3);
  });

  it('lists a view as type view with its definition', async () => {
    const [info] = (await db.listCollections({ name: 'active' }).toArray()) as Document[];
    expect(info).toMatchObject({
      name: 'active',
      type: 'view',
      options: {
        viewOn: 'orders',
        pipeline: [{ $match: { status: 'A' } }, { $project: { status: 0 } }],
      },
      info: { readOnly: true },
    });
  });

  it('refuses writes, indexes and change streams on a view with CommandNotSupportedOnView (166)', async () => {
    const active = db.collection('active');
    const writes: Array<() => Promise<unknown>> = [
      () => active.insertOne({ _id: 9 } as never),
      () => active.updateOne({ _id: 1 } as never, { $set: { amount: 0 } }),
      () => active.deleteMany({}),
      () => active.findOneAndUpdate({ _id: 1 } as never, { $set: { amount: 0 } }),
      () => active.createIndex({ amount: 1 }),
    ];
    for (const write of writes) expect((await failure(write())).code).toBe(166);
    const stream = active.watch();
    expect((await failure(stream.tryNext())).code).toBe(166);
    await stream.close();
    expect(await db.collection('orders').countDocuments({ amount: 0 })).toBe(0);
  });

  it('drops a view without touching its source', async () => {
    await db.createCollection('doomed', { viewOn: 'orders', pipeline: [] });
    expect(await db.collection('doomed').drop()).toBe(true);
    expect(await db.listCollections({ name: 'doomed' }).toArray()).toEqual([]);
    expect(await db.collection('orders').countDocuments()).toBe(5);
  });
});
