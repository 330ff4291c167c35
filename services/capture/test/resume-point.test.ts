import type { PartitionCheckpoint } from '@tributary/checkpoint';
import { formatOrderingKey } from '@tributary/core';
import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { namespaceFilter } from '../src/namespace-filter.ts';
import { resumePoint } from '../src/resume-point.ts';

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
  fencingToken: 1,
  updatedAt: new Date(),
});

describe('the resume point', () => {
  it('resumes after the oldest partition checkpoint when every partition has one', () => {
    const point = resumePoint(
      new Map([
        [0, checkpoint(0, 7)],
        [1, checkpoint(1, 3)],
        [2, checkpoint(2, 9)],
      ]),
      origin,
      3,
    );
    expect(point.after).toEqual(at(3));
    expect(point.startAtOperationTime).toBeUndefined();
    expect([...point.previousKeys]).toEqual([
      [0, at(7).key],
      [1, at(3).key],
      [2, at(9).key],
    ]);
  });

  it('starts from capture’s origin while any partition has no position yet', () => {
    const point = resumePoint(
      new Map([
        [0, checkpoint(0, 7)],
        [1, checkpoint(1)], // a dead letter before its first batch
      ]),
      origin,
      3,
    );
    expect(point.after).toBeUndefined();
    expect(point.startAtOperationTime).toEqual(origin.startAtOperationTime);
    expect([...point.previousKeys]).toEqual([
      [0, at(7).key],
      [1, ''],
      [2, ''],
    ]);
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
