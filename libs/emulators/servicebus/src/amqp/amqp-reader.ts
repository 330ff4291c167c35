/**
 * A small reader for AMQP 1.0 encoded values (OASIS AMQP 1.0, part 1 "Types",
 * §1.6 "Encodings"), for the few fields the broker needs from each message:
 * it finds where a value ends without building it, and decodes a handful of
 * primitive types. The rest of a message stays as the bytes the client sent,
 * which is both faster than a full decode and exact: nothing is re-encoded.
 *
 * Every function throws {@link AmqpDecodeError} on truncated or unknown
 * input, never reads outside the buffer, and never recurses deeper than
 * {@link MAX_DEPTH} (a hostile client cannot exhaust the stack).
 */

/** Raised on malformed AMQP encodings; callers translate it to `amqp:decode-error`. */
export class AmqpDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmqpDecodeError';
  }
}

/** Deepest nesting of described/compound values accepted. */
const MAX_DEPTH = 64;

function need(buffer: Buffer, offset: number, bytes: number): void {
  if (offset + bytes > buffer.length || offset < 0)
    throw new AmqpDecodeError(`truncated AMQP value at offset ${offset}`);
}

/** Variable-width and compound type codes whose size is one byte (binary, string, symbol, list, map, array). */
const ONE_BYTE_SIZED = new Set([0xa0, 0xa1, 0xa3, 0xc0, 0xc1, 0xe0]);
/** The same with a four-byte size. */
const FOUR_BYTE_SIZED = new Set([0xb0, 0xb1, 0xb3, 0xd0, 0xd1, 0xf0]);

/** A descriptor value: numeric (`ulong`) or symbolic. */
export type Descriptor = number | string;

/**
 * The offset just past the value (a constructor and its data) starting at
 * `offset`, descriptors included.
 */
export function valueEnd(buffer: Buffer, offset: number, depth = 0): number {
  if (depth > MAX_DEPTH) throw new AmqpDecodeError('AMQP value nested too deeply');
  need(buffer, offset, 1);
  const code = buffer[offset]!;
  if (code === 0x00) {
    const descriptorEnd = valueEnd(buffer, offset + 1, depth + 1);
    return valueEnd(buffer, descriptorEnd, depth + 1);
  }
  const start = offset + 1;
  switch (code >> 4) {
    case 0x4:
      if (code > 0x45) break;
      return start;
    case 0x5:
      if (code > 0x56) break;
      need(buffer, start, 1);
      return start + 1;
    case 0x6:
      if (code > 0x61) break;
      need(buffer, start, 2);
      return start + 2;
    case 0x7:
      if (code > 0x74) break;
      need(buffer, start, 4);
      return start + 4;
    case 0x8:
      if (code > 0x84) break;
      need(buffer, start, 8);
      return start + 8;
    case 0x9:
      if (code !== 0x94 && code !== 0x98) break;
      need(buffer, start, 16);
      return start + 16;
    case 0xa:
    case 0xc:
    case 0xe: {
      if (!ONE_BYTE_SIZED.has(code)) break;
      need(buffer, start, 1);
      const end = start + 1 + buffer[start]!;
      need(buffer, start + 1, end - start - 1);
      return end;
    }
    case 0xb:
    case 0xd:
    case 0xf: {
      if (!FOUR_BYTE_SIZED.has(code)) break;
      need(buffer, start, 4);
      const end = start + 4 + buffer.readUInt32BE(start);
      need(buffer, start + 4, end - start - 4);
      return end;
    }
    default:
      break;
  }
  throw new AmqpDecodeError(`unknown AMQP type code 0x${code.toString(16)} at offset ${offset}`);
}

/** Reads a descriptor (`ulong` or `symbol`) at `offset` (just after the 0x00 byte). */
export function readDescriptor(buffer: Buffer, offset: number): { value: Descriptor; end: number } {
  need(buffer, offset, 1);
  const code = buffer[offset]!;
  if (code === 0x53) {
    need(buffer, offset + 1, 1);
    return { value: buffer[offset + 1]!, end: offset + 2 };
  }
  if (code === 0x80) {
    need(buffer, offset + 1, 8);
    const value = Number(buffer.readBigUInt64BE(offset + 1));
    return { value, end: offset + 9 };
  }
  if (code === 0x44) return { value: 0, end: offset + 1 };
  if (code === 0xa3 || code === 0xb3) {
    const end = valueEnd(buffer, offset);
    const header = code === 0xa3 ? 2 : 5;
    return { value: buffer.toString('latin1', offset + header, end), end };
  }
  throw new AmqpDecodeError(`invalid descriptor type code 0x${code.toString(16)}`);
}

/** Where the items of a list or map start, how many there are, and where it ends. */
export interface CompoundView {
  first: number;
  count: number;
  end: number;
}

/** Reads the header of a list (0x45, 0xc0, 0xd0) or map (0xc1, 0xd1) at `offset`. */
export function readCompound(buffer: Buffer, offset: number): CompoundView {
  need(buffer, offset, 1);
  const code = buffer[offset]!;
  if (code === 0x45) return { first: offset + 1, count: 0, end: offset + 1 };
  if (code === 0xc0 || code === 0xc1) {
    need(buffer, offset + 1, 2);
    const end = offset + 2 + buffer[offset + 1]!;
    need(buffer, offset + 2, end - offset - 2);
    return { first: offset + 3, count: buffer[offset + 2]!, end };
  }
  if (code === 0xd0 || code === 0xd1) {
    need(buffer, offset + 1, 8);
    const end = offset + 5 + buffer.readUInt32BE(offset + 1);
    need(buffer, offset + 5, end - offset - 5);
    return { first: offset + 9, count: buffer.readUInt32BE(offset + 5), end };
  }
  throw new AmqpDecodeError(`expected a list or map, got type code 0x${code.toString(16)}`);
}

/** Reads a string or symbol; `undefined` for null. */
export function readString(buffer: Buffer, offset: number): string | undefined {
  need(buffer, offset, 1);
  const code = buffer[offset]!;
  if (code === 0x40) return undefined;
  const end = valueEnd(buffer, offset);
  if (code === 0xa1 || code === 0xa3) return buffer.toString('utf8', offset + 2, end);
  if (code === 0xb1 || code === 0xb3) return buffer.toString('utf8', offset + 5, end);
  throw new AmqpDecodeError(`expected a string, got type code 0x${code.toString(16)}`);
}

/** Reads any unsigned or signed integer encoding as a number; `undefined` for null. */
export function readInteger(buffer: Buffer, offset: number): number | undefined {
  need(buffer, offset, 1);
  const code = buffer[offset]!;
  valueEnd(buffer, offset);
  switch (code) {
    case 0x40:
      return undefined;
    case 0x43:
    case 0x44:
      return 0;
    case 0x50:
    case 0x52:
    case 0x53:
      return buffer[offset + 1]!;
    case 0x51:
    case 0x54:
    case 0x55:
      return buffer.readInt8(offset + 1);
    case 0x60:
      return buffer.readUInt16BE(offset + 1);
    case 0x61:
      return buffer.readInt16BE(offset + 1);
    case 0x70:
      return buffer.readUInt32BE(offset + 1);
    case 0x71:
      return buffer.readInt32BE(offset + 1);
    case 0x80:
      return Number(buffer.readBigUInt64BE(offset + 1));
    case 0x81:
    case 0x83:
      return Number(buffer.readBigInt64BE(offset + 1));
    default:
      throw new AmqpDecodeError(`expected an integer, got type code 0x${code.toString(16)}`);
  }
}

/** Reads a boolean; `undefined` for null. */
export function readBoolean(buffer: Buffer, offset: number): boolean | undefined {
  need(buffer, offset, 1);
  const code = buffer[offset]!;
  if (code === 0x40) return undefined;
  if (code === 0x41) return true;
  if (code === 0x42) return false;
  if (code === 0x56) {
    need(buffer, offset + 1, 1);
    return buffer[offset + 1] !== 0;
  }
  throw new AmqpDecodeError(`expected a boolean, got type code 0x${code.toString(16)}`);
}

/**
 * Reads a message id (string, ulong, uuid or binary, AMQP 1.0 part 3 §3.2.11)
 * as the text duplicate detection compares: strings as they are, numbers in
 * decimal, uuids in their canonical form, binary as hex. `undefined` for null.
 */
export function readMessageIdText(buffer: Buffer, offset: number): string | undefined {
  need(buffer, offset, 1);
  const code = buffer[offset]!;
  if (code === 0x40) return undefined;
  if (code === 0xa1 || code === 0xb1 || code === 0xa3 || code === 0xb3)
    return readString(buffer, offset);
  if (code === 0x98) {
    need(buffer, offset + 1, 16);
    const hex = buffer.toString('hex', offset + 1, offset + 17);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  if (code === 0xa0 || code === 0xb0) {
    const end = valueEnd(buffer, offset);
    return `binary:${buffer.toString('hex', offset + (code === 0xa0 ? 2 : 5), end)}`;
  }
  const n = readInteger(buffer, offset);
  return n === undefined ? undefined : String(n);
}
