import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('$out and $merge meet transactions', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('aggout_txn');
  });
  afterAll(async () => {
    await target.close();
  });

  it('$merge into a document an open transaction holds waits for it: MaxTimeMSExpired while it is open, merged after it commits', async () => {
    const into = db.collection('merge_held');
    await into.insertMany([
      { _id: 1, v: 0 },
      { _id: 2, v: 0 },
    ] as never[]);
    await db.collection('merge_source').insertMany([
      { _id: 1, w: 1 },
      { _id: 2, w: 2 },
    ] as never[]);
    const merge = (maxTimeMS?: number) =>
      db
        .collection('merge_source')
        .aggregate([{ $sort: { _id: 1 } }, { $merge: { into: 'merge_held' } }], { maxTimeMS })
        .toArray();
    const session = target.client.startSession();
    try {
      session.startTransaction();
      await into.updateOne({ _id: 1 } as never, { $set: { v: 'txn' } }, { session });
      expect((await failure(merge(200))).code).toBe(50);
      const waiting = merge();
      await session.commitTransaction();
      await waiting;
    } finally {
      await session.endSession();
    }
    expect(await into.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, v: 'txn', w: 1 },
      { _id: 2, v: 0, w: 2 },
    ]);
  });
});
