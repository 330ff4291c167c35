import { ErrorCode } from 'bullmq';
import { QueueError, isQueueError } from '../queue-error.ts';

/**
 * Translates whatever BullMQ or ioredis threw into the port's one error type.
 * BullMQ reports job-state problems with a numeric `code` (its `ErrorCode`);
 * everything else — refused or dropped connections, timeouts, replies such as
 * LOADING or OOM — means Redis could not do it now, so `UNAVAILABLE`.
 *
 * @param doing what was attempted, for the message ("publishing to partition 3").
 */
export function translateError(error: unknown, doing: string): QueueError {
  if (isQueueError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  switch (bullmqCodeOf(error)) {
    case ErrorCode.JobNotExist:
      return new QueueError('NOT_FOUND', `${doing}: the batch is no longer in the queue`, {
        cause: error,
      });
    case ErrorCode.JobLockNotExist:
    case ErrorCode.JobLockMismatch:
    case ErrorCode.JobNotInState:
      return new QueueError(
        'OWNERSHIP_LOST',
        `${doing}: this reader no longer holds the batch (${detail})`,
        { cause: error },
      );
    default:
      return new QueueError('UNAVAILABLE', `${doing}: Redis failed (${detail})`, { cause: error });
  }
}

/** Runs `operation`, translating any failure with {@link translateError}. */
export async function translated<T>(doing: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw translateError(error, doing);
  }
}

function bullmqCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Awaits cleanup whose failure changes nothing for the caller (the state it
 * tidies also expires on its own), reporting the failure instead of throwing.
 */
export async function bestEffort(
  doing: string,
  operation: () => Promise<unknown>,
  report: (error: QueueError) => void,
): Promise<void> {
  try {
    await operation();
  } catch (error) {
    report(translateError(error, doing));
  }
}
