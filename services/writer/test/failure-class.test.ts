import { CheckpointError } from '@tributary/checkpoint';
import { CoreError } from '@tributary/core';
import { LakeError, type LakeErrorCode } from '@tributary/lake';
import { QueueError } from '@tributary/queue';
import { describe, expect, it } from 'vitest';
import { SegmentFailure, classifyFailure } from '../src/failure-class.ts';

const lake = (code: LakeErrorCode) => new LakeError(code, `lake ${code}`);
const segment = (cause: unknown) => new SegmentFailure('db/c/part.jsonl', ['k1'], cause);

describe('failure classification', () => {
  it.each([
    ['a lake conflict (a file moved, its lease is gone)', lake('CONFLICT'), 'ownership'],
    ['lake throttling', lake('THROTTLED'), 'environment', 'lake'],
    ['the lake unreachable', lake('UNAVAILABLE'), 'environment', 'lake'],
    ['credentials the lake refused (an expired SAS)', lake('UNAUTHORIZED'), 'environment', 'lake'],
    ['a lake conflict nobody recognises (unknown 409)', lake('UNEXPECTED'), 'environment', 'lake'],
    ['a data file removed outside Tributary', lake('NOT_FOUND'), 'environment', 'lake'],
    [
      'a request the lake calls invalid (a bug, an unsupported feature)',
      lake('INVALID'),
      'environment',
      'lake',
    ],
    ['a refused path of one file of the batch', segment(lake('INVALID_PATH')), 'event'],
    ['an invalid request while writing one file', segment(lake('INVALID')), 'environment', 'lake'],
    [
      'a path refused outside any batch file (a checkpoint)',
      lake('INVALID_PATH'),
      'environment',
      'lake',
    ],
    ['throttling while writing one file', segment(lake('THROTTLED')), 'environment', 'lake'],
    ['a lease lost while writing one file', segment(lake('CONFLICT')), 'ownership'],
    ['a bug while writing one file', segment(new TypeError('x is undefined')), 'batch'],
    ['a checkpoint stored by another writer', new CheckpointError('CONFLICT', 'x'), 'ownership'],
    [
      'the checkpoint store unreachable',
      new CheckpointError('UNAVAILABLE', 'x'),
      'environment',
      'checkpoint store',
    ],
    [
      'a stored checkpoint that cannot be read',
      new CheckpointError('CORRUPT', 'x'),
      'environment',
      'checkpoint store',
    ],
    ['the queue saying another writer owns it', new QueueError('OWNERSHIP_LOST', 'x'), 'ownership'],
    ['the queue unreachable', new QueueError('UNAVAILABLE', 'x'), 'environment', 'queue'],
    ['an undecodable batch', new CoreError('BATCH_INVALID', 'x'), 'batch'],
    ['a bug in the writer', new TypeError('x is undefined'), 'batch'],
    ['something thrown that is not an error', 'boom', 'batch'],
    [
      'a lake code this release does not know',
      new LakeError('SOMETHING_NEW' as LakeErrorCode, 'x'),
      'environment',
      'lake',
    ],
  ])('classifies %s', (_what, error, expected, dependency?: string) => {
    const result = classifyFailure(error);
    expect(result.class).toBe(expected);
    expect(result.dependency).toBe(dependency);
  });

  it('never looks at message text', () => {
    const worded = new LakeError('THROTTLED', 'conflict: ownership lost, lease gone, 409');
    expect(classifyFailure(worded).class).toBe('environment');
  });
});
