import { randomUUID } from 'node:crypto';

/**
 * AMQP error conditions the emulator answers with: the OASIS ones and the
 * `com.microsoft:` ones Service Bus adds. `@azure/core-amqp` maps each to the
 * SDK's error code (`ConditionErrorNameMapper` in its `errors.js`), so the SDK
 * raises the same `ServiceBusError.code` as against the service.
 */
export type AmqpCondition =
  | 'amqp:not-found'
  | 'amqp:unauthorized-access'
  | 'amqp:not-allowed'
  | 'amqp:not-implemented'
  | 'amqp:internal-error'
  | 'amqp:decode-error'
  | 'amqp:invalid-field'
  | 'amqp:resource-limit-exceeded'
  | 'amqp:link:message-size-exceeded'
  | 'amqp:link:detach-forced'
  | 'amqp:connection:forced'
  | 'com.microsoft:server-busy'
  | 'com.microsoft:timeout'
  | 'com.microsoft:message-lock-lost'
  | 'com.microsoft:session-lock-lost'
  | 'com.microsoft:session-cannot-be-locked'
  | 'com.microsoft:message-not-found'
  | 'com.microsoft:argument-error'
  | 'com.microsoft:argument-out-of-range';

/** What went wrong: an AMQP condition for the wire, or a problem of the emulator itself. */
export type EmulatorErrorCode = AmqpCondition | 'invalid-configuration' | 'storage-failure';

/** HTTP-like status codes of `$management` / `$cbs` answers, per condition. */
const STATUS_BY_CONDITION: Record<AmqpCondition, number> = {
  'amqp:not-found': 404,
  'amqp:unauthorized-access': 401,
  'amqp:not-allowed': 400,
  'amqp:not-implemented': 501,
  'amqp:internal-error': 500,
  'amqp:decode-error': 400,
  'amqp:invalid-field': 400,
  'amqp:resource-limit-exceeded': 403,
  'amqp:link:message-size-exceeded': 403,
  'amqp:link:detach-forced': 410,
  'amqp:connection:forced': 410,
  'com.microsoft:server-busy': 503,
  'com.microsoft:timeout': 408,
  'com.microsoft:message-lock-lost': 410,
  'com.microsoft:session-lock-lost': 410,
  'com.microsoft:session-cannot-be-locked': 410,
  'com.microsoft:message-not-found': 404,
  'com.microsoft:argument-error': 400,
  'com.microsoft:argument-out-of-range': 400,
};

/**
 * The emulator's one error type. Broker operations throw it with the AMQP
 * condition the service answers with; the link and management code translate
 * it at the edge into a detach, a rejected outcome or a status code. The
 * description never contains a key or a token.
 */
export class EmulatorError extends Error {
  /** The AMQP condition (or emulator-level code). */
  readonly code: EmulatorErrorCode;
  /** Whether a client may succeed by retrying the same operation. */
  readonly retryable: boolean;

  constructor(code: EmulatorErrorCode, message: string) {
    super(message);
    this.name = 'EmulatorError';
    this.code = code;
    this.retryable =
      code === 'com.microsoft:server-busy' ||
      code === 'com.microsoft:timeout' ||
      code === 'amqp:link:detach-forced' ||
      code === 'amqp:connection:forced' ||
      code === 'amqp:internal-error';
  }

  /** The condition to put on the wire (`amqp:internal-error` for emulator-level codes). */
  get condition(): AmqpCondition {
    return this.code === 'invalid-configuration' || this.code === 'storage-failure'
      ? 'amqp:internal-error'
      : this.code;
  }

  /** The HTTP-like status of a `$management` answer carrying this error. */
  get status(): number {
    return STATUS_BY_CONDITION[this.condition];
  }

  /** The AMQP `error` value (condition + description) for detach frames and outcomes. */
  toAmqpError(): { condition: AmqpCondition; description: string } {
    return { condition: this.condition, description: this.message };
  }
}

/** True when `value` is an {@link EmulatorError}. */
export function isEmulatorError(value: unknown): value is EmulatorError {
  return value instanceof EmulatorError;
}

/**
 * The service ends its error descriptions with a tracking id and timestamp
 * ("TrackingId:…, SystemTracker:…, Timestamp:…"); clients and logs parse
 * nothing from it, but keeping the shape makes the emulator's errors read like
 * the service's.
 */
function tracking(entity: string): string {
  return ` TrackingId:${randomUUID()}, SystemTracker:${entity}, Timestamp:${new Date().toISOString()}`;
}

/** Errors with the service's words, named once so every path answers alike. */
export const errors = {
  /** `MessagingEntityNotFound`: the SDK matches "The messaging entity … could not be found". */
  entityNotFound: (entityUri: string): EmulatorError =>
    new EmulatorError(
      'amqp:not-found',
      `The messaging entity '${entityUri}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.${tracking(entityUri)}`,
    ),
  messageLockLost: (entity: string): EmulatorError =>
    new EmulatorError(
      'com.microsoft:message-lock-lost',
      `The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue, or was received by a different receiver instance.${tracking(entity)}`,
    ),
  sessionLockLost: (entity: string, sessionId: string): EmulatorError =>
    new EmulatorError(
      'com.microsoft:session-lock-lost',
      `The session lock has expired on the MessageSession. Accept a new MessageSession. Session: '${sessionId}'.${tracking(entity)}`,
    ),
  sessionCannotBeLocked: (entity: string, sessionId: string): EmulatorError =>
    new EmulatorError(
      'com.microsoft:session-cannot-be-locked',
      `The requested session '${sessionId}' cannot be accepted. It may be locked by another receiver.${tracking(entity)}`,
    ),
  noSessionAvailable: (entity: string): EmulatorError =>
    new EmulatorError(
      'com.microsoft:timeout',
      `The operation did not complete within the allotted timeout: no unlocked session with messages became available.${tracking(entity)}`,
    ),
  serverBusy: (entity: string): EmulatorError =>
    new EmulatorError(
      'com.microsoft:server-busy',
      `The request was terminated because the entity is being throttled. Error code : 50009. Please wait 2 seconds and try again.${tracking(entity)}`,
    ),
  messageSizeExceeded: (entity: string, deliveryId: number, size: number, limit: number) =>
    new EmulatorError(
      'amqp:link:message-size-exceeded',
      `The received message (delivery-id:${deliveryId}, size:${size} bytes) exceeds the limit (${limit} bytes) currently allowed on the link.${tracking(entity)}`,
    ),
  scheduledMessageSizeExceeded: (entity: string, index: number, size: number, limit: number) =>
    new EmulatorError(
      'amqp:link:message-size-exceeded',
      `The scheduled message at index ${index} (size:${size} bytes) exceeds the limit (${limit} bytes) currently allowed on the entity.${tracking(entity)}`,
    ),
  deferredMessageNotFound: (entity: string, sequenceNumbers: readonly number[]): EmulatorError =>
    new EmulatorError(
      'com.microsoft:message-not-found',
      `Failed to retrieve the deferred message with sequence number(s) ${sequenceNumbers.join(', ')}. The message may have been received already, or doesn't exist.${tracking(entity)}`,
    ),
  scheduledMessageNotFound: (entity: string, sequenceNumber: number): EmulatorError =>
    new EmulatorError(
      'com.microsoft:message-not-found',
      `The scheduled message with sequence number ${sequenceNumber} was not found.${tracking(entity)}`,
    ),
  sessionIdRequired: (entity: string): EmulatorError =>
    new EmulatorError(
      'amqp:not-allowed',
      `The SessionId was not set on a message, and it cannot be sent to the entity. Entities that have session support enabled can only receive messages that have the SessionId set to a valid value.${tracking(entity)}`,
    ),
  sessionfulReceiverRequired: (entity: string): EmulatorError =>
    new EmulatorError(
      'amqp:not-allowed',
      `It is not possible for an entity that requires sessions to create a non-sessionful message receiver.${tracking(entity)}`,
    ),
  sessionsNotSupported: (entity: string): EmulatorError =>
    new EmulatorError(
      'amqp:not-allowed',
      `It is not possible for an entity that does not require sessions to create a sessionful message receiver.${tracking(entity)}`,
    ),
  sendToSubqueueNotAllowed: (entity: string): EmulatorError =>
    new EmulatorError(
      'amqp:not-allowed',
      `Send operations are not allowed on the dead-letter sub-queue '${entity}'.${tracking(entity)}`,
    ),
  argument: (entity: string, what: string): EmulatorError =>
    new EmulatorError('com.microsoft:argument-error', `${what}${tracking(entity)}`),
  decode: (entity: string, what: string): EmulatorError =>
    new EmulatorError('amqp:decode-error', `${what}${tracking(entity)}`),
  unauthorized: (reason: string): EmulatorError =>
    new EmulatorError('amqp:unauthorized-access', reason),
  notImplemented: (entity: string, what: string): EmulatorError =>
    new EmulatorError('amqp:not-implemented', `${what}${tracking(entity)}`),
};
