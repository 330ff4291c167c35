import { ErrorCode } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { QueueError } from '../../src/queue-error.ts';
import { translateError } from '../../src/bullmq/translate-error.ts';

const bullmqError = (code: number) => Object.assign(new Error('from a BullMQ script'), { code });

describe('translateError', () => {
  it.each([
    ['a missing job', bullmqError(ErrorCode.JobNotExist), 'NOT_FOUND', false],
    ['a missing lock', bullmqError(ErrorCode.JobLockNotExist), 'OWNERSHIP_LOST', false],
    [
      'a lock held by another token',
      bullmqError(ErrorCode.JobLockMismatch),
      'OWNERSHIP_LOST',
      false,
    ],
    ['a job no longer active', bullmqError(ErrorCode.JobNotInState), 'OWNERSHIP_LOST', false],
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'UNAVAILABLE',
      true,
    ],
    ['a command timeout', new Error('Command timed out'), 'UNAVAILABLE', true],
    ['a closed connection', new Error('Connection is closed.'), 'UNAVAILABLE', true],
    ['something thrown that is not an Error', 'boom', 'UNAVAILABLE', true],
  ])('translates %s', (_, error, code, retryable) => {
    const translated = translateError(error, 'doing it');
    expect([translated.code, translated.retryable]).toEqual([code, retryable]);
    expect(translated.cause).toBe(error);
    expect(translated.message).toMatch(/^doing it: /);
  });

  it('passes a QueueError through unchanged', () => {
    const original = new QueueError('TOO_LARGE', 'too big');
    expect(translateError(original, 'doing it')).toBe(original);
  });
});
