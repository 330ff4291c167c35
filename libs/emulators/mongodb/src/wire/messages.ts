import { deserialize, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { promoteNumbers } from '../storage/numeric-types.ts';
import { BsonWriter } from './bson-writer.ts';
import { crc32c } from './crc32c.ts';

/** Wire opcodes (MongoDB Wire Protocol specification). */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

/** OP_MSG flag bits. */
export const FLAG_CHECKSUM_PRESENT = 1;
export const FLAG_MORE_TO_COME = 2;
export const FLAG_EXHAUST_ALLOWED = 1 << 16;

/** The real server's limit on one message (`maxMessageSizeBytes`). */
export const MAX_MESSAGE_BYTES = 48_000_000;

/**
 * Numbers are decoded as BSON wrappers and then promoted to JS numbers (which
 * mingo compares), with the kinds that would not survive remembered; see
 * numeric-types.ts.
 */
const BSON_READ = { promoteValues: false, promoteBuffers: false, validation: { utf8: true } };

/** A decoded client request: the command body with any document sequences folded in. */
export interface WireRequest {
  opCode: number;
  requestId: number;
  flags: number;
  /** The command document; OP_MSG kind-1 sequences appear as arrays under their identifier. */
  command: Document;
  /** For OP_QUERY: the full collection name (`admin.$cmd`). */
  fullCollectionName?: string;
}

function readDocument(
  buffer: Buffer,
  offset: number,
  end: number,
): { doc: Document; next: number } {
  if (offset + 5 > end)
    throw new CommandError(
      'InvalidBSON',
      'Invalid BSON: document runs past the end of the message',
    );
  const size = buffer.readInt32LE(offset);
  if (size < 5 || offset + size > end) {
    throw new CommandError(
      'InvalidBSON',
      `Invalid BSON: document length ${size} does not fit the message`,
    );
  }
  try {
    const doc = deserialize(buffer.subarray(offset, offset + size), BSON_READ);
    promoteNumbers(doc);
    return { doc, next: offset + size };
  } catch (error) {
    throw new CommandError('InvalidBSON', `Invalid BSON: ${(error as Error).message}`);
  }
}

function readCString(buffer: Buffer, offset: number, end: number): { value: string; next: number } {
  const zero = buffer.indexOf(0, offset);
  if (zero < 0 || zero >= end)
    throw new CommandError('InvalidBSON', 'Invalid message: unterminated C string');
  return { value: buffer.toString('utf8', offset, zero), next: zero + 1 };
}

/**
 * Decodes one complete message (header included). Throws {@link CommandError}
 * for malformed content; the caller answers it like the server does.
 */
export function decodeMessage(message: Buffer): WireRequest {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) return decodeOpMsg(message, requestId);
  if (opCode === OP_QUERY) return decodeOpQuery(message, requestId);
  throw new CommandError('InvalidOptions', `Unsupported opCode ${opCode}`);
}

function decodeOpMsg(message: Buffer, requestId: number): WireRequest {
  const flags = message.readUInt32LE(16);
  let end = message.length;
  if (flags & FLAG_CHECKSUM_PRESENT) {
    end -= 4;
    if (end < 21) throw new CommandError('InvalidBSON', 'OP_MSG too short for its checksum');
    const expected = message.readUInt32LE(end);
    if (crc32c(message.subarray(0, end)) !== expected) {
      throw new CommandError('FailedToParse', 'OP_MSG checksum does not match contents');
    }
  }
  // Bits 0-15 are "required": a receiver must fail on any it does not know.
  const unknownRequired = flags & 0xffff & ~(FLAG_CHECKSUM_PRESENT | FLAG_MORE_TO_COME);
  if (unknownRequired !== 0)
    throw new CommandError('FailedToParse', `Unrecognized OP_MSG flags: ${flags}`);
  let offset = 20;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = message.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (body)
        throw new CommandError('FailedToParse', 'OP_MSG contains more than one body section');
      const read = readDocument(message, offset, end);
      body = read.doc;
      offset = read.next;
    } else if (kind === 1) {
      if (offset + 4 > end)
        throw new CommandError('InvalidBSON', 'OP_MSG document sequence truncated');
      const size = message.readInt32LE(offset);
      const seqEnd = offset + size;
      if (size < 5 || seqEnd > end)
        throw new CommandError('InvalidBSON', 'OP_MSG document sequence length is invalid');
      const name = readCString(message, offset + 4, seqEnd);
      const docs: Document[] = [];
      let cursor = name.next;
      while (cursor < seqEnd) {
        const read = readDocument(message, cursor, seqEnd);
        docs.push(read.doc);
        cursor = read.next;
      }
      sequences.push([name.value, docs]);
      offset = seqEnd;
    } else {
      throw new CommandError('FailedToParse', `Unknown section kind ${kind}`);
    }
  }
  if (!body) throw new CommandError('FailedToParse', 'OP_MSG does not contain a body section');
  for (const [name, docs] of sequences) {
    if (name in body)
      throw new CommandError('FailedToParse', `Duplicate field name in OP_MSG: ${name}`);
    body[name] = docs;
  }
  return { opCode: OP_MSG, requestId, flags, command: body };
}

function decodeOpQuery(message: Buffer, requestId: number): WireRequest {
  const flags = message.readInt32LE(16);
  const name = readCString(message, 20, message.length);
  const queryStart = name.next + 8; // numberToSkip, numberToReturn
  let { doc } = readDocument(message, queryStart, message.length);
  // Old drivers wrap the command as { $query: {...}, $readPreference }.
  if (doc.$query && typeof doc.$query === 'object') doc = doc.$query as Document;
  return { opCode: OP_QUERY, requestId, flags, command: doc, fullCollectionName: name.value };
}

let nextRequestId = 1;

/**
 * An encoded message: the buffers to write in order, and the pooled chunks
 * among them to release (chunk-pool.ts) once the write has completed.
 */
export interface OutgoingMessage {
  parts: Buffer[];
  pooled: readonly Buffer[];
}

/** Encodes a reply body; a reply beyond the message limit is refused before anything is written. */
function encodeBody(
  reply: Document,
  headerBytes: number,
): { parts: Buffer[]; pooled: readonly Buffer[]; length: number } {
  const writer = new BsonWriter();
  writer.document(reply);
  const length = headerBytes + writer.length;
  if (length > MAX_MESSAGE_BYTES) {
    throw new CommandError(
      'BSONObjectTooLarge',
      `reply of ${length} bytes exceeds the maximum message size of ${MAX_MESSAGE_BYTES} bytes`,
    );
  }
  return { parts: writer.finish(), pooled: writer.pooled, length };
}

/**
 * Encodes an OP_MSG reply with one body section, as the header followed by
 * the body's chunks (written one after another, never joined: copying a
 * 16 MB reply into one buffer is pure overhead). Throws {@link CommandError}
 * BSONObjectTooLarge when the message would exceed `maxMessageSizeBytes`.
 */
export function encodeOpMsg(
  responseTo: number,
  reply: Document,
  moreToCome = false,
): OutgoingMessage {
  const { parts, pooled, length } = encodeBody(reply, 21);
  const header = Buffer.alloc(21);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(nextRequestId++, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(moreToCome ? FLAG_MORE_TO_COME : 0, 16);
  header.writeUInt8(0, 20);
  return { parts: [header, ...parts], pooled };
}

/** Encodes an OP_REPLY carrying one document: the answer to a legacy OP_QUERY handshake. */
export function encodeOpReply(responseTo: number, reply: Document): OutgoingMessage {
  const { parts, pooled, length } = encodeBody(reply, 36);
  const header = Buffer.alloc(36);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(nextRequestId++, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_REPLY, 12);
  header.writeInt32LE(0, 16); // responseFlags
  header.writeBigInt64LE(0n, 20); // cursorID
  header.writeInt32LE(0, 28); // startingFrom
  header.writeInt32LE(1, 32); // numberReturned
  return { parts: [header, ...parts], pooled };
}
