import { TributaryError } from '@tributary/core';

/** Why a checkpoint operation failed. */
export type CheckpointErrorCode =
  /** Someone stored a newer checkpoint: this writer lost the partition. */
  | 'CONFLICT'
  /** The store could not be reached or failed; try again. */
  | 'UNAVAILABLE'
  /** A stored checkpoint cannot be read (corrupt or from an unknown version). */
  | 'CORRUPT';

/** The one error type every checkpoint store raises. */
export class CheckpointError extends TributaryError<CheckpointErrorCode> {
  constructor(code: CheckpointErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: code === 'UNAVAILABLE', cause: options.cause });
  }
}

/** True for errors raised by checkpoint stores. */
export function isCheckpointError(error: unknown): error is CheckpointError {
  return error instanceof CheckpointError;
}
