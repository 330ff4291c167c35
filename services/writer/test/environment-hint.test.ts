import { CheckpointError } from '@tributary/checkpoint';
import { LakeError } from '@tributary/lake';
import { QueueError } from '@tributary/queue';
import { describe, expect, it } from 'vitest';
import { environmentHint } from '../src/environment-hint.ts';

describe('environment hints', () => {
  it.each([
    [
      'Redis unreachable (BullMQ)',
      new QueueError(
        'UNAVAILABLE',
        'fetching from partition 3: connect ECONNREFUSED 127.0.0.1:6379',
      ),
      /^the queue \(Redis or Service Bus.*check REDIS_URL, or SERVICEBUS_CONNECTION_STRING \/ SERVICEBUS_NAMESPACE, and the network; retrying with backoff: fetching from partition 3: connect ECONNREFUSED/,
    ],
    [
      'Service Bus busy',
      new QueueError('UNAVAILABLE', 'reading partition 3: Service Bus failed (ServerBusy)'),
      /^the queue \(Redis or Service Bus.*retrying with backoff: reading partition 3: Service Bus failed \(ServerBusy\)$/,
    ],
    [
      'credentials the lake refused',
      new LakeError('UNAUTHORIZED', 'HTTP 403'),
      /^the lake refused the credentials: .*: HTTP 403$/,
    ],
    [
      'a corrupt checkpoint',
      new CheckpointError('CORRUPT', 'not JSON'),
      /^a stored checkpoint cannot be read; .*: not JSON$/,
    ],
    [
      'the checkpoint store failing because the lake does',
      new CheckpointError('UNAVAILABLE', 'reading partition 3', {
        cause: new LakeError('THROTTLED', 'HTTP 503'),
      }),
      /^the checkpoint store cannot be reached; retrying with backoff: reading partition 3 \(HTTP 503\)$/,
    ],
    [
      'a code without a hint',
      new QueueError('TOO_LARGE', 'over 256 KiB'),
      /^a dependency failed; retrying with backoff: over 256 KiB$/,
    ],
  ])('for %s says what is wrong, then what the error said', (_what, error, hint) => {
    expect(environmentHint(error)).toMatch(hint);
  });
});
