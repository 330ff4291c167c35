import { TributaryError } from '@tributary/core';

/** Why capture stopped. */
export type CaptureErrorCode =
  /** The oplog no longer holds the resume point: resuming would skip events. */
  | 'HISTORY_LOST'
  /** The MongoDB deployment cannot serve change streams. */
  | 'NOT_A_REPLICA_SET';

/** An error that stops capture and needs an operator. */
export class CaptureError extends TributaryError<CaptureErrorCode> {
  constructor(code: CaptureErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, cause: options.cause });
  }
}

/** True for capture's own errors. */
export function isCaptureError(error: unknown): error is CaptureError {
  return error instanceof CaptureError;
}
