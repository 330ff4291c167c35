import { uuidText } from '../amqp/lock-token.ts';
import { AmqpDecodeError } from '../amqp/amqp-reader.ts';
import { parseMessage, type ParsedMessage } from '../amqp/message-codec.ts';
import { types } from '../amqp/rhea.ts';
import type { PropertiesToModify, QueueEntity } from '../broker/queue-entity.ts';
import { encodeStoredMessage, type StoredMessage } from '../broker/stored-message.ts';
import type { Subqueue } from '../broker/subqueue.ts';
import { EmulatorError, errors } from '../emulator-error.ts';

/**
 * The `$management` operations of a queue, as "AMQP 1.0 in Azure Service
 * Bus: request-response-based operations" defines them
 * (https://learn.microsoft.com/azure/service-bus-messaging/service-bus-amqp-request-response):
 * request body and answer body are AMQP maps; answers carry `statusCode`
 * and `statusDescription`. Each operation checks its input and throws
 * {@link EmulatorError} with the service's condition.
 */
export interface OperationScope {
  queue: QueueEntity;
  subqueue: Subqueue;
  entityPath: string;
  /**
   * The receiving link on the requesting connection that may act on session
   * `id`: the one named by `associated-link-name`, or the connection's link
   * that holds the session. A value that never matches a holder otherwise.
   */
  sessionHolder(id: string, associatedLinkName: string | undefined): object;
}

/** An operation's answer. */
export interface OperationAnswer {
  status: number;
  description: string;
  body?: unknown;
  /** Work to do once the journal holds the operation's changes (e.g. making scheduled messages visible). */
  afterDurable?: () => void;
}

const OK = (body?: unknown): OperationAnswer => ({ status: 200, description: 'OK', body });

function argument(scope: OperationScope, text: string): EmulatorError {
  return errors.argument(scope.entityPath, text);
}

function asLong(scope: OperationScope, value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  throw argument(scope, `The request's '${name}' must be a long.`);
}

function asLongs(scope: OperationScope, value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.length === 0)
    throw argument(scope, `The request's '${name}' must be a non-empty array of long.`);
  return value.map((v) => asLong(scope, v, name));
}

function asCount(scope: OperationScope, value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw argument(scope, `The request's '${name}' must be a whole number.`);
  return value;
}

function asLockTokens(scope: OperationScope, value: unknown): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v) => Buffer.isBuffer(v) && v.length === 16)
  )
    throw argument(scope, "The request's 'lock-tokens' must be a non-empty array of uuid.");
  return (value as Buffer[]).map(uuidText);
}

function optionalString(scope: OperationScope, value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw argument(scope, `The request's '${name}' must be a string.`);
  return value;
}

function requiredString(scope: OperationScope, value: unknown, name: string): string {
  const text = optionalString(scope, value, name);
  if (text === undefined) throw argument(scope, `The request's '${name}' is required.`);
  return text;
}

function propertiesToModify(value: unknown): PropertiesToModify | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value))
    return undefined;
  return value as PropertiesToModify;
}

function sessions(scope: OperationScope) {
  if (!scope.queue.sessions || scope.subqueue.kind !== 'main')
    throw new EmulatorError(
      'amqp:not-allowed',
      `The entity '${scope.entityPath}' does not require sessions.`,
    );
  return scope.queue.sessions;
}

function lockOf(scope: OperationScope, token: string) {
  const lock = scope.queue.findLock(token);
  if (!lock || lock.message.subqueue !== scope.subqueue.kind)
    throw errors.messageLockLost(scope.entityPath);
  return lock;
}

const operations: Record<
  string,
  (
    scope: OperationScope,
    body: Record<string, unknown>,
    link: string | undefined,
  ) => OperationAnswer
> = {
  'com.microsoft:renew-lock': (scope, body) => {
    const expirations = asLockTokens(scope, body['lock-tokens']).map((token) =>
      scope.queue.renewLock(lockOf(scope, token)),
    );
    return OK({ expirations: types.wrap_array(expirations, 0x83, undefined) });
  },

  'com.microsoft:peek-message': (scope, body) => {
    const from = asLong(scope, body['from-sequence-number'], 'from-sequence-number');
    const count = asCount(scope, body['message-count'], 'message-count');
    const sessionId = optionalString(scope, body['session-id'], 'session-id');
    const found = scope.subqueue.peek(from, Math.max(1, count), sessionId);
    if (found.length === 0) return { status: 204, description: 'No messages to peek.' };
    return OK({
      messages: found.map((m) => ({ message: encodeStoredMessage(m, m.lock?.lockedUntilMs) })),
    });
  },

  'com.microsoft:schedule-message': (scope, body) => {
    const entries = body['messages'];
    if (scope.subqueue.kind !== 'main') throw errors.sendToSubqueueNotAllowed(scope.entityPath);
    if (!Array.isArray(entries) || entries.length === 0)
      throw argument(scope, "The request's 'messages' must be a non-empty list.");
    // The checks a send gets: a scheduled message is sent too, only later
    // ("Incoming messages that exceed these quotas are rejected",
    // https://learn.microsoft.com/azure/service-bus-messaging/service-bus-quotas).
    const limit = scope.queue.properties.maxMessageSizeBytes;
    const parsed = entries.map((entry, i) => {
      const encoded = (entry as Record<string, unknown> | null)?.['message'];
      if (!Buffer.isBuffer(encoded))
        throw argument(scope, 'Each scheduled message must carry its encoded message.');
      if (encoded.length > limit)
        throw errors.scheduledMessageSizeExceeded(scope.entityPath, i, encoded.length, limit);
      let message: ParsedMessage;
      try {
        message = parseMessage(encoded);
      } catch (error) {
        if (!(error instanceof AmqpDecodeError)) throw error;
        throw errors.decode(
          scope.entityPath,
          `Scheduled message ${i} could not be decoded: ${error.message}.`,
        );
      }
      if (message.scheduledEnqueueTimeMs === undefined)
        throw argument(scope, 'A scheduled message needs x-opt-scheduled-enqueue-time.');
      if (scope.queue.sessions && message.sessionId === undefined)
        throw errors.sessionIdRequired(scope.entityPath);
      return message;
    });
    const accepted = parsed
      .map((m) => scope.queue.accept(m))
      .filter((m): m is StoredMessage => m !== undefined);
    return {
      ...OK({
        'sequence-numbers': types.wrap_array(
          accepted.map((m) => m.sequenceNumber),
          0x81,
          undefined,
        ),
      }),
      afterDurable: () => accepted.forEach((m) => scope.queue.admit(m)),
    };
  },

  'com.microsoft:cancel-scheduled-message': (scope, body) => {
    for (const seq of asLongs(scope, body['sequence-numbers'], 'sequence-numbers'))
      scope.queue.cancelScheduled(seq);
    return OK();
  },

  'com.microsoft:receive-by-sequence-number': (scope, body, link) => {
    const seqs = asLongs(scope, body['sequence-numbers'], 'sequence-numbers');
    const mode = body['receiver-settle-mode'] === 0 ? 'receiveAndDelete' : 'peekLock';
    const sessionId = optionalString(scope, body['session-id'], 'session-id');
    let holder: object | undefined;
    if (scope.queue.sessions && scope.subqueue.kind === 'main') {
      if (sessionId === undefined)
        throw argument(scope, "A session entity needs the request's 'session-id'.");
      holder = scope.sessionHolder(sessionId, link);
      scope.queue.sessions.checkHeld(sessionId, undefined, Date.now(), holder);
    }
    const messages = scope.queue.deferredMessages(seqs, sessionId);
    const answer = messages.map((message) => {
      if (mode === 'receiveAndDelete') {
        const encoded = encodeStoredMessage(message);
        scope.queue.deleteOnReceive(message);
        return { message: encoded };
      }
      const lock = scope.queue.lock(message, holder);
      return {
        'lock-token': types.wrap_uuid(lock.token.uuid),
        message: encodeStoredMessage(message, lock.lockedUntilMs),
      };
    });
    return OK({ messages: answer });
  },

  'com.microsoft:update-disposition': (scope, body) => {
    const status = requiredString(scope, body['disposition-status'], 'disposition-status');
    const tokens = asLockTokens(scope, body['lock-tokens']);
    const reason = optionalString(scope, body['deadletter-reason'], 'deadletter-reason');
    const description = optionalString(
      scope,
      body['deadletter-description'],
      'deadletter-description',
    );
    const properties = propertiesToModify(body['properties-to-modify']);
    if (!['completed', 'abandoned', 'defered', 'suspended'].includes(status))
      throw argument(
        scope,
        `Unknown disposition-status '${status}' (expected completed, abandoned, defered or suspended).`,
      );
    for (const token of tokens) {
      const lock = lockOf(scope, token);
      if (status === 'completed') scope.queue.complete(lock);
      else if (status === 'abandoned') scope.queue.abandon(lock, properties);
      else if (status === 'defered') scope.queue.defer(lock, properties);
      else scope.queue.deadLetterLocked(lock, reason, description, properties);
    }
    return OK();
  },

  'com.microsoft:renew-session-lock': (scope, body, link) => {
    const id = requiredString(scope, body['session-id'], 'session-id');
    const expiration = sessions(scope).renew(id, Date.now(), scope.sessionHolder(id, link));
    return OK({ expiration: types.wrap_timestamp(expiration) });
  },

  'com.microsoft:get-session-state': (scope, body, link) => {
    const id = requiredString(scope, body['session-id'], 'session-id');
    const state = sessions(scope).getState(id, scope.sessionHolder(id, link));
    return OK({ 'session-state': state ?? null });
  },

  'com.microsoft:set-session-state': (scope, body, link) => {
    const id = requiredString(scope, body['session-id'], 'session-id');
    const state = body['session-state'];
    if (state !== undefined && state !== null && !Buffer.isBuffer(state))
      throw argument(scope, "The request's 'session-state' must be binary.");
    sessions(scope).setState(id, state ?? undefined, scope.sessionHolder(id, link));
    return OK();
  },

  'com.microsoft:get-message-sessions': (scope, body) => {
    const skip = asCount(scope, body['skip'], 'skip');
    const top = asCount(scope, body['top'], 'top');
    const since = body['last-updated-time'];
    const sinceMs = since instanceof Date ? since.getTime() : typeof since === 'number' ? since : 0;
    const ids = sessions(scope)
      .list(sinceMs)
      .slice(skip, skip + top);
    if (ids.length === 0) return { status: 204, description: 'No sessions.' };
    return OK({
      skip: types.wrap_int(skip + ids.length),
      'sessions-ids': types.wrap_array(ids, 0xb1, undefined),
    });
  },
};

/** Runs one management operation; throws {@link EmulatorError} with the service's condition. */
export function runOperation(
  scope: OperationScope,
  operation: string | undefined,
  body: unknown,
  associatedLinkName: string | undefined,
): OperationAnswer {
  const handler = operation === undefined ? undefined : operations[operation];
  if (!handler)
    throw errors.notImplemented(
      scope.entityPath,
      `The operation '${String(operation)}' is not supported on '${scope.entityPath}'.`,
    );
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body))
    throw argument(scope, 'The request body must be an AMQP map.');
  return handler(scope, body as Record<string, unknown>, associatedLinkName);
}
