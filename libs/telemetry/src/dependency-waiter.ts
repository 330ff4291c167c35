import {
  DEFAULT_BACKOFF,
  type Logger,
  backoffDelayMs,
  isTributaryError,
  sleep,
} from '@tributary/core';
import type { Readiness } from './readiness.ts';

/** What a failure of a dependency means: wait it out (with what to tell), or stop. */
export type DependencyFailure =
  | { readonly kind: 'outage'; readonly reason: string }
  | { readonly kind: 'fatal'; readonly error: Error };

/** How a failure of a dependency is judged. */
export type FailureJudge = (error: unknown) => DependencyFailure;

/** A service retries for as long as it runs: giving up on a batch would lose it. */
const BACKOFF = { ...DEFAULT_BACKOFF, maxRetries: Infinity, maxElapsedMs: Infinity };

/** Codes that are the service's own mistake or a bad setting: waiting cannot fix them. */
const MISTAKES = new Set(['INVALID', 'TOO_LARGE', 'BATCH_INVALID', 'CONFIG_INVALID']);

/**
 * Tributary's stores and queues fail for reasons of the environment —
 * unreachable, throttling, refused credentials, a corrupt document an
 * operator must fix — which a service waits out. Only mistakes (a request
 * the service calls invalid, a batch too large, anything that is not one of
 * Tributary's errors) stop it.
 */
export function judgeStoreFailure(error: unknown): DependencyFailure {
  const outage = isTributaryError(error) && !MISTAKES.has(error.code);
  return outage
    ? { kind: 'outage', reason: error.message }
    : { kind: 'fatal', error: error instanceof Error ? error : new Error(String(error)) };
}

/**
 * Waits out a service's dependencies, with backoff and readiness: while one
 * fails, `/readyz` names it with the reason, a log line says what is wrong
 * (the first of a run of failures and every 20th), and the next success
 * clears it.
 */
export class DependencyWaiter {
  readonly #readiness: Readiness;
  readonly #logger: Logger;
  readonly #stop: AbortSignal;
  readonly #failures = new Map<string, number>();

  constructor(readiness: Readiness, logger: Logger, stop: AbortSignal) {
    this.#readiness = readiness;
    this.#logger = logger;
    this.#stop = stop;
  }

  /**
   * Runs `operation` until it succeeds, waiting out outages of `dependency`.
   *
   * @throws what `judge` calls fatal, and the last error once capture stops.
   */
  async untilDone<T>(
    dependency: string,
    operation: () => Promise<T>,
    judge: FailureJudge = judgeStoreFailure,
  ): Promise<T> {
    for (let failures = 1; ; failures += 1) {
      try {
        const result = await operation();
        this.working(dependency);
        return result;
      } catch (error) {
        const failure = judge(error);
        if (failure.kind === 'fatal' || this.#stop.aborted)
          throw failure.kind === 'fatal' ? failure.error : error;
        this.failing(dependency, failure.reason, failures);
        await this.pause(failures);
      }
    }
  }

  /** One try: the result, or `undefined` after recording an outage (the caller tries again later). */
  async attempt<T>(dependency: string, operation: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await operation();
      this.working(dependency);
      return result;
    } catch (error) {
      const failure = judgeStoreFailure(error);
      if (failure.kind === 'fatal') throw failure.error;
      this.failing(dependency, failure.reason, (this.#failures.get(dependency) ?? 0) + 1);
      return undefined;
    }
  }

  /** Records a failure of `dependency` (the `attempts`-th in a row). */
  failing(dependency: string, reason: string, attempts: number): void {
    this.#failures.set(dependency, attempts);
    this.#readiness.fail(dependency, reason);
    if (attempts % 20 === 1)
      this.#logger.warn({ dependency, attempts }, `${dependency}: ${reason}`);
  }

  /** Records that `dependency` answered. */
  working(dependency: string): void {
    this.#readiness.recover(dependency);
    const failures = this.#failures.get(dependency);
    if (failures === undefined) return;
    this.#failures.delete(dependency);
    this.#logger.info({ dependency, attempts: failures }, `${dependency} works again`);
  }

  /** Waits the backoff for the `failures`-th failure in a row (at once when capture stops). */
  async pause(failures: number): Promise<void> {
    await sleep(backoffDelayMs(BACKOFF, failures, 0) ?? BACKOFF.maxIntervalMs, this.#stop);
  }
}
