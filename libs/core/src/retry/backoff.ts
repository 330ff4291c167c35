import { isTributaryError } from '../errors/tributary-error.ts';

/** The one backoff shape used everywhere: exponential, capped, jittered, bounded. */
export interface BackoffPolicy {
  /** Attempts after the first; `Infinity` retries until `maxElapsedMs`. */
  readonly maxRetries: number;
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  /** No retry starts after this long since the first attempt; `Infinity` for never. */
  readonly maxElapsedMs: number;
  /** 0 … 1: each delay is drawn from [d·(1−jitter), d]. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  maxRetries: 8,
  initialIntervalMs: 100,
  maxIntervalMs: 10_000,
  maxElapsedMs: 60_000,
  jitter: 0.5,
};

/**
 * The delay before retry number `retry` (1 for the first retry), or
 * `undefined` when the policy says stop. Pure: `random` is passed in.
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  retry: number,
  elapsedMs: number,
  random: () => number = Math.random,
): number | undefined {
  if (retry > policy.maxRetries || elapsedMs >= policy.maxElapsedMs) return undefined;
  const ceiling = Math.min(policy.maxIntervalMs, policy.initialIntervalMs * 2 ** (retry - 1));
  const delay = ceiling * (1 - policy.jitter * random());
  return Math.max(0, Math.min(Math.round(delay), policy.maxElapsedMs - elapsedMs));
}

/** Whether an error is worth retrying: only errors that say so. */
export function isRetryable(error: unknown): boolean {
  return isTributaryError(error) && error.retryable;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  readonly policy?: BackoffPolicy;
  /** Decides per error; default {@link isRetryable}. */
  readonly retryable?: (error: unknown) => boolean;
  /** Called before each wait, for logs and metrics. */
  readonly onRetry?: (error: unknown, retry: number, delayMs: number) => void;
  /** Stops waiting and rethrows the last error when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `operation` until it succeeds, the error is not retryable, or the
 * policy gives up; then throws the last error.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_BACKOFF;
  const retryable = options.retryable ?? isRetryable;
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (error) {
      const delay = retryable(error)
        ? backoffDelayMs(policy, attempt + 1, Date.now() - started)
        : undefined;
      if (delay === undefined || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt + 1, delay);
      await sleep(delay, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
