import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import { REQUEUED_AT_HEADER, type DeliveredBatch, type OutgoingBatch } from '../transport.ts';
import { messageIdOf, partitionOfSession, sessionOf } from './session-names.ts';

/**
 * How a batch travels as a Service Bus message: the encoded batch is the
 * body (one AMQP data section, bytes unchanged), the partition is the
 * session id, the batch's name is the message id, and the propagated
 * headers are application properties. Tributary's own bookkeeping rides in
 * application properties named `tributary-…`; the service adds
 * `DeadLetterReason` and `DeadLetterErrorDescription` when it dead-letters.
 */

/** Content type of a batch message (`encodeBatch` output of `@tributary/core`). */
export const BATCH_CONTENT_TYPE = 'application/vnd.tributary.batch+bson';

/** Events of a dead-lettered batch that reached the lake (see `DeadLetterNote.eventsInLake`). */
export const EVENTS_IN_LAKE_PROPERTY = 'tributary-events-in-lake';
/** Failed attempts the writer recorded before it dead-lettered the batch. */
export const FAILED_ATTEMPTS_PROPERTY = 'tributary-failed-attempts';
/** When the writer dead-lettered the batch (ISO 8601). */
export const DEAD_LETTERED_AT_PROPERTY = 'tributary-dead-lettered-at';
/** When the batch first failed (ISO 8601): see `DeadLetter.firstFailedAt`. */
export const FIRST_FAILED_AT_PROPERTY = 'tributary-first-failed-at';

/** Properties that are bookkeeping, not propagated headers. */
const NOT_HEADERS: ReadonlySet<string> = new Set([
  EVENTS_IN_LAKE_PROPERTY,
  FAILED_ATTEMPTS_PROPERTY,
  DEAD_LETTERED_AT_PROPERTY,
  FIRST_FAILED_AT_PROPERTY,
  'DeadLetterReason',
  'DeadLetterErrorDescription',
]);

/** The message that carries `batch`. */
export function messageOf(batch: OutgoingBatch): ServiceBusMessage {
  return {
    body: Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength),
    messageId: messageIdOf(batch),
    sessionId: sessionOf(batch.partition),
    contentType: BATCH_CONTENT_TYPE,
    ...(batch.headers ? { applicationProperties: { ...batch.headers } } : {}),
  };
}

/** The propagated headers of a received message (string application properties only). */
export function headersOf(message: ServiceBusReceivedMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.applicationProperties ?? {})) {
    if (typeof value === 'string' && !NOT_HEADERS.has(name)) headers[name] = value;
  }
  return headers;
}

/** The body of a received batch message as bytes. */
export function bodyOf(message: ServiceBusReceivedMessage): Uint8Array {
  const body: unknown = message.body;
  if (body instanceof Uint8Array) return body;
  // Receivers skip JSON parsing, so a data section always arrives as bytes;
  // anything else was not sent by Tributary and fails to decode downstream.
  return new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body ?? null));
}

/** The batch a writer is handed for a received message. */
export function deliveredOf(
  message: ServiceBusReceivedMessage,
  partition: number,
  failedAttempts: number,
): DeliveredBatch {
  const headers = headersOf(message);
  const eventsInLake =
    headers[REQUEUED_AT_HEADER] !== undefined ? eventsInLakeOf(message) : undefined;
  return {
    id: deliveredIdOf(message),
    partition,
    body: bodyOf(message),
    failedAttempts,
    headers,
    ...(eventsInLake ? { eventsInLake } : {}),
  };
}

/** The id a writer and an operator know a batch message by: its message id. */
export function deliveredIdOf(message: ServiceBusReceivedMessage): string {
  return message.messageId === undefined
    ? `seq-${String(message.sequenceNumber)}`
    : String(message.messageId);
}

/** The partition of a received message, from its session id. */
export function partitionOfMessage(message: ServiceBusReceivedMessage): number | undefined {
  return partitionOfSession(message.sessionId);
}

/**
 * The ordering keys a dead letter recorded as in the lake. Stored deflated:
 * a batch's keys share long prefixes, and application properties count
 * towards the service's 64 KiB header limit.
 */
export function encodeEventsInLake(keys: readonly string[]): string {
  return deflateRawSync(Buffer.from(JSON.stringify(keys), 'utf8')).toString('base64');
}

/** The keys {@link encodeEventsInLake} stored on `message`, or [] when it has none. */
export function eventsInLakeOf(message: ServiceBusReceivedMessage): string[] {
  const stored = message.applicationProperties?.[EVENTS_IN_LAKE_PROPERTY];
  if (typeof stored !== 'string' || stored.length === 0) return [];
  const keys: unknown = JSON.parse(inflateRawSync(Buffer.from(stored, 'base64')).toString('utf8'));
  return Array.isArray(keys) ? keys.map(String) : [];
}
