/**
 * Encoders for the few AMQP values the broker writes itself into a delivered
 * message: the header section and the message-annotation entries
 * (`x-opt-sequence-number`, `x-opt-locked-until`, …). Everything else in a
 * delivered message is the sender's own bytes.
 *
 * Encodings per OASIS AMQP 1.0 part 1 §1.6; section descriptors per part 3
 * §3.2 (header 0x70, message-annotations 0x72, properties 0x73,
 * application-properties 0x74, data 0x75).
 */

/** Section descriptor codes (AMQP 1.0 part 3 §3.2). */
export const SECTION = {
  header: 0x70,
  deliveryAnnotations: 0x71,
  messageAnnotations: 0x72,
  properties: 0x73,
  applicationProperties: 0x74,
  data: 0x75,
  sequence: 0x76,
  value: 0x77,
  footer: 0x78,
} as const;

/** A symbol (ASCII), as a map key. */
export function encodeSymbol(text: string): Buffer {
  const length = Buffer.byteLength(text, 'latin1');
  if (length <= 255) {
    const out = Buffer.allocUnsafe(2 + length);
    out[0] = 0xa3;
    out[1] = length;
    out.write(text, 2, 'latin1');
    return out;
  }
  const out = Buffer.allocUnsafe(5 + length);
  out[0] = 0xb3;
  out.writeUInt32BE(length, 1);
  out.write(text, 5, 'latin1');
  return out;
}

/** A UTF-8 string. */
export function encodeString(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  if (length <= 255) {
    const out = Buffer.allocUnsafe(2 + length);
    out[0] = 0xa1;
    out[1] = length;
    out.write(text, 2, 'utf8');
    return out;
  }
  const out = Buffer.allocUnsafe(5 + length);
  out[0] = 0xb1;
  out.writeUInt32BE(length, 1);
  out.write(text, 5, 'utf8');
  return out;
}

/** A 64-bit signed integer, always in the 8-byte form (as the service sends sequence numbers). */
export function encodeLong(value: number | bigint): Buffer {
  const out = Buffer.allocUnsafe(9);
  out[0] = 0x81;
  out.writeBigInt64BE(BigInt(value), 1);
  return out;
}

/** A timestamp: milliseconds since 1970 (AMQP 1.0 part 1 §1.6.20). */
export function encodeTimestamp(ms: number): Buffer {
  const out = Buffer.allocUnsafe(9);
  out[0] = 0x83;
  out.writeBigInt64BE(BigInt(Math.trunc(ms)), 1);
  return out;
}

/** A 32-bit signed integer. */
export function encodeInt(value: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  out[0] = 0x71;
  out.writeInt32BE(value, 1);
  return out;
}

/** A 32-bit unsigned integer in its shortest form. */
function writeUint(out: Buffer, offset: number, value: number): number {
  if (value === 0) {
    out[offset] = 0x43;
    return offset + 1;
  }
  if (value <= 255) {
    out[offset] = 0x52;
    out[offset + 1] = value;
    return offset + 2;
  }
  out[offset] = 0x70;
  out.writeUInt32BE(value >>> 0, offset + 1);
  return offset + 5;
}

/** The fields of the header section (AMQP 1.0 part 3 §3.2.1). */
export interface HeaderFields {
  durable: boolean;
  priority: number;
  /** Time to live in ms, absent when the sender set none. */
  ttl: number | undefined;
  firstAcquirer: boolean;
  deliveryCount: number;
}

/** The complete header section. */
export function encodeHeaderSection(fields: HeaderFields): Buffer {
  // descriptor (3) + list8 header (3) + at most 2 + 2 + 5 + 1 + 5 bytes of fields
  const out = Buffer.allocUnsafe(3 + 3 + 15);
  out[0] = 0x00;
  out[1] = 0x53;
  out[2] = SECTION.header;
  out[3] = 0xc0;
  out[5] = 5;
  let at = 6;
  out[at++] = fields.durable ? 0x41 : 0x42;
  out[at++] = 0x50;
  out[at++] = fields.priority & 0xff;
  if (fields.ttl === undefined) out[at++] = 0x40;
  else at = writeUint(out, at, Math.min(Math.max(0, Math.trunc(fields.ttl)), 0xffffffff));
  out[at++] = fields.firstAcquirer ? 0x41 : 0x42;
  at = writeUint(out, at, fields.deliveryCount);
  out[4] = at - 5;
  return out.subarray(0, at);
}

/** Pre-encoded map entries (key and value bytes) and how many pairs they hold. */
export interface MapEntries {
  bytes: Buffer;
  count: number;
}

/**
 * The message-annotations section from entry groups, as one map32
 * (descriptor, `0xd1`, size, count, entries).
 */
export function encodeAnnotationsSection(groups: readonly MapEntries[]): Buffer {
  let bytes = 0;
  let count = 0;
  for (const group of groups) {
    bytes += group.bytes.length;
    count += group.count;
  }
  const out = Buffer.allocUnsafe(3 + 9 + bytes);
  out[0] = 0x00;
  out[1] = 0x53;
  out[2] = SECTION.messageAnnotations;
  out[3] = 0xd1;
  out.writeUInt32BE(bytes + 4, 4);
  out.writeUInt32BE(count * 2, 8);
  let at = 12;
  for (const group of groups) {
    group.bytes.copy(out, at);
    at += group.bytes.length;
  }
  return out;
}
