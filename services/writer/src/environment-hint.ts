import { isCheckpointError } from '@tributary/checkpoint';
import { isLakeError } from '@tributary/lake';
import { isQueueError } from '@tributary/queue';
import { messageOf } from './failure-class.ts';

const LAKE_HINTS: Readonly<Record<string, string>> = {
  UNAUTHORIZED:
    'the lake refused the credentials: renew the SAS token or account key, or grant the identity Storage Blob Data Contributor on the filesystem; writing resumes by itself once it works',
  THROTTLED: 'the lake is throttling requests; retrying with backoff',
  UNAVAILABLE:
    'the lake cannot be reached or failed; check ADLS_ACCOUNT_URL and the network; retrying with backoff',
  UNEXPECTED:
    'the lake answered with a conflict this release does not know; retrying with backoff — report it if it lasts',
  NOT_FOUND:
    'a data file listed in a checkpoint was changed or removed outside Tributary; restore it (nothing is written to the partition until then)',
  INVALID:
    'the lake refused a request as invalid — a bug, or a feature the account lacks (hierarchical namespace, leases, the API version); retrying with backoff — report it if it lasts',
  INVALID_PATH:
    'the lake refused a path Tributary keeps its state under; check TRIBUTARY_PATH_TEMPLATE and the account; retrying with backoff',
};

const CHECKPOINT_HINTS: Readonly<Record<string, string>> = {
  UNAVAILABLE: 'the checkpoint store cannot be reached; retrying with backoff',
  CORRUPT:
    'a stored checkpoint cannot be read; restore it from a backup or remove it to re-read the partition from the capture origin',
};

const QUEUE_HINTS: Readonly<Record<string, string>> = {
  // Either transport: the queue error's own message, which follows, names
  // which one and what it said (a refused credential, a missing queue).
  UNAVAILABLE:
    'the queue (Redis or Service Bus, as TRIBUTARY_TRANSPORT selects) cannot be reached or refused the request; check REDIS_URL, or SERVICEBUS_CONNECTION_STRING / SERVICEBUS_NAMESPACE, and the network; retrying with backoff',
};

/**
 * What an operator should know about an environment failure (see
 * `classifyFailure`): what is wrong and what to do, followed by the
 * error's own message. Messages of Tributary's errors carry no secrets.
 */
export function environmentHint(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const hints = isLakeError(error)
    ? LAKE_HINTS
    : isCheckpointError(error)
      ? CHECKPOINT_HINTS
      : isQueueError(error)
        ? QUEUE_HINTS
        : {};
  const hint = typeof code === 'string' ? (hints as Record<string, string>)[code] : undefined;
  const cause = (error as { cause?: unknown }).cause;
  const detail = isLakeError(cause) || isCheckpointError(cause) ? ` (${messageOf(cause)})` : '';
  return `${hint ?? 'a dependency failed; retrying with backoff'}: ${messageOf(error)}${detail}`;
}
