import { isCheckpointError } from '@tributary/checkpoint';
import { isLakeError } from '@tributary/lake';
import { isQueueError } from '@tributary/queue';

/**
 * Whose problem a failure is, which decides what the writer does with it:
 *
 * - `event`: one event cannot be written (the lake refuses its file's
 *   path). The batch's other events are written; the batch goes to the
 *   dead letters recording which events reached the lake. Failures in one
 *   event's own work — its claim-checked copy gone or not a change event,
 *   a line that cannot be encoded — are that event's too, decided where
 *   the line is made (`eventLines`), since retrying cannot change them.
 * - `batch`: the batch itself is wrong (undecodable, a bug that throws
 *   outside one event's work). Retried, then dead-lettered.
 * - `ownership`: another writer owns the partition now (a checkpoint or a
 *   file moved under this one, its write lease is gone, the queue says so).
 *   Stop at once; write nothing more.
 * - `environment`: something around the writer is failing (credentials,
 *   throttling, an unreachable service, a conflict nobody recognises, a
 *   request the service calls invalid, a corrupt checkpoint). Never
 *   dead-lettered: retried with backoff while `/readyz` says what is
 *   wrong, until it works again.
 */
export type FailureClass = 'event' | 'batch' | 'ownership' | 'environment';

/** The dependency an environment failure is about, for readiness and logs. */
export type Dependency = 'lake' | 'checkpoint store' | 'queue';

/** How a failure is classified, and what an operator should know. */
export interface Classification {
  readonly class: FailureClass;
  /** Set for environment failures. */
  readonly dependency?: Dependency;
}

/**
 * A failure of the lake request for one file of a batch: which events that
 * file was meant to hold. Only the writer raises it, so a lake refusal of a
 * path can be told from a refusal of the batch.
 */
export class SegmentFailure extends Error {
  readonly keys: readonly string[];
  readonly path: string;

  constructor(path: string, keys: readonly string[], cause: unknown) {
    super(`writing ${keys.length} event(s) to ${path} failed: ${messageOf(cause)}`, { cause });
    this.name = 'SegmentFailure';
    this.path = path;
    this.keys = keys;
  }
}

const LAKE_CODES: Readonly<Record<string, FailureClass>> = {
  CONFLICT: 'ownership',
  THROTTLED: 'environment',
  UNAVAILABLE: 'environment',
  UNAUTHORIZED: 'environment',
  UNEXPECTED: 'environment',
  // A data file that vanished or appeared was changed outside Tributary:
  // an operator must look, and no dead letter would help.
  NOT_FOUND: 'environment',
  ALREADY_EXISTS: 'environment',
  // A request the service calls invalid is no event's fault: a bug, or a
  // feature the account lacks. Retried, loudly, never dead-lettered.
  INVALID: 'environment',
  INVALID_PATH: 'environment',
};

const CHECKPOINT_CODES: Readonly<Record<string, FailureClass>> = {
  CONFLICT: 'ownership',
  UNAVAILABLE: 'environment',
  // A stored checkpoint that cannot be read needs an operator, not a dead letter.
  CORRUPT: 'environment',
};

const QUEUE_CODES: Readonly<Record<string, FailureClass>> = {
  OWNERSHIP_LOST: 'ownership',
  UNAVAILABLE: 'environment',
  NOT_FOUND: 'ownership',
  TOO_LARGE: 'batch',
};

/**
 * Classifies a failure by the error's type and `code` alone — never its
 * message — in the manner of the MongoDB driver's `isResumableError`. Pure,
 * and tested with a table of cases. A code this table does not know yet is
 * taken for the environment's: retrying loses nothing, a dead letter might.
 */
export function classifyFailure(error: unknown): Classification {
  if (error instanceof SegmentFailure) {
    // The lake refused this file's path: the events' problem, not the
    // batch's. Everything else keeps the cause's class.
    const refused = isLakeError(error.cause) && error.cause.code === 'INVALID_PATH';
    return refused ? { class: 'event' } : classifyFailure(error.cause);
  }
  const [codes, dependency]: [Readonly<Record<string, FailureClass>>, Dependency] | [] =
    isLakeError(error)
      ? [LAKE_CODES, 'lake']
      : isCheckpointError(error)
        ? [CHECKPOINT_CODES, 'checkpoint store']
        : isQueueError(error)
          ? [QUEUE_CODES, 'queue']
          : [];
  // Anything else — a batch that does not decode, a TypeError — is the batch's.
  if (codes === undefined || dependency === undefined) return { class: 'batch' };
  const found = codes[(error as { code: string }).code] ?? 'environment';
  return found === 'environment' ? { class: found, dependency } : { class: found };
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
