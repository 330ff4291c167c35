import { TributaryError } from './tributary-error.ts';

/** Why a core operation failed. */
export type CoreErrorCode =
  /** A setting is missing or malformed. */
  | 'CONFIG_INVALID'
  /** A queue message is not a valid change batch: a poison message. */
  | 'BATCH_INVALID';

/** The base error of `@tributary/core`. */
export class CoreError extends TributaryError<CoreErrorCode> {
  constructor(
    code: CoreErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, { retryable: options.retryable ?? false, cause: options.cause });
  }
}

/** True for errors raised by `@tributary/core`. */
export function isCoreError(error: unknown): error is CoreError {
  return error instanceof CoreError;
}
