import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, Db, Document } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

/** Case-insensitive, accent-sensitive English: what "case-insensitive" usually means. */
const CASE_INSENSITIVE = { locale: 'en', strength: 2 } as const;
/** Base letters only: case and accents ignored. */
const BASE_LETTERS = { locale: 'fr', strength: 1 } as const;

describe('collation is honoured for the case-insensitive strengths, or refused, never ignored', () => {
  let target: ConformanceTarget;
  let db: Db;
  let coll: Collection<Document>;
  const ids = (docs: Document[]) => docs.map((doc) => doc._id as number);
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('collation');
    coll = db.collection('names');
    await coll.insertMany([
      { _id: 1, name: 'apple' },
      { _id: 2, name: 'Apple' },
      { _id: 3, name: 'banana' },
      { _id: 4, name: 'Cherry' },
      { _id: 5, name: 'café' },
      { _id: 6, name: 'Cafe' },
    ] as never[]);
  });
  afterAll(async () => {
    await target.close();
  });

  it('matches and sorts strings under strength 2 and 1, binary under the simple collation', async () => {
    const sort = { name: 1, _id: 1 } as const;
    const simple = await coll.find({}, { collation: { locale: 'simple' }, sort }).toArray();
    expect(ids(simple)).toEqual([2, 6, 4, 1, 3, 5]);
    const collated = await coll.find({}, { collation: CASE_INSENSITIVE, sort }).toArray();
    expect(ids(collated)).toEqual([1, 2, 3, 6, 5, 4]);
    expect(
      ids(await coll.find({ name: 'APPLE' }, { collation: CASE_INSENSITIVE }).toArray()),
    ).toEqual([1, 2]);
    expect(
      ids(await coll.find({ name: 'cafe' }, { collation: CASE_INSENSITIVE }).toArray()),
    ).toEqual([6]);
    expect(ids(await coll.find({ name: 'cafe' }, { collation: BASE_LETTERS }).toArray())).toEqual([
      5, 6,
    ]);
    expect(
      ids(
        await coll
          .find({ name: { $in: ['CHERRY', 'BANANA'] } }, { collation: CASE_INSENSITIVE })
          .toArray(),
      ),
    ).toEqual([3, 4]);
    expect(await coll.countDocuments({ name: 'apple' }, { collation: CASE_INSENSITIVE })).toBe(2);
    expect(await coll.countDocuments({ name: 'apple' })).toBe(1);
  });

  it('matches update, delete and findAndModify filters under the collation', async () => {
    const updated = await coll.updateMany(
      { name: 'APPLE' },
      { $set: { fruit: true } },
      { collation: CASE_INSENSITIVE },
    );
    expect(updated).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    const found = await coll.findOneAndUpdate(
      { name: 'BANANA' },
      { $set: { fruit: true } },
      { collation: CASE_INSENSITIVE, returnDocument: 'after' },
    );
    expect(found).toEqual({ _id: 3, name: 'banana', fruit: true });
    const deleted = await coll.deleteOne({ name: 'cherry' }, { collation: CASE_INSENSITIVE });
    expect(deleted.deletedCount).toBe(1);
    expect(ids(await coll.find({ fruit: true }).toArray())).toEqual([1, 2, 3]);
    expect(await coll.countDocuments({ _id: 4 } as never)).toBe(0);
  });

  it.skipIf(AGAINST_REAL_SERVER)(
    'refuses the collations and uses of one it cannot honour with BadValue naming collation',
    async () => {
      const refusals: Array<() => Promise<unknown>> = [
        () => coll.find({ name: 'a' }, { collation: { locale: 'en', strength: 3 } }).toArray(),
        () =>
          coll
            .find({ name: 'a' }, { collation: { locale: 'en', numericOrdering: true } })
            .toArray(),
        () =>
          coll
            .find({ name: 'a' }, { collation: { locale: 'xx-nonsense-1', strength: 2 } })
            .toArray(),
        () => coll.distinct('name', {}, { collation: CASE_INSENSITIVE }),
        () => db.createCollection('withCollation', { collation: CASE_INSENSITIVE }),
        () => coll.createIndex({ name: 1 }, { unique: true, collation: CASE_INSENSITIVE }),
      ];
      for (const refused of refusals) {
        const error = await failure(refused());
        expect(error.code).toBe(2);
        expect(error.message).toMatch(
          /collation .* is not supported by the Tributary MongoDB emulator/,
        );
      }
      const grouped = await failure(
        coll.aggregate([{ $group: { _id: '$name' } }], { collation: CASE_INSENSITIVE }).toArray(),
      );
      expect(grouped.message).toMatch(
        /the \$group stage under a non-simple collation is not supported/,
      );
      const regex = await failure(
        coll.find({ name: /^a/ }, { collation: CASE_INSENSITIVE }).toArray(),
      );
      expect(regex.message).toMatch(/regular expression .* non-simple collation is not supported/);
      const positional = await failure(
        coll.updateOne(
          { name: 'APPLE' },
          { $set: { 'tags.$': 1 } },
          { collation: CASE_INSENSITIVE },
        ),
      );
      expect(positional.message).toMatch(/positional \$ operator under a non-simple collation/);
      expect(await db.listCollections({ name: 'withCollation' }).toArray()).toEqual([]);
      expect((await coll.listIndexes().toArray()).map((index) => index.name)).toEqual(['_id_']);
    },
  );

  it('refuses a collation without a locale as the server does', async () => {
    const error = await failure(coll.find({}, { collation: { strength: 2 } as never }).toArray());
    expect(error.code).toBe(40414);
  });
});
