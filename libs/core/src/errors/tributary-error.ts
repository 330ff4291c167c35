/**
 * The root of every error Tributary raises on purpose. Each lib derives one
 * base error with its own string-union `code`; callers branch on `code` and
 * `retryable`, never on message text.
 */
export abstract class TributaryError<Code extends string = string> extends Error {
  /** A stable, machine-readable reason. */
  readonly code: Code;
  /** Whether repeating the same operation later may succeed. */
  readonly retryable: boolean;

  protected constructor(
    code: Code,
    message: string,
    options: { retryable: boolean; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable;
  }
}

/** True for any error Tributary raised on purpose. */
export function isTributaryError(error: unknown): error is TributaryError {
  return error instanceof TributaryError;
}
