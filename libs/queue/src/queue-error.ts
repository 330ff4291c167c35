import { TributaryError } from '@tributary/core';

/** Why a transport operation failed. */
export type QueueErrorCode =
  /** The broker could not be reached or failed; try again. */
  | 'UNAVAILABLE'
  /** This writer no longer owns the partition; stop working on it. */
  | 'OWNERSHIP_LOST'
  /** The batch is not (or no longer) in the queue. */
  | 'NOT_FOUND'
  /** The message is larger than the transport accepts. */
  | 'TOO_LARGE';

const RETRYABLE: ReadonlySet<QueueErrorCode> = new Set(['UNAVAILABLE']);

/** The one error type every transport adapter raises. */
export class QueueError extends TributaryError<QueueErrorCode> {
  constructor(code: QueueErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: RETRYABLE.has(code), cause: options.cause });
  }
}

/** True for errors raised by transport adapters. */
export function isQueueError(error: unknown): error is QueueError {
  return error instanceof QueueError;
}
