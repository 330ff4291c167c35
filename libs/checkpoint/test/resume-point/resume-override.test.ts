import { formatOrderingKey, keyBefore } from '@tributary/core';
import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import type { PartitionCheckpoint, ResumeOverride } from '../../src/checkpoint-store.ts';
import { type RestartPoint, restartPoint } from '../../src/resume-point/restart-point.ts';
import {
  captureResumePoint,
  clusterTimeOfRestartPoint,
  keyOfRestartPoint,
  partitionsBefore,
  resumeMoveKind,
  resumeOverrideApplies,
  withResumeOverride,
} from '../../src/resume-point/resume-override.ts';

const T0 = 1_795_266_000;
const ts = (seconds: number, i = 0) => new Timestamp({ t: T0 + seconds, i });
/** A resume token as MongoDB makes them: 0x82, then the clusterTime's seconds and increment. */
const tokenAt = (seconds: number, i = 1) => ({
  _data: `82${(T0 + seconds).toString(16).padStart(8, '0')}${i.toString(16).padStart(8, '0')}2B0229296E04`,
});
const keyAt = (seconds: number, i = 1, n = 0) => formatOrderingKey({ t: T0 + seconds, i, n });
/** After the event at `seconds`; `tokenSeconds` where heartbeats moved its token on to. */
const after = (seconds: number, tokenSeconds = seconds): RestartPoint => ({
  after: { key: keyAt(seconds), token: tokenAt(tokenSeconds) },
});
const origin = { startAtOperationTime: ts(0, 1), createdAt: new Date() };
const fromOrigin: RestartPoint = {
  at: origin.startAtOperationTime,
  keyBefore: keyBefore({ t: T0, i: 1 }),
};
const at = (seconds: number): RestartPoint => ({
  at: ts(seconds),
  keyBefore: keyBefore({ t: T0 + seconds, i: 0 }),
});

const checkpoint = (partition: number, seconds: number): PartitionCheckpoint => ({
  partition,
  position: { key: keyAt(seconds), token: tokenAt(seconds) },
  openFiles: [],
  writerId: 'w',
  updatedAt: new Date(),
});

const override = (kind: ResumeOverride['kind'], toSeconds: number): ResumeOverride => ({
  kind,
  to: { clusterTime: ts(toSeconds) },
  from: { key: keyAt(10), clusterTime: ts(10, 1) },
  setAt: new Date(),
});

describe('moving the resume point', () => {
  it.each<[string, ResumeOverride['kind'], RestartPoint, Timestamp]>([
    ['to later than a checkpoint', 'gap', after(10), ts(20)],
    ['to earlier than a checkpoint', 'overlap', after(10), ts(5)],
    ['to the checkpoint’s own clusterTime', 'overlap', after(10), ts(10, 1)],
    ['to the increment after it', 'gap', after(10), ts(10, 2)],
    // Nothing happened between the last event and the heartbeat's token: no event is skipped.
    [
      'to between a checkpoint’s last event and its heartbeat token',
      'overlap',
      after(10, 30),
      ts(20),
    ],
    ['to past a checkpoint’s heartbeat token', 'gap', after(10, 30), ts(31)],
    ['to later than the origin', 'gap', fromOrigin, ts(1)],
    ['to the origin', 'overlap', fromOrigin, ts(0, 1)],
  ])('moving %s: %s', (_what, kind, point, to) => {
    expect(resumeMoveKind(point, to)).toBe(kind);
  });

  it('reads a position’s clusterTime from its key when its token has another shape', () => {
    const point: RestartPoint = { after: { key: keyAt(10, 4), token: { _data: 'opaque' } } };
    expect(clusterTimeOfRestartPoint(point)).toEqual(ts(10, 4));
    expect(resumeMoveKind(point, ts(10, 5))).toBe('gap');
    expect(resumeMoveKind(point, ts(10, 4))).toBe('overlap');
  });
});

describe('where capture reads from with an override', () => {
  it.each<[string, RestartPoint, ResumeOverride | undefined, RestartPoint, RestartPoint]>([
    ['no override', after(10), undefined, after(10), after(10)],
    // A floor holds for every start and every rewind until the checkpoints pass it.
    ['a gap’s floor ahead of the checkpoint', after(10), override('gap', 20), at(20), at(20)],
    ['a gap’s floor ahead of the origin', fromOrigin, override('gap', 20), at(20), at(20)],
    [
      'a gap’s floor the checkpoint has passed',
      after(30),
      override('gap', 20),
      after(30),
      after(30),
    ],
    [
      'a gap’s floor under a heartbeat token past it',
      after(10, 25),
      override('gap', 20),
      after(10, 25),
      after(10, 25),
    ],
    // An overlap moves a start back once; a rewind re-reads from the checkpoint as always.
    ['an overlap behind the checkpoint', after(10), override('overlap', 5), at(5), after(10)],
    // Never later than the checkpoints: an overlap never skips.
    [
      'an overlap the checkpoints fell behind',
      after(3),
      override('overlap', 5),
      after(3),
      after(3),
    ],
  ])('%s', (_what, point, stored, onStart, onRewind) => {
    expect(withResumeOverride(point, stored, 'start')).toEqual(onStart);
    expect(withResumeOverride(point, stored, 'rewind')).toEqual(onRewind);
  });

  // An overlap whose clear failed must not re-read from its point at every later start.
  it.each<[string, RestartPoint, ResumeOverride, boolean]>([
    ['the checkpoints still stand where it was set', after(10), override('overlap', 5), true],
    [
      'only a heartbeat moved the token since (no event written)',
      after(10, 30),
      override('overlap', 5),
      true,
    ],
    ['a checkpoint moved on since it was set', after(15), override('overlap', 5), false],
    [
      'set against the origin, and no partition checkpointed since',
      fromOrigin,
      { ...override('overlap', 0), from: { key: fromOrigin.keyBefore, clusterTime: ts(0, 1) } },
      true,
    ],
    [
      'set against the origin, and every partition checkpointed since',
      after(2),
      { ...override('overlap', 0), from: { key: fromOrigin.keyBefore, clusterTime: ts(0, 1) } },
      false,
    ],
  ])('an overlap applies to a start while %s', (_what, point, stored, applies) => {
    expect(resumeOverrideApplies(point, stored, 'start')).toBe(applies);
    expect(resumeOverrideApplies(point, stored, 'rewind')).toBe(false);
    expect(withResumeOverride(point, stored, 'start')).toEqual(
      applies ? at(stored.to.clusterTime.t - T0) : point,
    );
  });

  it('records the key a restart point stands at: its position’s, or the one before its time', () => {
    expect(keyOfRestartPoint(after(10))).toBe(keyAt(10));
    expect(keyOfRestartPoint(fromOrigin)).toBe(keyBefore({ t: T0, i: 1 }));
  });

  it('numbers keys from just before the override’s clusterTime, as for any start at a time', () => {
    const point = withResumeOverride(after(10), override('gap', 20), 'rewind');
    if ('after' in point) throw new Error('expected a start at a time');
    expect(point.keyBefore).toBe(keyBefore({ t: T0 + 20, i: 0 }));
    expect(point.keyBefore > keyAt(10)).toBe(true);
    expect(point.keyBefore < keyAt(20, 1)).toBe(true);
  });

  it('holds a rewind of the partitions behind the floor at the floor, while others passed it', () => {
    const stored = new Map([
      [0, checkpoint(0, 10)],
      [1, checkpoint(1, 25)],
    ]);
    const floor = override('gap', 20);
    const rewind = (partitions: number[]) =>
      withResumeOverride(restartPoint(stored, partitions, origin), floor, 'rewind');
    expect(rewind([0])).toEqual(at(20));
    expect(rewind([0, 1])).toEqual(at(20));
    expect(rewind([1])).toEqual(after(25));
    expect(partitionsBefore(stored, 3, origin, floor.to.clusterTime)).toEqual([0, 2]);
  });
});

describe('capture’s resume point', () => {
  const stored = new Map([
    [0, checkpoint(0, 10)],
    [1, checkpoint(1, 12)],
  ]);

  it('is held back by the oldest checkpoint, or by the origin while a partition has none', () => {
    expect(captureResumePoint(stored, 2, origin, undefined)).toMatchObject({
      point: after(10),
      source: { partition: 0 },
    });
    expect(captureResumePoint(stored, 3, origin, undefined)).toMatchObject({
      point: fromOrigin,
      source: 'origin',
    });
  });

  it('stands at an override that still applies, and says where the checkpoints put it', () => {
    expect(captureResumePoint(stored, 2, origin, override('gap', 20))).toEqual({
      point: at(20),
      source: 'override',
      ofCheckpoints: after(10),
      ofCheckpointsSource: { partition: 0 },
    });
    expect(captureResumePoint(stored, 2, origin, override('gap', 5)).source).toEqual({
      partition: 0,
    });
  });

  it('stands at the checkpoints once they moved on past the point an overlap was set against', () => {
    const moved = new Map([
      [0, checkpoint(0, 11)],
      [1, checkpoint(1, 12)],
    ]);
    expect(captureResumePoint(stored, 2, origin, override('overlap', 5)).source).toBe('override');
    expect(captureResumePoint(moved, 2, origin, override('overlap', 5))).toMatchObject({
      point: after(11),
      source: { partition: 0 },
    });
  });
});
