import { TributaryError } from '@tributary/core';

/** Why a lake operation failed, whatever the adapter. */
export type LakeErrorCode =
  /** The path does not exist. */
  | 'NOT_FOUND'
  /** The path exists and the operation needed it not to. */
  | 'ALREADY_EXISTS'
  /**
   * Someone else changed the file: its version or length is not what the
   * caller expected. The caller has lost ownership; it must stop writing.
   */
  | 'CONFLICT'
  /** The service asked us to slow down (429, 503 ServerBusy). */
  | 'THROTTLED'
  /** The service failed or could not be reached (5xx, reset, timeout). */
  | 'UNAVAILABLE'
  /** Credentials were refused or lack permission. */
  | 'UNAUTHORIZED'
  /**
   * The path breaks the lake's naming rules (the port's own, or the
   * service's: ADLS InvalidResourceName, a name too long for the file
   * system): the data meant for it cannot go there.
   */
  | 'INVALID_PATH'
  /** The request itself is wrong: a bug, or a feature the service does not offer. */
  | 'INVALID'
  /**
   * The service refused the request for a reason this adapter does not know
   * (a 409 with an unknown code): nobody's ownership is known to be lost and
   * the request is not known to be wrong. Not retried here; callers treat it
   * as a problem of the environment and try again later.
   */
  | 'UNEXPECTED';

const RETRYABLE: ReadonlySet<LakeErrorCode> = new Set(['THROTTLED', 'UNAVAILABLE']);

/** The one error type every lake adapter raises; vendor errors are translated at the edge. */
export class LakeError extends TributaryError<LakeErrorCode> {
  constructor(code: LakeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: RETRYABLE.has(code), cause: options.cause });
  }
}

/** True for errors raised by lake adapters. */
export function isLakeError(error: unknown): error is LakeError {
  return error instanceof LakeError;
}
