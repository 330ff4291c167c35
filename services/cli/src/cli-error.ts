import { TributaryError } from '@tributary/core';

/**
 * What went wrong with a command, and the exit code it ends with:
 * - `USAGE` (64, sysexits EX_USAGE): unknown command or option, conflicting flags;
 * - `NOT_FOUND` (1): the id, partition or file named does not exist;
 * - `UNSAFE` (1): refused because it would be unsafe now (a running capture, no confirmation);
 * - `UNAVAILABLE` (69, EX_UNAVAILABLE): the queue, lake, checkpoints or MongoDB cannot be reached.
 *
 * The message names the problem and what to do; nothing was changed.
 */
export type CliErrorCode = 'USAGE' | 'NOT_FOUND' | 'UNSAFE' | 'UNAVAILABLE';

export class CliError extends TributaryError<CliErrorCode> {
  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: code === 'UNAVAILABLE', ...options });
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof CliError;
}

/** Exit codes of `tributary`. */
export const EXIT = {
  ok: 0,
  /** Something is wrong: problems found, warnings, an unknown id, an unsafe request refused. */
  findings: 1,
  usage: 64,
  unavailable: 69,
  /** sysexits EX_SOFTWARE: an error the command did not expect (a bug); its message redacted. */
  software: 70,
  config: 78,
} as const;

export function exitCodeOf(code: CliErrorCode): number {
  switch (code) {
    case 'USAGE':
      return EXIT.usage;
    case 'UNAVAILABLE':
      return EXIT.unavailable;
    default:
      return EXIT.findings;
  }
}
