import { Long, serialize, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { hasNumericTypes, kindOf, type NumericKind } from '../storage/numeric-types.ts';
import { CHUNK_BYTES, replyChunks } from './chunk-pool.ts';
import { EncodedDocuments } from './encoded-documents.ts';

const DOUBLE = 0x01;
const STRING = 0x02;
const DOCUMENT = 0x03;
const ARRAY = 0x04;
const OBJECT_ID = 0x07;
const BOOLEAN = 0x08;
const DATE = 0x09;
const NULL = 0x0a;
const INT32 = 0x10;
const TIMESTAMP = 0x11;
const INT64 = 0x12;

const TWO_POW_32 = 2 ** 32;
/** The first chunk comes from Node's small-buffer slab: most replies are a few hundred bytes. */
const FIRST_CHUNK_BYTES = 1024;
/** Up to this length a JavaScript loop writes a string faster than a native call (bson does the same). */
const SHORT_STRING = 24;
/** Up to this length a string is written without measuring it first (its worst case fits a chunk). */
const MEDIUM_STRING = 16 * 1024;
/** Array keys "0" … "4095", made once. */
const INDEX_KEYS = Array.from({ length: 4096 }, (_, i) => String(i));

/** The key of array element `index` ("0", "1", …). */
export function arrayIndexKey(index: number): string {
  return INDEX_KEYS[index] ?? String(index);
}

/** What the writer uses of an ObjectId. */
interface ObjectIdBytes {
  readonly id: Uint8Array;
  serializeInto?: (target: Uint8Array, index: number) => number;
}

/**
 * Encodes reply documents as BSON, byte for byte as `bson.serialize` does
 * (test/unit/bson-writer.test.ts compares them), with three differences that
 * the reply path needs:
 * - numbers get the BSON type remembered for them (numeric-types.ts) as they
 *   are written, instead of every stored document being copied first;
 * - {@link EncodedDocuments} are spliced in as they are, so a change-stream
 *   batch is encoded once, while it is read, and its size is known exactly;
 * - output goes to a list of chunks, so there is no ceiling (bson's scratch
 *   buffer is 17 MiB, beyond which it throws); callers enforce the protocol's
 *   limits on the length. Chunks come from {@link replyChunks}; whoever
 *   writes the output gives {@link BsonWriter.pooled} back once it is sent.
 * Strings, numbers, booleans, dates, ObjectIds, Longs, Timestamps, arrays and
 * documents are written directly (bson pays for cycle detection and type
 * dispatch on every element, which dominated the change-stream profile);
 * every other value is handed to bson itself, one element at a time.
 */
export class BsonWriter {
  #buffer: Buffer;
  #position = 0;
  /** Start of the part of `#buffer` not yet handed to `#segments`. */
  #segmentStart = 0;
  #segments: Buffer[] = [];
  #segmentBytes = 0;
  /** Pooled chunks this output uses (its own, and those of spliced encodings). */
  readonly #pooled: Buffer[] = [];
  /**
   * Open documents, innermost last: where each length prefix was written,
   * and the output length there (parallel arrays: no object per document).
   */
  readonly #openBuffers: Buffer[] = [];
  readonly #openOffsets: number[] = [];
  readonly #openStarts: number[] = [];
  /** The one saved point {@link rollback} returns to (plain fields: marking happens per document). */
  #markSegments = 0;
  #markSegmentBytes = 0;
  #markBuffer: Buffer;
  #markPosition = 0;
  #markSegmentStart = 0;
  #markDepth = 0;

  constructor() {
    this.#buffer = Buffer.allocUnsafe(FIRST_CHUNK_BYTES);
    this.#markBuffer = this.#buffer;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#segmentBytes + this.#position - this.#segmentStart;
  }

  /** Writes a whole document. */
  document(doc: Document): void {
    this.beginDocument();
    this.#fields(doc);
    this.endDocument();
  }

  /** Opens a document (top level, or the value of the element whose head was just written). */
  beginDocument(): void {
    this.#ensure(4);
    this.#openBuffers.push(this.#buffer);
    this.#openOffsets.push(this.#position);
    this.#openStarts.push(this.length);
    this.#position += 4;
  }

  /** Closes the innermost open document, filling in its length. */
  endDocument(): void {
    const buffer = this.#openBuffers.pop();
    if (!buffer) throw new Error('BsonWriter: no open document to end');
    this.#ensure(1);
    this.#buffer[this.#position++] = 0;
    const start = this.#openStarts.pop() as number;
    buffer.writeInt32LE(this.length - start, this.#openOffsets.pop() as number);
  }

  /** Writes one element into the open document; returns the size of its value in bytes. */
  field(key: string, value: unknown): number {
    const before = this.length;
    this.#value(key, value, undefined, false);
    return this.length - before - headBytes(key);
  }

  /** Remembers the current point of the output, replacing any earlier mark. */
  mark(): void {
    this.#markSegments = this.#segments.length;
    this.#markSegmentBytes = this.#segmentBytes;
    this.#markBuffer = this.#buffer;
    this.#markPosition = this.#position;
    this.#markSegmentStart = this.#segmentStart;
    this.#markDepth = this.#openBuffers.length;
  }

  /** Forgets everything written after the mark (a batch that would grow too big ends before it). */
  rollback(): void {
    this.#segments.length = this.#markSegments;
    this.#segmentBytes = this.#markSegmentBytes;
    this.#buffer = this.#markBuffer;
    this.#position = this.#markPosition;
    this.#segmentStart = this.#markSegmentStart;
    this.#openBuffers.length = this.#markDepth;
    this.#openOffsets.length = this.#markDepth;
    this.#openStarts.length = this.#markDepth;
  }

  /** Pooled chunks the output lives in: to be released once it has been written. */
  get pooled(): readonly Buffer[] {
    return this.#pooled;
  }

  /** The output, as chunks to write one after another. The writer must not be used afterwards. */
  finish(): Buffer[] {
    if (this.#openBuffers.length > 0) throw new Error('BsonWriter: a document is still open');
    if (this.#position > this.#segmentStart)
      this.#segments.push(this.#buffer.subarray(this.#segmentStart, this.#position));
    return this.#segments;
  }

  #fields(doc: Document): void {
    const typed = hasNumericTypes(doc);
    // for-in walks own keys in Object.keys order (plain objects inherit no enumerable keys)
    // without allocating the array of keys: one allocation less per document written.
    for (const key in doc) this.#value(key, doc[key], typed ? kindOf(doc, key) : undefined, false);
  }

  #items(items: unknown[]): void {
    const typed = hasNumericTypes(items);
    for (let i = 0; i < items.length; i++) {
      const key = arrayIndexKey(i);
      this.#value(key, items[i], typed ? kindOf(items, key) : undefined, true);
    }
  }

  #value(key: string, value: unknown, kind: NumericKind | undefined, inArray: boolean): void {
    switch (typeof value) {
      case 'string':
        this.#head(STRING, key);
        this.#string(value);
        return;
      case 'number':
        this.#number(key, value, kind);
        return;
      case 'boolean':
        this.#head(BOOLEAN, key);
        this.#ensure(1);
        this.#buffer[this.#position++] = value ? 1 : 0;
        return;
      case 'bigint':
        this.#head(INT64, key);
        this.#ensure(8);
        this.#position = this.#buffer.writeBigInt64LE(BigInt.asIntN(64, value), this.#position);
        return;
      case 'undefined':
        // Like bson with ignoreUndefined: dropped from documents, null in arrays.
        if (inArray) this.#head(NULL, key);
        return;
      case 'object':
        this.#object(key, value);
        return;
      default:
        // Functions and symbols are not BSON values; bson skips them too.
        return;
    }
  }

  #object(key: string, value: object | null): void {
    if (value === null) {
      this.#head(NULL, key);
      return;
    }
    if (Array.isArray(value)) {
      this.#head(ARRAY, key);
      this.beginDocument();
      this.#items(value);
      this.endDocument();
      return;
    }
    if (value instanceof EncodedDocuments) {
      this.#head(ARRAY, key);
      this.#splice(value.parts, value.byteLength);
      for (const chunk of value.pooled) this.#pooled.push(chunk);
      return;
    }
    if (value instanceof Date) {
      this.#head(DATE, key);
      const time = value.getTime();
      this.#int64(Number.isNaN(time) ? 0 : time);
      return;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      this.#head(DOCUMENT, key);
      this.beginDocument();
      this.#fields(value as Document);
      this.endDocument();
      return;
    }
    // Tags rather than instanceof: the driver's copy of bson has its own classes.
    const tagged = value as { _bsontype?: unknown };
    if (tagged._bsontype === 'ObjectId') {
      this.#head(OBJECT_ID, key);
      this.#ensure(12);
      const id = value as ObjectIdBytes;
      // bson's serializeInto (outside its public types) writes without allocating; `id` is the public way.
      if (typeof id.serializeInto === 'function') id.serializeInto(this.#buffer, this.#position);
      else this.#buffer.set(id.id, this.#position);
      this.#position += 12;
      return;
    }
    if (tagged._bsontype === 'Long' || tagged._bsontype === 'Timestamp') {
      const long = value as { getLowBits(): number; getHighBits(): number };
      this.#head(tagged._bsontype === 'Long' ? INT64 : TIMESTAMP, key);
      this.#ensure(8);
      this.#buffer.writeInt32LE(long.getLowBits(), this.#position);
      this.#buffer.writeInt32LE(long.getHighBits(), this.#position + 4);
      this.#position += 8;
      return;
    }
    this.#encodedByBson(key, value);
  }

  #number(key: string, value: number, kind: NumericKind | undefined): void {
    if (kind === 'long' && Number.isInteger(value)) {
      this.#head(INT64, key);
      this.#int64(value);
      return;
    }
    if (
      kind === undefined &&
      Number.isInteger(value) &&
      value >= -2147483648 &&
      value <= 2147483647 &&
      (value !== 0 || 1 / value > 0)
    ) {
      this.#head(INT32, key);
      this.#ensure(4);
      this.#position = this.#buffer.writeInt32LE(value, this.#position);
      return;
    }
    this.#head(DOUBLE, key);
    this.#ensure(8);
    this.#position = this.#buffer.writeDoubleLE(value, this.#position);
  }

  #int64(value: number): void {
    this.#ensure(8);
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER || !Number.isFinite(value)) {
      const long = Long.fromNumber(value); // saturates, as bson does
      this.#buffer.writeInt32LE(long.low, this.#position);
      this.#buffer.writeInt32LE(long.high, this.#position + 4);
    } else {
      const high = Math.floor(value / TWO_POW_32);
      this.#buffer.writeUInt32LE(value - high * TWO_POW_32, this.#position);
      this.#buffer.writeInt32LE(high, this.#position + 4);
    }
    this.#position += 8;
  }

  /** A value bson must encode (Binary, Decimal128, Int32, Double, regex, Code, DBRef, Map, …). */
  #encodedByBson(key: string, value: unknown): void {
    // A one-element document: int32 length, type, "v\0", the value, terminating zero.
    const bytes = serialize({ v: value });
    if (bytes.length <= 5) return; // a value bson skips
    this.#head(bytes[4] as number, key);
    const encoded = bytes.subarray(7, bytes.length - 1);
    this.#ensure(encoded.length);
    this.#buffer.set(encoded, this.#position);
    this.#position += encoded.length;
  }

  #head(type: number, key: string): void {
    this.#ensure(2 + key.length * 3);
    const start = this.#position;
    this.#buffer[start] = type;
    let end = start + 1;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      if (code === 0) throw invalidKey(key);
      if (code > 127) {
        end = start + 1 + this.#buffer.write(key, start + 1, 'utf8');
        break;
      }
      this.#buffer[end++] = code;
    }
    this.#buffer[end++] = 0;
    this.#position = end;
  }

  #string(value: string): void {
    if (value.length <= SHORT_STRING) {
      this.#ensure(5 + value.length * 3);
      const start = this.#position + 4;
      let end = start;
      for (let i = 0; i < value.length; i++) {
        const code = value.charCodeAt(i);
        if (code > 127) {
          end = start + this.#buffer.write(value, start, 'utf8');
          break;
        }
        this.#buffer[end++] = code;
      }
      this.#buffer.writeInt32LE(end - start + 1, this.#position);
      this.#buffer[end] = 0;
      this.#position = end + 1;
      return;
    }
    if (value.length <= MEDIUM_STRING) {
      // Room for the worst case (3 bytes a UTF-16 unit) spares measuring first: one native call.
      this.#ensure(5 + value.length * 3);
      const bytes = this.#buffer.write(value, this.#position + 4, 'utf8');
      this.#buffer.writeInt32LE(bytes + 1, this.#position);
      this.#position += 4 + bytes;
      this.#buffer[this.#position++] = 0;
      return;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.#ensure(5 + bytes);
    this.#buffer.writeInt32LE(bytes + 1, this.#position);
    this.#buffer.write(value, this.#position + 4, bytes, 'utf8');
    this.#position += 4 + bytes;
    this.#buffer[this.#position++] = 0;
  }

  #splice(parts: readonly Buffer[], byteLength: number): void {
    if (this.#position > this.#segmentStart) {
      this.#segments.push(this.#buffer.subarray(this.#segmentStart, this.#position));
      this.#segmentBytes += this.#position - this.#segmentStart;
    }
    for (const part of parts) this.#segments.push(part);
    this.#segmentBytes += byteLength;
    this.#segmentStart = this.#position;
  }

  /** Makes room for `bytes` contiguous bytes, starting a new chunk when the current one is full. */
  #ensure(bytes: number): void {
    if (this.#position + bytes <= this.#buffer.length) return;
    if (this.#position > this.#segmentStart) {
      this.#segments.push(this.#buffer.subarray(this.#segmentStart, this.#position));
      this.#segmentBytes += this.#position - this.#segmentStart;
    }
    // Chunks are never copied: a document's length prefix stays where it was written.
    if (bytes > CHUNK_BYTES) {
      this.#buffer = Buffer.allocUnsafe(bytes); // one huge string: not worth pooling
    } else {
      this.#buffer = replyChunks.acquire();
      this.#pooled.push(this.#buffer);
    }
    this.#position = 0;
    this.#segmentStart = 0;
  }
}

/** Bytes of an element's head: type, key, terminating zero. */
function headBytes(key: string): number {
  for (let i = 0; i < key.length; i++)
    if (key.charCodeAt(i) > 127) return 2 + Buffer.byteLength(key, 'utf8');
  return 2 + key.length;
}

function invalidKey(key: string): CommandError {
  return new CommandError('InvalidBSON', `key ${JSON.stringify(key)} must not contain null bytes`);
}
