import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, Db, Document } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

/** A case-insensitive English collation, the common reason programs pass one. */
const CASE_INSENSITIVE = { locale: 'en', strength: 2 } as const;

describe('collation is honoured or refused, never ignored', () => {
  let target: ConformanceTarget;
  let db: Db;
  let coll: Collection<Document>;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('collation');
    coll = db.collection('names');
    await coll.insertMany([
      { _id: 1, name: 'apple' },
      { _id: 2, name: 'Apple' },
      { _id: 3, name: 'banana' },
    ] as never[]);
  });
  afterAll(async () => {
    await target.close();
  });

  it.skipIf(AGAINST_REAL_SERVER)(
    'compares binary under the simple collation and refuses a locale one with BadValue naming collation',
    async () => {
      const simple = { locale: 'simple' };
      const found = await coll.find({ name: 'apple' }, { collation: simple }).toArray();
      expect(found.map((doc) => doc._id)).toEqual([1]);
      const sorted = await coll.find({}, { collation: simple, sort: { name: 1 } }).toArray();
      // Binary order: upper case before lower case.
      expect(sorted.map((doc) => doc._id)).toEqual([2, 1, 3]);
      expect(await coll.countDocuments({ name: 'apple' }, { collation: simple })).toBe(1);
      const refusals: Array<() => Promise<unknown>> = [
        () => coll.find({ name: 'apple' }, { collation: CASE_INSENSITIVE }).toArray(),
        () =>
          coll
            .aggregate([{ $match: { name: 'apple' } }], { collation: CASE_INSENSITIVE })
            .toArray(),
        () => coll.countDocuments({ name: 'apple' }, { collation: CASE_INSENSITIVE }),
        () => coll.distinct('name', {}, { collation: CASE_INSENSITIVE }),
        () =>
          coll.updateOne({ name: 'apple' }, { $set: { x: 1 } }, { collation: CASE_INSENSITIVE }),
        () => coll.deleteMany({ name: 'apple' }, { collation: CASE_INSENSITIVE }),
        () =>
          coll.findOneAndUpdate(
            { name: 'apple' },
            { $set: { x: 1 } },
            { collation: CASE_INSENSITIVE },
          ),
        () => coll.createIndex({ name: 1 }, { collation: CASE_INSENSITIVE }),
        () => db.createCollection('withCollation', { collation: CASE_INSENSITIVE }),
      ];
      for (const refused of refusals) {
        const error = await failure(refused());
        expect(error.code).toBe(2);
        expect(error.message).toMatch(
          /collation .* is not supported by the Tributary MongoDB emulator/,
        );
      }
      // Nothing was written by the refused writes.
      expect(await coll.find({ x: { $exists: true } }).toArray()).toEqual([]);
      expect(await coll.countDocuments()).toBe(3);
      const indexes = await coll.listIndexes().toArray();
      expect(indexes.map((index) => index.name)).toEqual(['_id_']);
      const names = await db.listCollections({ name: 'withCollation' }).toArray();
      expect(names).toEqual([]);
    },
  );

  it('refuses a collation without a locale as the server does', async () => {
    const error = await failure(coll.find({}, { collation: { strength: 2 } as never }).toArray());
    expect(error.code).toBe(40414);
  });
});
