import { describe, expect, it } from 'vitest';
import { bodyOf, decodePayload, encodePayload } from '../../src/bullmq/job-payload.ts';

describe('job payload', () => {
  it('carries every byte of the body and the headers through JSON', () => {
    const body = Uint8Array.from({ length: 256 }, (_, i) => i);
    const payload = encodePayload(body.subarray(1, 255), { traceparent: 't' });
    const travelled = decodePayload(JSON.parse(JSON.stringify(payload)));
    expect(travelled).toBeDefined();
    expect(Array.from(bodyOf(travelled!))).toEqual(Array.from(body.subarray(1, 255)));
    expect(travelled!.headers).toEqual({ traceparent: 't' });
    expect(travelled!.failedAttempts).toBe(0);
  });

  it('keeps the time of the first failure a writer recorded', () => {
    const data = {
      body: '',
      headers: {},
      failedAttempts: 2,
      firstFailedAt: '2026-01-02T03:04:05.678Z',
    };
    expect(decodePayload(JSON.parse(JSON.stringify(data)))?.firstFailedAt).toBe(
      '2026-01-02T03:04:05.678Z',
    );
    expect(decodePayload({ ...data, firstFailedAt: undefined })).not.toHaveProperty(
      'firstFailedAt',
    );
  });

  it('starts without headers when none are given', () => {
    expect(encodePayload(new Uint8Array([1]), undefined).headers).toEqual({});
  });

  it.each([
    ['null', null],
    ['a string', 'x'],
    ['no body', { headers: {}, failedAttempts: 0 }],
    ['a negative attempt count', { body: '', headers: {}, failedAttempts: -1 }],
    ['a fractional attempt count', { body: '', headers: {}, failedAttempts: 1.5 }],
    ['non-string headers', { body: '', headers: { a: 1 }, failedAttempts: 0 }],
    ['no headers', { body: '', failedAttempts: 0 }],
    [
      'a first failure that is not a time',
      { body: '', headers: {}, failedAttempts: 1, firstFailedAt: 5 },
    ],
  ])('refuses job data with %s', (_, data) => {
    expect(decodePayload(data)).toBeUndefined();
  });
});
