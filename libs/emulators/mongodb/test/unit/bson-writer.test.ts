import {
  Binary,
  calculateObjectSize,
  BSONRegExp,
  Code,
  DBRef,
  Decimal128,
  deserialize,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  serialize,
  Timestamp,
  UUID,
  type Document,
} from 'bson';
import { describe, expect, it } from 'vitest';
import { promoteNumbers } from '../../src/storage/numeric-types.ts';
import { BsonWriter } from '../../src/wire/bson-writer.ts';
import { EncodedDocuments } from '../../src/wire/encoded-documents.ts';

function encode(doc: Document): Buffer {
  const writer = new BsonWriter();
  writer.document(doc);
  return Buffer.concat(writer.finish());
}

const cases: Array<[string, Document]> = [
  ['strings', { a: '', b: 'plain', c: 'é ü 中文 🚀', d: 'x'.repeat(5000), e: 'nul\0inside' }],
  [
    'numbers',
    {
      zero: 0,
      negativeZero: -0,
      int32Max: 2147483647,
      int32Min: -2147483648,
      beyondInt32: 2147483648,
      double: 1.5,
      nan: Number.NaN,
      infinity: Number.POSITIVE_INFINITY,
      huge: 2 ** 60,
    },
  ],
  ['booleans, null and undefined', { t: true, f: false, n: null, u: undefined, after: 1 }],
  ['arrays', { list: Array.from({ length: 12 }, (_, i) => i), holes: [1, undefined, null] }],
  [
    'dates',
    { now: new Date(1_700_000_000_123), before1970: new Date(-86_400_000), invalid: new Date(NaN) },
  ],
  [
    'ObjectId, Long, Timestamp and bigint',
    {
      id: new ObjectId('65a1b2c3d4e5f6a7b8c9d0e1'),
      long: Long.fromString('-9007199254740993'),
      small: Long.fromNumber(7),
      ts: new Timestamp({ t: 4_000_000_000, i: 4_000_000_001 }),
      big: -(2n ** 62n),
    },
  ],
  [
    'values bson encodes',
    {
      binary: new Binary(Buffer.from([1, 2, 3]), 0x80),
      uuid: new UUID('0fa1a0ad-9c3f-4c4e-8f9b-2b0a8e0b0c11'),
      decimal: Decimal128.fromString('1.10'),
      int32: new Int32(5),
      wholeDouble: new Double(2),
      regex: /ab+c/gi,
      bsonRegex: new BSONRegExp('x.y', 'm'),
      code: new Code('function () {}'),
      ref: new DBRef('c', new ObjectId('65a1b2c3d4e5f6a7b8c9d0e1'), 'db'),
      min: new MinKey(),
      max: new MaxKey(),
      bytes: new Uint8Array([9, 8]),
    },
  ],
  [
    'nested documents and unicode keys',
    { outer: { inner: { deepest: [{ k: 1 }, [2, [3]]] } }, clé: 1, 'a.b': { $c: 2 } },
  ],
];

describe('BSON writer', () => {
  it.each(cases)('encodes %s byte for byte as bson.serialize does', (_, doc) => {
    expect(encode(doc).equals(Buffer.from(serialize(doc)))).toBe(true);
  });

  it('gives promoted numbers back the BSON type they arrived with', () => {
    const original = {
      long: Long.fromNumber(5),
      wholeDouble: new Double(1),
      nested: { list: [Long.fromNumber(-3), new Double(0)] },
      int: 4,
    };
    const bytes = serialize(original);
    const promoted = deserialize(bytes, { promoteValues: false });
    promoteNumbers(promoted);
    expect(promoted.long).toBe(5);
    expect(encode(promoted).equals(Buffer.from(bytes))).toBe(true);
  });

  it('splices already encoded documents in as the array they stand for', () => {
    const batch = new BsonWriter();
    batch.beginDocument();
    batch.field('0', { a: 1 });
    batch.field('1', { b: 'two' });
    batch.endDocument();
    const length = batch.length;
    const documents = new EncodedDocuments(batch.finish(), length, 2);
    const reply = deserialize(encode({ cursor: { nextBatch: documents, id: Long.ZERO }, ok: 1 }));
    expect(reply).toEqual({ cursor: { nextBatch: [{ a: 1 }, { b: 'two' }], id: 0 }, ok: 1 });
  });

  it('forgets what was written after the mark, across chunks', () => {
    const writer = new BsonWriter();
    writer.beginDocument();
    writer.field('kept', 'yes');
    writer.mark();
    const size = writer.field('dropped', 'x'.repeat(200_000));
    expect(size).toBe(4 + 200_000 + 1);
    writer.field('also dropped', 1);
    writer.rollback();
    // A document's size is its own length prefix, whatever its fields are called.
    expect(writer.field('é', { nested: { deeper: [1, 'two'] } })).toBe(
      calculateObjectSize({ nested: { deeper: [1, 'two'] } }),
    );
    writer.rollback();
    writer.field('after', true);
    writer.endDocument();
    expect(deserialize(Buffer.concat(writer.finish()))).toEqual({ kept: 'yes', after: true });
  });

  it('encodes documents beyond bson’s 17 MiB ceiling', () => {
    const doc = { big: 'y'.repeat(20 * 1024 * 1024), n: 1 };
    const writer = new BsonWriter();
    writer.document(doc);
    const bytes = Buffer.concat(writer.finish());
    expect(bytes.length).toBe(writer.length);
    expect(bytes.readInt32LE(0)).toBe(bytes.length);
    expect(deserialize(bytes).big.length).toBe(doc.big.length);
  });

  it('refuses a key with a null byte (InvalidBSON, 22)', () => {
    expect(() => encode({ 'bad\0key': 1 })).toThrow(expect.objectContaining({ code: 22 }));
  });
});
