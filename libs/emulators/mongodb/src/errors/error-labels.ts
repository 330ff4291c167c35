/**
 * The error labels the server attaches to a reply, as its ErrorLabelBuilder
 * decides them (`src/mongo/db/error_labels.cpp`): a pure function of the
 * command, its session options and the codes of its failure, so the
 * dispatcher labels an error it raised, one a fail point injected and a
 * write-concern error alike.
 */

/** The server's `RetriableError` category (`error_codes.yml`), without internal-only codes. */
const RETRIABLE_CODES = new Set([
  6, 7, 89, 91, 134, 189, 262, 358, 402, 406, 407, 412, 453, 462, 9001, 10107, 11600, 11602, 13435,
  13436, 50915, 91331,
]);
/** `SnapshotError` (239, 246, 250, 272) and `NeedRetargettingError` (150, 13388) categories. */
const SNAPSHOT_OR_RETARGETING_CODES = new Set([239, 246, 250, 272, 150, 13388]);
/** Codes that are always a transient transaction error (WriteConflict, LockTimeout, …). */
const ALWAYS_TRANSIENT_CODES = new Set([112, 24, 267, 343, 249]);
/** InternalTransactionNotSupported: retryable as a write, never transient. */
const INTERNAL_TRANSACTION_NOT_SUPPORTED = 358;
const NO_SUCH_TRANSACTION = 251;
/** Codes after which a change stream may resume, besides the retriable ones (network errors are retriable here). */
const RESUMABLE_EXTRA_CODES = new Set([150, 13388, 234, 133]);
const COMMIT_OR_ABORT = new Set(['commitTransaction', 'abortTransaction']);
/**
 * The server's `NonResumableChangeStreamError` category (ChangeStreamFatalError,
 * ChangeStreamHistoryLost): any command failing with one is labelled so, and a
 * driver never resumes after it.
 */
const NON_RESUMABLE_CODES = new Set([280, 286]);

/** What the labels depend on. */
export interface LabelledFailure {
  /** The command's name as the server knows it (its canonical name). */
  commandName: string;
  /** The command's error code; absent when it succeeded (a write-concern error alone). */
  code?: number | undefined;
  /** The code of the reply's `writeConcernError`, if any. */
  writeConcernCode?: number | undefined;
  /** The command carried `txnNumber`. */
  hasTxnNumber: boolean;
  /** The command carried `autocommit` (it runs in a transaction). */
  hasAutocommit: boolean;
  /**
   * The failure happened where the server's change-stream machinery sees it:
   * on a change stream's aggregate or getMore after its cursor was checked out.
   */
  inChangeStream: boolean;
}

/** True when the server calls `code` a transient transaction error (its isTransientTransactionError). */
export function isTransientTransactionError(
  code: number,
  hasWriteConcernError: boolean,
  isCommitOrAbort: boolean,
): boolean {
  if (code === INTERNAL_TRANSACTION_NOT_SUPPORTED) return false;
  if (ALWAYS_TRANSIENT_CODES.has(code) || SNAPSHOT_OR_RETARGETING_CODES.has(code)) return true;
  // A commit that failed with a write-concern error may have committed: retrying the whole transaction is unsafe.
  if (isCommitOrAbort) return code === NO_SUCH_TRANSACTION && !hasWriteConcernError;
  return RETRIABLE_CODES.has(code) || code === NO_SUCH_TRANSACTION;
}

/** True for the server's retriable codes (the RetryableWriteError label's condition). */
export function isRetriableCode(code: number): boolean {
  return RETRIABLE_CODES.has(code);
}

/**
 * The labels of a failed reply (or of a successful one with a write-concern
 * error). TransientTransactionError and RetryableWriteError exclude each
 * other (the whole transaction is what to retry); neither goes with
 * ResumableChangeStreamError or NonResumableChangeStreamError.
 */
export function errorLabelsFor(failure: LabelledFailure): string[] {
  const { code, writeConcernCode, hasTxnNumber, hasAutocommit } = failure;
  if (code === undefined && writeConcernCode === undefined) return [];
  const isCommitOrAbort = COMMIT_OR_ABORT.has(failure.commandName);
  if (
    code !== undefined &&
    hasTxnNumber &&
    hasAutocommit &&
    isTransientTransactionError(code, writeConcernCode !== undefined, isCommitOrAbort)
  )
    return ['TransientTransactionError'];
  const retryableWrite = hasTxnNumber && !hasAutocommit;
  const commitOrAbort = hasTxnNumber && hasAutocommit && isCommitOrAbort;
  if (
    (retryableWrite || commitOrAbort) &&
    ((code !== undefined && isRetriableCode(code)) ||
      (writeConcernCode !== undefined && isRetriableCode(writeConcernCode)))
  )
    return ['RetryableWriteError'];
  if (
    failure.inChangeStream &&
    code !== undefined &&
    writeConcernCode === undefined &&
    (isRetriableCode(code) || RESUMABLE_EXTRA_CODES.has(code))
  )
    return ['ResumableChangeStreamError'];
  if (code !== undefined && NON_RESUMABLE_CODES.has(code)) return ['NonResumableChangeStreamError'];
  return [];
}
