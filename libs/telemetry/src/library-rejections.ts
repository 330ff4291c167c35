import { inspect } from 'node:util';
import type { Logger } from '@tributary/core';
import { EXIT_FAILURE } from './graceful-shutdown.ts';

/**
 * Whether an unhandled rejection came from inside a library, not from
 * Tributary's own code: its reason is not an `Error` (the AMQP libraries
 * reject with the peer's error descriptor), or every frame of its stack is
 * inside `node_modules`.
 *
 * Why this is needed: `@azure/service-bus` 7.9.5 (the latest release) leaves
 * promises of its own unguarded — closing a receiver whose session lock was
 * lost, or an AMQP session whose close timed out, rejects with nobody
 * listening (Azure/azure-sdk-for-js#35342, #39348). Every operation
 * Tributary starts has its own deadline and handles its own outcome, so such
 * a rejection tells nothing the pipeline has not already acted on; Node's
 * default would end the process for it, a writer in the middle of its work.
 */
export function isLibraryRejection(reason: unknown): boolean {
  if (!(reason instanceof Error)) return true;
  const frames = (reason.stack ?? '')
    .split('\n')
    .slice(1)
    .filter((line) => /^\s+at /.test(line));
  const located = frames.filter((line) => /\(?(file:\/\/)?\/|\(node:/.test(line));
  if (located.length === 0) return false;
  return located.every((line) => /node_modules[\\/]|\(node:|\bnode:internal\b/.test(line));
}

/**
 * Installs the process's unhandled-rejection policy: a library's dangling
 * rejection (see {@link isLibraryRejection}) is logged as a warning with
 * what it says and the process goes on; any other is a bug in Tributary —
 * logged as fatal, and the process exits with 1 as Node would (a
 * supervisor restarts it; unacknowledged batches are redelivered).
 */
export function handleUnhandledRejections(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (isLibraryRejection(reason)) {
      logger.warn(
        { reason: describe(reason) },
        'a library left a promise rejected with no handler; the operation it belonged to has its own deadline and outcome, so the service goes on',
      );
      return;
    }
    logger.fatal({ err: reason }, 'unhandled rejection: a bug; exiting');
    process.exit(EXIT_FAILURE);
  });
}

/** A short, single-line description of a rejection reason (an AMQP error descriptor, an error). */
function describe(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  return inspect(reason, { depth: 3, breakLength: Infinity }).slice(0, 1000);
}
