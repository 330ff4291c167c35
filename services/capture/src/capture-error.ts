import { TributaryError } from '@tributary/core';

/** Why capture stopped. */
export type CaptureErrorCode =
  /** The oplog no longer holds the resume point: resuming would skip events. */
  | 'HISTORY_LOST'
  /** The event the resume point names is not in the oplog as written: the source lost writes. */
  | 'RESUME_POINT_GONE'
  /** MongoDB refused the credentials or the rights to open the stream. */
  | 'NOT_AUTHORIZED'
  /** MongoDB refused the change stream for another lasting reason. */
  | 'STREAM_REFUSED'
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
