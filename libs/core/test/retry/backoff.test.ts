import { describe, expect, it } from 'vitest';
import {
  CoreError,
  type BackoffPolicy,
  backoffDelayMs,
  isRetryable,
  retry,
} from '../../src/index.ts';

const policy: BackoffPolicy = {
  maxRetries: 5,
  initialIntervalMs: 100,
  maxIntervalMs: 1000,
  maxElapsedMs: 10_000,
  jitter: 0.5,
};

describe('the backoff policy', () => {
  it.each([
    // retry, elapsed, random, expected delay
    [1, 0, 0, 100],
    [2, 0, 0, 200],
    [3, 0, 0, 400],
    [4, 0, 0, 800],
    [5, 0, 0, 1000], // capped at maxIntervalMs
    [6, 0, 0, undefined], // past maxRetries
    [1, 0, 1, 50], // full jitter halves the delay at most
    [3, 0, 0.5, 300],
    [2, 9_950, 0, 50], // never waits past maxElapsedMs
    [2, 10_000, 0, undefined], // out of time
  ])(
    'retry %i after %i ms with random %f waits %s ms',
    (retryNumber, elapsed, random, expected) => {
      expect(backoffDelayMs(policy, retryNumber, elapsed, () => random)).toBe(expected);
    },
  );

  it('retries only errors that say they are retryable', () => {
    expect(isRetryable(new CoreError('CONFIG_INVALID', 'x', { retryable: true }))).toBe(true);
    expect(isRetryable(new CoreError('BATCH_INVALID', 'x'))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
  });

  it('runs an operation until it succeeds', async () => {
    const seen: number[] = [];
    const result = await retry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 2) throw new CoreError('CONFIG_INVALID', 'transient', { retryable: true });
        return 'ok';
      },
      { policy: { ...policy, initialIntervalMs: 1 } },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('gives up at once on an error that is not retryable', async () => {
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new CoreError('BATCH_INVALID', 'poison');
    };
    await expect(retry(failing, { policy })).rejects.toThrow('poison');
    expect(calls).toBe(1);
  });
});
