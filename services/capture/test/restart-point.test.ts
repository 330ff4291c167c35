import type { PartitionCheckpoint } from '@tributary/checkpoint';
import { formatOrderingKey } from '@tributary/core';
import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { namespaceFilter } from '../src/namespace-filter.ts';
import { restartPoint } from '../src/restart-point.ts';

const origin = {
  startAtOperationTime: new Timestamp({ t: 1_795_266_000, i: 1 }),
  createdAt: new Date(),
};
const at = (i: number) => ({
  key: formatOrderingKey({ t: 1_795_266_000, i, n: 0 }),
  token: { _data: `tok${i}` },
});
const checkpoint = (partition: number, i?: number): PartitionCheckpoint => ({
  partition,
  ...(i === undefined ? {} : { position: at(i) }),
  openFiles: [],
  writerId: 'w',
  updatedAt: new Date(),
});

describe('the restart point', () => {
  const stored = new Map([
    [0, checkpoint(0, 7)],
    [1, checkpoint(1, 3)],
    [2, checkpoint(2, 9)],
    [3, checkpoint(3)],
  ]);

  it('is after the oldest checkpoint of the partitions that need it', () => {
    expect(restartPoint(stored, [0, 1, 2], origin)).toEqual({ after: at(3) });
    expect(restartPoint(stored, [0, 2], origin)).toEqual({ after: at(7) });
    expect(restartPoint(stored, [2], origin)).toEqual({ after: at(9) });
  });

  it('is capture’s origin while one of them has no position yet', () => {
    const point = restartPoint(stored, [0, 3], origin);
    expect(point).toEqual({ at: origin.startAtOperationTime, keyBefore: expect.any(String) });
    if (!('at' in point)) throw new Error('expected the origin');
    expect(point.keyBefore < formatOrderingKey({ t: 1_795_266_000, i: 1, n: 0 })).toBe(true);
    expect(restartPoint(new Map(), [5], origin)).toEqual(point);
  });
});

describe('the namespace filter', () => {
  it('keeps included namespaces (db, db.coll, wildcards) minus excluded ones, and events without one', () => {
    const keep = namespaceFilter(['shop', 'crm.contacts', 'logs.app-*'], ['shop.audit']);
    expect(keep({ db: 'shop', coll: 'orders' })).toBe(true);
    expect(keep({ db: 'shop', coll: 'audit' })).toBe(false);
    expect(keep({ db: 'crm', coll: 'contacts' })).toBe(true);
    expect(keep({ db: 'crm', coll: 'leads' })).toBe(false);
    expect(keep({ db: 'logs', coll: 'app-web' })).toBe(true);
    expect(keep({ db: 'logs', coll: 'db' })).toBe(false);
    expect(keep({ db: 'shopping', coll: 'x' })).toBe(false);
    expect(keep(undefined)).toBe(true);
    expect(namespaceFilter([], ['scratch.*'])({ db: 'scratch', coll: 'x' })).toBe(false);
    expect(namespaceFilter([], [])({ db: 'any', coll: 'thing' })).toBe(true);
  });
});
