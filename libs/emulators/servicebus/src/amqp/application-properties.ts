import { readCompound, readString, valueEnd, AmqpDecodeError } from './amqp-reader.ts';
import { SECTION, encodeString } from './amqp-writer.ts';
import { scanSections } from './message-codec.ts';
import { encodeTyped, types } from './rhea.ts';

/** A value a client may set through `propertiesToModify` or dead-lettering. */
export type PropertyValue = string | number | boolean | Date | Buffer | null;

function encodeValue(value: PropertyValue): Buffer {
  if (typeof value === 'string') return encodeString(value);
  return encodeTyped(types.wrap(value));
}

/**
 * Returns `rest` (a message's sections from `properties` on) with
 * application properties set: existing keys named in `updates` are replaced,
 * new keys appended, every other entry kept byte for byte. This is what the
 * service does with `propertiesToModify` on abandon, defer and dead-letter,
 * and with `DeadLetterReason` / `DeadLetterErrorDescription` (the SDK reads
 * both back from the application properties: `serviceBusMessage.js`).
 */
export function withApplicationProperties(
  rest: Buffer,
  updates: Readonly<Record<string, PropertyValue | undefined>>,
): Buffer {
  const keys = Object.keys(updates).filter((k) => updates[k] !== undefined);
  if (keys.length === 0) return rest;
  const sections = scanSections(rest);
  const existing = sections.find((s) => s.code === SECTION.applicationProperties);
  const entries: Buffer[] = [];
  let pairs = 0;
  if (existing) {
    const map = readCompound(rest, existing.valueStart);
    if (map.count % 2 !== 0)
      throw new AmqpDecodeError('application properties map has an odd count');
    let at = map.first;
    for (let i = 0; i < map.count / 2; i++) {
      const keyStart = at;
      const code = rest[at];
      const key = code === 0xa1 || code === 0xb1 ? readString(rest, at) : undefined;
      at = valueEnd(rest, valueEnd(rest, at));
      if (key !== undefined && keys.includes(key)) continue;
      entries.push(rest.subarray(keyStart, at));
      pairs++;
    }
  }
  for (const key of keys) {
    entries.push(encodeString(key), encodeValue(updates[key] as PropertyValue));
    pairs++;
  }
  const body = Buffer.concat(entries);
  const section = Buffer.allocUnsafe(3 + 9 + body.length);
  section[0] = 0x00;
  section[1] = 0x53;
  section[2] = SECTION.applicationProperties;
  section[3] = 0xd1;
  section.writeUInt32BE(body.length + 4, 4);
  section.writeUInt32BE(pairs * 2, 8);
  body.copy(section, 12);
  if (existing)
    return Buffer.concat([rest.subarray(0, existing.start), section, rest.subarray(existing.end)]);
  // application-properties follow properties and precede the body (AMQP 1.0 part 3 §3.2).
  const properties = sections.find((s) => s.code === SECTION.properties);
  const at = properties ? properties.end : 0;
  return Buffer.concat([rest.subarray(0, at), section, rest.subarray(at)]);
}
