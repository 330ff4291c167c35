import { ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/index.ts';

const order = (id: number) => ({ ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: id } });

describe('partitioning', () => {
  it('routes every event of a collection to one partition by namespace', () => {
    const partitions = new Set(
      [1, 2, 3, 4, 5].map((id) => partitionOf(order(id), 16, 'namespace')),
    );
    expect(partitions.size).toBe(1);
  });

  it('routes DDL events with their collection', () => {
    const drop = { ns: { db: 'shop', coll: 'orders' } };
    expect(partitionOf(drop, 16, 'namespace')).toBe(partitionOf(order(1), 16, 'namespace'));
  });

  it('spreads a hot collection by document key, keeping each document on one partition', () => {
    const ids = Array.from({ length: 200 }, () => new ObjectId());
    const spread = new Set(
      ids.map((_id) =>
        partitionOf(
          { ns: { db: 'shop', coll: 'orders' }, documentKey: { _id } },
          16,
          'namespace+documentKey',
        ),
      ),
    );
    expect(spread.size).toBeGreaterThan(8);
    const again = {
      ns: { db: 'shop', coll: 'orders' },
      documentKey: { _id: new ObjectId(ids[0]?.toHexString()) },
    };
    expect(partitionOf(again, 16, 'namespace+documentKey')).toBe(
      partitionOf(
        { ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: ids[0] } },
        16,
        'namespace+documentKey',
      ),
    );
  });

  it('is the same mapping in every process (a fixed hash, not a seeded one)', () => {
    // Pinned values (first 4 bytes of SHA-256 of "db.coll", modulo the count):
    // capture and writers of different releases must agree on them.
    expect(partitionOf({ ns: { db: 'a', coll: 'b' } }, 1024, 'namespace')).toBe(732);
    expect(partitionOf({ ns: { db: 'shop', coll: 'orders' } }, 1024, 'namespace')).toBe(76);
  });
});
