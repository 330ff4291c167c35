import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Document } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('$out and $merge write the pipeline result into a collection', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('aggout');
    await db.collection('source').insertMany([
      { _id: 1, k: 'a', v: 1 },
      { _id: 2, k: 'b', v: 2 },
      { _id: 3, k: 'c', v: 3 },
    ] as never[]);
  });
  afterAll(async () => {
    await target.close();
  });

  const sorted = (coll: string) => db.collection(coll).find().sort({ _id: 1 }).toArray();

  it('$out replaces the target, keeping its indexes, and refuses duplicate _ids untouched', async () => {
    await db.collection('out').insertOne({ _id: 99, old: true } as never);
    await db.collection('out').createIndex({ k: 1 }, { name: 'by_k' });
    const result = await db
      .collection('source')
      .aggregate([{ $match: { v: { $gte: 2 } } }, { $project: { k: 1 } }, { $out: 'out' }])
      .toArray();
    expect(result).toEqual([]);
    expect(await sorted('out')).toEqual([
      { _id: 2, k: 'b' },
      { _id: 3, k: 'c' },
    ]);
    const indexes = await db.collection('out').listIndexes().toArray();
    expect(indexes.map((index: Document) => index.name).sort()).toEqual(['_id_', 'by_k']);
    const duplicate = await failure(
      db
        .collection('source')
        .aggregate([{ $project: { _id: { $literal: 1 } } }, { $out: 'out' }])
        .toArray(),
    );
    expect(duplicate.code).toBe(11000);
    expect(await sorted('out')).toEqual([
      { _id: 2, k: 'b' },
      { _id: 3, k: 'c' },
    ]);
  });

  it('$merge by default merges matches by _id and inserts the others', async () => {
    await db.collection('merged').insertMany([
      { _id: 1, v: 100, keep: 'x' },
      { _id: 7, v: 7 },
    ] as never[]);
    await db
      .collection('source')
      .aggregate([{ $match: { _id: { $lte: 2 } } }, { $merge: 'merged' }])
      .toArray();
    expect(await sorted('merged')).toEqual([
      { _id: 1, v: 1, keep: 'x', k: 'a' },
      { _id: 2, k: 'b', v: 2 },
      { _id: 7, v: 7 },
    ]);
    // A result without _id, merged on _id, is inserted with a new one.
    await db
      .collection('source')
      .aggregate([{ $match: { _id: 3 } }, { $project: { _id: 0, k: 1 } }, { $merge: 'merged' }])
      .toArray();
    expect(await db.collection('merged').countDocuments({ k: 'c' })).toBe(1);
  });

  it('$merge honours whenMatched, whenNotMatched, a pipeline with $$new, and on a unique field', async () => {
    const into = db.collection('options');
    await into.insertMany([
      { _id: 1, k: 'a', v: 10 },
      { _id: 2, k: 'b', v: 20 },
    ] as never[]);
    const merge = (spec: Document) =>
      db
        .collection('source')
        .aggregate([{ $merge: { into: 'options', ...spec } }])
        .toArray();
    await merge({ whenMatched: 'keepExisting', whenNotMatched: 'discard' });
    expect(await sorted('options')).toEqual([
      { _id: 1, k: 'a', v: 10 },
      { _id: 2, k: 'b', v: 20 },
    ]);
    await merge({
      whenMatched: [{ $set: { v: { $add: ['$v', '$$new.v'] } } }],
      whenNotMatched: 'discard',
    });
    expect(await sorted('options')).toEqual([
      { _id: 1, k: 'a', v: 11 },
      { _id: 2, k: 'b', v: 22 },
    ]);
    const nested = await failure(
      db
        .collection('source')
        .aggregate([{ $lookup: { from: 'options', pipeline: [{ $out: 'x' }], as: 'l' } }])
        .toArray(),
    );
    expect(nested.code).toBe(51047);
    // Failures are checked last-but-one: a $merge that fails part-way may have written some documents.
    expect(
      (await failure(merge({ whenMatched: 'keepExisting', whenNotMatched: 'fail' }))).code,
    ).toBe(13113);
    expect((await failure(merge({ whenMatched: 'fail' }))).code).toBe(11000);
    expect((await failure(merge({ on: 'k' }))).code).toBe(51183);
    await into.createIndex({ k: 1 }, { unique: true });
    await db
      .collection('source')
      .aggregate([
        { $project: { _id: 0, k: 1, w: '$v' } },
        { $merge: { into: 'options', on: 'k', whenMatched: 'merge', whenNotMatched: 'discard' } },
      ])
      .toArray();
    expect(
      await db
        .collection('options')
        .find({ _id: { $lte: 2 } } as never)
        .sort({ _id: 1 })
        .toArray(),
    ).toEqual([
      { _id: 1, k: 'a', v: 11, w: 1 },
      { _id: 2, k: 'b', v: 22, w: 2 },
    ]);
  });
});
