import type { Logger } from '@tributary/core';

/** Exit codes of a service process. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** What a stop signal does now: exit at once until a shutdown is armed. */
let onStopSignal: (signal: NodeJS.Signals) => void = () => process.exit(EXIT_OK);
let listening = false;

/**
 * Registers SIGTERM and SIGINT once, as the first thing a process does —
 * before it loads anything heavy. Until {@link exitOnSignal} arms an ordered
 * shutdown, a stop signal finds nothing opened and exits at once with 0.
 *
 * The listeners are never removed and re-added: a signal that arrives while
 * modules load is queued for the signal handle that exists then, and
 * replacing that handle would drop it (the process would ignore SIGTERM).
 */
export function listenForStopSignals(): void {
  if (listening) return;
  listening = true;
  for (const signal of STOP_SIGNALS) process.on(signal, (s: NodeJS.Signals) => onStopSignal(s));
}

/**
 * Arms the ordered shutdown: on the first SIGTERM or SIGINT, runs `shutdown`
 * once, then exits 0. If it has not finished within `timeoutMs` (or a second
 * signal arrives), the process stops hard with exit code 1: whatever was not
 * acknowledged is redelivered later, so a hard stop loses nothing — it only
 * costs a replay.
 */
export function exitOnSignal(options: {
  shutdown: () => Promise<void>;
  timeoutMs: number;
  logger: Logger;
}): void {
  const { logger } = options;
  listenForStopSignals();
  let started = false;
  onStopSignal = (signal) => {
    if (started) {
      logger.warn({ signal }, 'second signal: stopping now');
      hardStop();
      return;
    }
    started = true;
    logger.info(
      { signal, timeoutMs: options.timeoutMs },
      'shutting down: draining, flushing, checkpointing',
    );
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, 'shutdown deadline passed: stopping now');
      hardStop();
    }, options.timeoutMs);
    options.shutdown().then(
      () => {
        clearTimeout(deadline);
        logger.info('shutdown complete');
        logger.flush();
        process.exit(EXIT_OK);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.error({ err: error }, 'shutdown failed');
        hardStop();
      },
    );
  };
  function hardStop() {
    logger.flush();
    process.exit(EXIT_FAILURE);
  }
}
