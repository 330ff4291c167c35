import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoServerError } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';

/** What the driver raised: the write-concern error's code, or 'ok'. */
const outcomeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: MongoServerError) => ({ name: error.name, code: error.code }),
  );

describe('write concerns this one-node replica set cannot satisfy', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('answers w above the data-bearing members with UnsatisfiableWriteConcern (100), the write applied', async () => {
    const coll = target.db('wc_unsatisfiable').collection<{ _id: number }>('c');
    const insert = coll.insertOne({ _id: 1 }, { writeConcern: { w: 10 } });
    expect(await outcomeOf(insert)).toEqual({ name: 'MongoWriteConcernError', code: 100 });
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('answers a w naming an unknown tag mode with UnknownReplWriteConcern (79), the write applied', async () => {
    const coll = target.db('wc_unknown_tag').collection<{ _id: number }>('c');
    const insert = coll.insertOne({ _id: 1 }, { writeConcern: { w: 'someTag' } as never });
    expect(await outcomeOf(insert)).toEqual({ name: 'MongoWriteConcernError', code: 79 });
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('answers a commit with w above the data-bearing members with 100, the transaction committed', async () => {
    const coll = target.db('wc_commit').collection<{ _id: number }>('c');
    const session = target.client.startSession();
    try {
      session.startTransaction({ writeConcern: { w: 10 } });
      await coll.insertOne({ _id: 1 }, { session });
      const commit = session.commitTransaction();
      expect(await outcomeOf(commit)).toEqual({ name: 'MongoWriteConcernError', code: 100 });
    } finally {
      await session.endSession();
    }
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
  });
});
