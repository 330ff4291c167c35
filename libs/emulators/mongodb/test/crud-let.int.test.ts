import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, Db, Document } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

/** A filter that holds only for the document whose `n` is the `target` variable. */
const N_IS_TARGET = { $expr: { $eq: ['$n', '$$target'] } };

describe("a command's let variables are read by $$name in filters, pipelines and updates", () => {
  let target: ConformanceTarget;
  let db: Db;
  let seq = 0;
  /** A fresh collection holding n = 1, 2, 3. */
  async function numbers(): Promise<Collection<Document>> {
    const coll = db.collection(`numbers${(seq += 1)}`);
    await coll.insertMany([
      { _id: 1, n: 1 },
      { _id: 2, n: 2 },
      { _id: 3, n: 3 },
    ] as never[]);
    return coll;
  }
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('let');
  });
  afterAll(async () => {
    await target.close();
  });

  it('find filters with let variables, evaluated as expressions', async () => {
    const coll = await numbers();
    const plain = await coll.find(N_IS_TARGET, { let: { target: 2 } }).toArray();
    expect(plain).toEqual([{ _id: 2, n: 2 }]);
    const computed = await coll.find(N_IS_TARGET, { let: { target: { $add: [1, 2] } } }).toArray();
    expect(computed).toEqual([{ _id: 3, n: 3 }]);
  });

  it('aggregate reads let variables in $match and in expressions', async () => {
    const coll = await numbers();
    const result = await coll
      .aggregate(
        [
          { $match: N_IS_TARGET },
          { $project: { _id: 0, scaled: { $multiply: ['$n', '$$factor'] } } },
        ],
        { let: { target: 2, factor: 10 } },
      )
      .toArray();
    expect(result).toEqual([{ scaled: 20 }]);
  });

  it('update, delete and findAndModify read let variables in the filter and a pipeline update', async () => {
    const coll = await numbers();
    const updated = await coll.updateOne(N_IS_TARGET, [{ $set: { label: '$$label' } }], {
      let: { target: 1, label: 'one' },
    });
    expect(updated).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    const deleted = await coll.deleteOne(N_IS_TARGET, { let: { target: 3 } });
    expect(deleted.deletedCount).toBe(1);
    const before = await coll.findOneAndUpdate(N_IS_TARGET, [{ $set: { n: '$$next' } }], {
      let: { target: 2, next: 20 },
    });
    expect(before).toEqual({ _id: 2, n: 2 });
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, n: 1, label: 'one' },
      { _id: 2, n: 20 },
    ]);
  });

  it('refuses a let variable whose name a user may not bind', async () => {
    const coll = await numbers();
    const upper = await failure(coll.find({}, { let: { Target: 1 } }).toArray());
    expect(upper.code).toBe(16867);
    expect(upper.message).toMatch(
      /'Target' starts with an invalid character for a user variable name/,
    );
    const dash = await failure(coll.find({}, { let: { 'a-b': 1 } }).toArray());
    expect(dash.code).toBe(16868);
  });
});
