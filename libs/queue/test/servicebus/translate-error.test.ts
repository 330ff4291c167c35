import { ServiceBusError, type ServiceBusErrorCode } from '@azure/service-bus';
import { describe, expect, it } from 'vitest';
import { isQueueError } from '../../src/index.ts';
import {
  isMissingQueue,
  isSessionHeldElsewhere,
  translateError,
} from '../../src/servicebus/translate-error.ts';

const sb = (code: ServiceBusErrorCode, message = `${code} happened`) =>
  new ServiceBusError(message, code);

/** What core-amqp's retry throws once more than one attempt failed: its own message is empty. */
const attempts = (...errors: unknown[]) => new AggregateError(errors);

describe('Service Bus errors translated at the edge', () => {
  it.each([
    ['a lost session lock', sb('SessionLockLost'), 'OWNERSHIP_LOST', false],
    ['a lost message lock', sb('MessageLockLost'), 'OWNERSHIP_LOST', false],
    ['a session held elsewhere', sb('SessionCannotBeLocked'), 'OWNERSHIP_LOST', false],
    ['a message over the size limit', sb('MessageSizeExceeded'), 'TOO_LARGE', false],
    ['a message that is gone', sb('MessageNotFound'), 'NOT_FOUND', false],
    ['throttling', sb('ServiceBusy'), 'UNAVAILABLE', true],
    ['a timeout', sb('ServiceTimeout'), 'UNAVAILABLE', true],
    ['refused credentials', sb('UnauthorizedAccess'), 'UNAVAILABLE', true],
    ['a missing queue', sb('MessagingEntityNotFound'), 'UNAVAILABLE', true],
    ['a plain error', new Error('socket hang up'), 'UNAVAILABLE', true],
    [
      'retries that ended in a lost lock',
      attempts(sb('ServiceBusy'), sb('SessionLockLost')),
      'OWNERSHIP_LOST',
      false,
    ],
    [
      'retries that ended in throttling',
      attempts(sb('SessionLockLost'), sb('ServiceBusy')),
      'UNAVAILABLE',
      true,
    ],
    [
      'an untranslated core-amqp error',
      Object.assign(new Error('lock lost'), { code: 'SessionLockLostError' }),
      'OWNERSHIP_LOST',
      false,
    ],
  ] as const)('%s becomes %s', (_what, error, code, retryable) => {
    const translated = translateError(error, 'doing it');
    expect(isQueueError(translated) && [translated.code, translated.retryable]).toEqual([
      code,
      retryable,
    ]);
    expect(translated.cause).toBe(error);
  });

  it('says what every attempt of a retried operation met, not the empty message of their bundle', () => {
    const translated = translateError(
      attempts(
        sb('ServiceBusy', 'server busy'),
        sb('ServiceBusy', 'server busy'),
        new Error('reset'),
      ),
      'publishing to partition 3',
    );
    expect(translated.message).toBe(
      'publishing to partition 3: Service Bus failed (server busy; reset)',
    );
  });

  it('names what to check when the credentials are refused', () => {
    expect(translateError(attempts(sb('UnauthorizedAccess')), 'connecting').message).toMatch(
      /SERVICEBUS_CONNECTION_STRING/,
    );
  });

  it('tells a session held elsewhere and a missing queue apart through the translation', () => {
    const held = translateError(attempts(sb('SessionCannotBeLocked')), 'accepting');
    const missing = translateError(sb('MessagingEntityNotFound'), 'peeking');
    expect([isSessionHeldElsewhere(held), isMissingQueue(held)]).toEqual([true, false]);
    expect([isSessionHeldElsewhere(missing), isMissingQueue(missing)]).toEqual([false, true]);
  });
});
