import { formatOrderingKey } from '@tributary/core';
import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import type { PartitionCheckpoint } from '../../src/checkpoint-store.ts';
import {
  restartPoint,
  timeOfPosition,
  timeOfRestartPoint,
} from '../../src/resume-point/restart-point.ts';

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

/** A resume token as MongoDB makes them: 0x82, then the clusterTime's seconds and increment. */
const tokenAt = (seconds: number, increment = 1) => ({
  _data: `82${seconds.toString(16).padStart(8, '0')}${increment.toString(16).padStart(8, '0')}2B0229296E04`,
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

  it('stands at its token’s clusterTime, which heartbeats move on past the last event', () => {
    const key = formatOrderingKey({ t: 1_795_266_000, i: 4, n: 0 });
    expect(timeOfPosition({ key, token: tokenAt(1_795_266_090) })).toBe(1_795_266_090);
    expect(timeOfRestartPoint({ after: { key, token: tokenAt(1_795_266_090) } })).toBe(
      1_795_266_090,
    );
  });

  it('stands at its key’s clusterTime when the token is of another shape, and at the origin’s', () => {
    const key = formatOrderingKey({ t: 1_795_266_042, i: 4, n: 0 });
    expect(timeOfPosition({ key, token: { _data: 'opaque' } })).toBe(1_795_266_042);
    expect(timeOfRestartPoint(restartPoint(new Map(), [0], origin))).toBe(1_795_266_000);
  });
});
