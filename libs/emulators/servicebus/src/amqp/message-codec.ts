import {
  AmqpDecodeError,
  readBoolean,
  readCompound,
  readDescriptor,
  readInteger,
  readMessageIdText,
  readString,
  valueEnd,
  type Descriptor,
} from './amqp-reader.ts';
import {
  SECTION,
  encodeAnnotationsSection,
  encodeHeaderSection,
  encodeInt,
  encodeLong,
  encodeSymbol,
  encodeTimestamp,
  type MapEntries,
} from './amqp-writer.ts';

/**
 * What the broker reads from a message a client sent (AMQP 1.0 part 3 §3.2
 * sections), and the bytes it keeps to deliver it again. Service Bus's mapping
 * of AMQP fields to its message properties follows the "AMQP 1.0 in Azure
 * Service Bus and Event Hubs protocol guide" (message-id → MessageId, group-id
 * → SessionId, header ttl → TimeToLive, annotations `x-opt-*`).
 */
export interface ParsedMessage {
  durable: boolean;
  priority: number;
  /** Header time-to-live in ms, when the sender set one. */
  ttlMs: number | undefined;
  /** `properties.message-id` as text (for duplicate detection). */
  messageId: string | undefined;
  /** `properties.group-id`: the Service Bus SessionId. */
  sessionId: string | undefined;
  /** `x-opt-partition-key`. */
  partitionKey: string | undefined;
  /** `x-opt-scheduled-enqueue-time` in ms since 1970. */
  scheduledEnqueueTimeMs: number | undefined;
  /** The sender's own message annotations, less the ones the broker sets itself. */
  annotations: MapEntries;
  /**
   * Every section from `properties` on (properties, application-properties,
   * body, footer), byte for byte as sent; header and annotations are rebuilt
   * on each delivery and delivery-annotations (hop-by-hop) are dropped.
   */
  rest: Buffer;
}

/** Annotation keys the broker owns: a sender's values for them are dropped. */
const BROKER_ANNOTATIONS = new Set([
  'x-opt-sequence-number',
  'x-opt-enqueued-time',
  'x-opt-locked-until',
  'x-opt-enqueue-sequence-number',
  'x-opt-message-state',
  'x-opt-lock-token',
  'x-opt-deadletter-source',
]);

const SYMBOLIC_SECTIONS: Record<string, number> = {
  'amqp:header:list': SECTION.header,
  'amqp:delivery-annotations:map': SECTION.deliveryAnnotations,
  'amqp:message-annotations:map': SECTION.messageAnnotations,
  'amqp:properties:list': SECTION.properties,
  'amqp:application-properties:map': SECTION.applicationProperties,
  'amqp:data:binary': SECTION.data,
  'amqp:amqp-sequence:list': SECTION.sequence,
  'amqp:value:*': SECTION.value,
  'amqp:footer:map': SECTION.footer,
};

/** One top-level section of an encoded message. */
export interface SectionView {
  code: number;
  /** Offset of the section's first byte (its 0x00 constructor). */
  start: number;
  /** Offset of the described value (after the descriptor). */
  valueStart: number;
  end: number;
}

function sectionCode(descriptor: Descriptor): number {
  const code = typeof descriptor === 'number' ? descriptor : SYMBOLIC_SECTIONS[descriptor];
  if (code === undefined || code < SECTION.header || code > SECTION.footer)
    throw new AmqpDecodeError(`unknown message section descriptor ${String(descriptor)}`);
  return code;
}

/** The top-level sections of an encoded message, in order. */
export function scanSections(buffer: Buffer): SectionView[] {
  const sections: SectionView[] = [];
  let at = 0;
  while (at < buffer.length) {
    if (buffer[at] !== 0x00) throw new AmqpDecodeError('expected a described message section');
    const descriptor = readDescriptor(buffer, at + 1);
    const end = valueEnd(buffer, descriptor.end);
    sections.push({
      code: sectionCode(descriptor.value),
      start: at,
      valueStart: descriptor.end,
      end,
    });
    at = end;
  }
  return sections;
}

function parseHeader(
  buffer: Buffer,
  section: SectionView,
  into: { durable: boolean; priority: number; ttlMs: number | undefined },
): void {
  const list = readCompound(buffer, section.valueStart);
  let at = list.first;
  for (let field = 0; field < list.count; field++) {
    if (field === 0) into.durable = readBoolean(buffer, at) ?? false;
    else if (field === 1) into.priority = readInteger(buffer, at) ?? 4;
    else if (field === 2) into.ttlMs = readInteger(buffer, at);
    at = valueEnd(buffer, at);
  }
}

function parseProperties(
  buffer: Buffer,
  section: SectionView,
  into: { messageId: string | undefined; sessionId: string | undefined },
): void {
  const list = readCompound(buffer, section.valueStart);
  let at = list.first;
  for (let field = 0; field < list.count && field <= 10; field++) {
    if (field === 0) into.messageId = readMessageIdText(buffer, at);
    else if (field === 10) into.sessionId = readString(buffer, at);
    at = valueEnd(buffer, at);
  }
}

function parseAnnotations(
  buffer: Buffer,
  section: SectionView,
  into: {
    annotations: MapEntries;
    partitionKey: string | undefined;
    scheduledEnqueueTimeMs: number | undefined;
  },
): void {
  const map = readCompound(buffer, section.valueStart);
  if (map.count % 2 !== 0) throw new AmqpDecodeError('message annotations map has an odd count');
  if (map.count === 0) return;
  const kept: Buffer[] = [];
  let keptPairs = 0;
  let at = map.first;
  for (let pair = 0; pair < map.count / 2; pair++) {
    const keyStart = at;
    const code = buffer[at];
    const key =
      code === 0xa3 || code === 0xb3 || code === 0xa1 || code === 0xb1
        ? readString(buffer, at)
        : undefined;
    const valueStart = valueEnd(buffer, at);
    at = valueEnd(buffer, valueStart);
    if (key === 'x-opt-partition-key') into.partitionKey = readString(buffer, valueStart);
    if (key === 'x-opt-scheduled-enqueue-time')
      into.scheduledEnqueueTimeMs = readInteger(buffer, valueStart);
    if (key !== undefined && BROKER_ANNOTATIONS.has(key)) continue;
    kept.push(buffer.subarray(keyStart, at));
    keptPairs++;
  }
  into.annotations = {
    bytes: kept.length === 1 ? kept[0]! : Buffer.concat(kept),
    count: keptPairs,
  };
}

const EMPTY = Buffer.alloc(0);
const NO_ANNOTATIONS: MapEntries = { bytes: EMPTY, count: 0 };

/** Reads what the broker needs from an encoded message. Throws {@link AmqpDecodeError}. */
export function parseMessage(buffer: Buffer): ParsedMessage {
  const parsed: ParsedMessage = {
    durable: false,
    priority: 4,
    ttlMs: undefined,
    messageId: undefined,
    sessionId: undefined,
    partitionKey: undefined,
    scheduledEnqueueTimeMs: undefined,
    annotations: NO_ANNOTATIONS,
    rest: EMPTY,
  };
  const restParts: Buffer[] = [];
  for (const section of scanSections(buffer)) {
    switch (section.code) {
      case SECTION.header:
        parseHeader(buffer, section, parsed);
        break;
      case SECTION.deliveryAnnotations:
        break;
      case SECTION.messageAnnotations:
        parseAnnotations(buffer, section, parsed);
        break;
      case SECTION.properties:
        parseProperties(buffer, section, parsed);
        restParts.push(buffer.subarray(section.start, section.end));
        break;
      default:
        restParts.push(buffer.subarray(section.start, section.end));
    }
  }
  parsed.rest =
    restParts.length === 1
      ? restParts[0]!
      : restParts.length === 0
        ? parsed.rest
        : Buffer.concat(restParts);
  if (parsed.ttlMs === 0) parsed.ttlMs = undefined;
  return parsed;
}

const KEY_SEQUENCE_NUMBER = encodeSymbol('x-opt-sequence-number');
const KEY_ENQUEUED_TIME = encodeSymbol('x-opt-enqueued-time');
const KEY_ENQUEUE_SEQUENCE_NUMBER = encodeSymbol('x-opt-enqueue-sequence-number');
const KEY_LOCKED_UNTIL = encodeSymbol('x-opt-locked-until');
const KEY_MESSAGE_STATE = encodeSymbol('x-opt-message-state');

/**
 * The annotations every delivery of a message carries: the sender's own plus
 * the broker's sequence number and enqueued time. Built once per message.
 */
export function stableAnnotations(
  own: MapEntries,
  sequenceNumber: number,
  enqueuedTimeMs: number,
): MapEntries {
  const seq = encodeLong(sequenceNumber);
  const bytes = Buffer.concat([
    own.bytes,
    KEY_SEQUENCE_NUMBER,
    seq,
    KEY_ENQUEUED_TIME,
    encodeTimestamp(enqueuedTimeMs),
    KEY_ENQUEUE_SEQUENCE_NUMBER,
    seq,
  ]);
  return { bytes, count: own.count + 3 };
}

/** `x-opt-message-state` values (the SDK's `ServiceBusMessageState`). */
export const MESSAGE_STATE = { active: 0, deferred: 1, scheduled: 2 } as const;

/** What changes from one delivery of a stored message to the next. */
export interface DeliveryFields {
  durable: boolean;
  priority: number;
  ttlMs: number | undefined;
  deliveryCount: number;
  /** Lock expiry (ms) for peek-lock deliveries. */
  lockedUntilMs: number | undefined;
  state: number;
}

/**
 * The whole message as delivered: a fresh header (with `delivery-count`),
 * the annotations, then the sender's sections from `properties` on.
 */
export function encodeDelivery(stable: MapEntries, rest: Buffer, fields: DeliveryFields): Buffer {
  const header = encodeHeaderSection({
    durable: fields.durable,
    priority: fields.priority,
    ttl: fields.ttlMs,
    firstAcquirer: false,
    deliveryCount: fields.deliveryCount,
  });
  const dynamic: Buffer[] = [KEY_MESSAGE_STATE, encodeInt(fields.state)];
  let count = 1;
  if (fields.lockedUntilMs !== undefined) {
    dynamic.push(KEY_LOCKED_UNTIL, encodeTimestamp(fields.lockedUntilMs));
    count++;
  }
  const annotations = encodeAnnotationsSection([stable, { bytes: Buffer.concat(dynamic), count }]);
  return Buffer.concat(
    [header, annotations, rest],
    header.length + annotations.length + rest.length,
  );
}
