import { isServiceBusError } from '@azure/service-bus';
import { QueueError, isQueueError } from '../queue-error.ts';

/**
 * Translates whatever the Service Bus SDK threw into the port's one error
 * type, by the SDK's `code` (never by message text):
 *
 * - a lost or unavailable session or message lock → `OWNERSHIP_LOST`;
 * - a message over the queue's size limit → `TOO_LARGE`;
 * - a message that is no longer there → `NOT_FOUND`;
 * - everything else — throttling (`ServiceBusy`), timeouts, dropped
 *   connections, a queue that is missing or disabled, refused credentials —
 *   is the environment: `UNAVAILABLE`, retried by the caller and never a
 *   reason to dead-letter data. The message names what to check.
 *
 * @param doing what was attempted, for the message ("publishing to partition 3").
 */
export function translateError(error: unknown, doing: string): QueueError {
  if (isQueueError(error)) return error;
  const detail = detailOf(error);
  switch (codeOf(error)) {
    case 'SessionLockLost':
    case 'MessageLockLost':
    case 'SessionCannotBeLocked':
      return new QueueError('OWNERSHIP_LOST', `${doing}: the session lock is gone (${detail})`, {
        cause: error,
      });
    case 'MessageSizeExceeded':
      return new QueueError('TOO_LARGE', `${doing}: the queue refused the size (${detail})`, {
        cause: error,
      });
    case 'MessageNotFound':
      return new QueueError('NOT_FOUND', `${doing}: the message is gone (${detail})`, {
        cause: error,
      });
    case 'UnauthorizedAccess':
      return new QueueError(
        'UNAVAILABLE',
        `${doing}: Service Bus refused the credentials (${detail}); check SERVICEBUS_CONNECTION_STRING, or the role assignments of the identity used with SERVICEBUS_NAMESPACE`,
        { cause: error },
      );
    case 'MessagingEntityNotFound':
    case 'MessagingEntityDisabled':
      return new QueueError(
        'UNAVAILABLE',
        `${doing}: the queue is missing or disabled (${detail}); check TRIBUTARY_QUEUE_NAME and that the queue exists with sessions enabled`,
        { cause: error },
      );
    default:
      return new QueueError('UNAVAILABLE', `${doing}: Service Bus failed (${detail})`, {
        cause: error,
      });
  }
}

/**
 * The Service Bus code of `error`. The SDK's retries (core-amqp's `retry`)
 * throw an `AggregateError` of every failed attempt once more than one
 * failed: the last attempt says how it ended. A core-amqp `MessagingError`
 * that the SDK did not translate carries the older code names.
 */
function codeOf(error: unknown): string | undefined {
  if (error instanceof AggregateError && error.errors.length > 0)
    return codeOf(error.errors.at(-1));
  if (isServiceBusError(error)) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? MESSAGING_CODES[code] : undefined;
}

/** core-amqp's code names for the ones this translation tells apart (the SDK's own mapping). */
const MESSAGING_CODES: Readonly<Record<string, string>> = {
  SessionLockLostError: 'SessionLockLost',
  MessageLockLostError: 'MessageLockLost',
  SessionCannotBeLockedError: 'SessionCannotBeLocked',
  MessageTooLargeError: 'MessageSizeExceeded',
  MessageNotFoundError: 'MessageNotFound',
  UnauthorizedError: 'UnauthorizedAccess',
  MessagingEntityNotFoundError: 'MessagingEntityNotFound',
  MessagingEntityDisabledError: 'MessagingEntityDisabled',
};

/** What went wrong, in words: every attempt's message for an `AggregateError` (its own is empty). */
function detailOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    const messages = error.errors.map(detailOf).filter((message) => message.length > 0);
    return [...new Set(messages)].join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether `error` (as {@link translated} throws it) says another receiver
 * holds the session: expected while writers spread partitions, not a failure.
 */
export function isSessionHeldElsewhere(error: unknown): boolean {
  return codeOf(isQueueError(error) ? error.cause : error) === 'SessionCannotBeLocked';
}

/** Whether `error` (as {@link translated} throws it) says the queue does not exist or is disabled. */
export function isMissingQueue(error: unknown): boolean {
  const code = codeOf(isQueueError(error) ? error.cause : error);
  return code === 'MessagingEntityNotFound' || code === 'MessagingEntityDisabled';
}

/**
 * Runs `operation`, translating any failure with {@link translateError}.
 * With `timeoutMs`, an operation without an answer by then is aborted
 * through the signal it is given (the SDK's `abortSignal`) and fails with
 * `UNAVAILABLE`: the SDK's own retries can otherwise wait a minute for a
 * connection while the service is down.
 */
export async function translated<T>(
  doing: string,
  operation: (abortSignal: AbortSignal) => Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired =
    timeoutMs === undefined
      ? undefined
      : new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(
              new QueueError(
                'UNAVAILABLE',
                `${doing}: Service Bus did not answer within ${timeoutMs} ms`,
              ),
            );
          }, timeoutMs);
        });
  try {
    const running = operation(controller.signal);
    return await (expired ? Promise.race([running, expired]) : running);
  } catch (error) {
    throw translateError(error, doing);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Awaits cleanup whose failure changes nothing for the caller (a link that
 * fails to close is gone with its connection, and its locks expire on their
 * own), reporting the failure instead of throwing.
 */
export async function bestEffort(
  doing: string,
  operation: () => Promise<unknown>,
  report: (error: QueueError) => void,
  timeoutMs = CLEANUP_TIMEOUT_MS,
): Promise<void> {
  try {
    await translated(doing, operation, timeoutMs);
  } catch (error) {
    report(translateError(error, doing));
  }
}

/** How long a clean-up (closing a link, letting a message go) may take before it is given up. */
const CLEANUP_TIMEOUT_MS = 5000;
