import { readCompound, valueEnd } from './amqp-reader.ts';
import { SECTION, encodeString } from './amqp-writer.ts';
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

/**
 * Returns `rest` with `properties.message-id` set to `messageId` (a message
 * that arrives without one gets one from the broker, as from the service:
 * the SDK's lock renewal and duplicate detection key on it). Every other
 * field is kept byte for byte.
 */
export function withMessageId(rest: Buffer, messageId: string): Buffer {
  const id = encodeString(messageId);
  const properties = scanSections(rest).find((s) => s.code === SECTION.properties);
  if (!properties) return Buffer.concat([listSection([id]), rest]);
  const list = readCompound(rest, properties.valueStart);
  const fields: Buffer[] = [];
  let at = list.first;
  for (let i = 0; i < list.count; i++) {
    const end = valueEnd(rest, at);
    fields.push(i === 0 ? id : rest.subarray(at, end));
    at = end;
  }
  if (fields.length === 0) fields.push(id);
  return Buffer.concat([
    rest.subarray(0, properties.start),
    listSection(fields),
    rest.subarray(properties.end),
  ]);
}
