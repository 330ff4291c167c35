import { CliError } from '../cli-error.ts';

/**
 * Ends a long verification when the operator pressed Ctrl-C: nothing was
 * changed, and a partial reading is no verdict.
 *
 * @throws CliError `UNAVAILABLE` once `signal` is aborted.
 */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new CliError(
      'UNAVAILABLE',
      'Interrupted before verification finished; nothing was reported or changed.',
    );
}
