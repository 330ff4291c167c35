import { readCompound, valueEnd } from './amqp-reader.ts';
import { SECTION, encodeString, encodeTimestamp } from './amqp-writer.ts';
import { scanSections } from './message-codec.ts';

function listSection(fields: Buffer[]): Buffer {
  const body = Buffer.concat(fields);
  const out = Buffer.allocUnsafe(3 + 9 + body.length);
  out[0] = 0x00;
  out[1] = 0x53;
  out[2] = SECTION.properties;
  out[3] = 0xd0;
  out.writeUInt32BE(body.length + 4, 4);
  out.writeUInt32BE(fields.length, 8);
  body.copy(out, 12);
  return out;
}

/** `properties` list fields the broker sets (AMQP 1.0 part 3 §3.2.4). */
const MESSAGE_ID_FIELD = 0;
const ABSOLUTE_EXPIRY_TIME_FIELD = 8;
const NULL = Buffer.from([0x40]);

/**
 * Returns `rest` with field `index` of its `properties` section set to
 * `value` (an encoded AMQP value); a missing section or shorter list is
 * filled with nulls. Every other field is kept byte for byte.
 */
function withPropertyField(rest: Buffer, index: number, value: Buffer): Buffer {
  const properties = scanSections(rest).find((s) => s.code === SECTION.properties);
  const fields: Buffer[] = [];
  if (properties) {
    const list = readCompound(rest, properties.valueStart);
    let at = list.first;
    for (let i = 0; i < list.count; i++) {
      const end = valueEnd(rest, at);
      fields.push(rest.subarray(at, end));
      at = end;
    }
  }
  while (fields.length <= index) fields.push(NULL);
  fields[index] = value;
  if (!properties) return Buffer.concat([listSection(fields), rest]);
  return Buffer.concat([
    rest.subarray(0, properties.start),
    listSection(fields),
    rest.subarray(properties.end),
  ]);
}

/**
 * Returns `rest` with `properties.message-id` set to `messageId` (a message
 * that arrives without one gets one from the broker, as from the service:
 * the SDK's lock renewal and duplicate detection key on it).
 */
export function withMessageId(rest: Buffer, messageId: string): Buffer {
  return withPropertyField(rest, MESSAGE_ID_FIELD, encodeString(messageId));
}

/**
 * Returns `rest` with `properties.absolute-expiry-time` set to `expiresAtMs`.
 * The service ignores the field on input (the header's ttl counts) and makes
 * it "authoritative on output" as ExpiresAtUtc
 * (https://learn.microsoft.com/azure/service-bus-messaging/service-bus-amqp-protocol-guide#message-properties);
 * the SDK reads a received message's `timeToLive` from it and `creation-time`
 * when the sender set both, so it must say when the queue expires the message.
 */
export function withAbsoluteExpiryTime(rest: Buffer, expiresAtMs: number): Buffer {
  return withPropertyField(rest, ABSOLUTE_EXPIRY_TIME_FIELD, encodeTimestamp(expiresAtMs));
}
