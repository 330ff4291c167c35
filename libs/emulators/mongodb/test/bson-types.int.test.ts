import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Decimal128,
  Double,
  Int32,
  Long,
  Timestamp,
  type Document,
  type MongoClient,
} from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { readEvents, started } from './support/stream-helpers.ts';

/** The BSON type name of a value read with promoteValues: false. */
function typeOf(value: unknown): string {
  return (value as { _bsontype?: string })?._bsontype ?? typeof value;
}

describe('BSON types survive storage, reads and change events', () => {
  let target: ConformanceTarget;
  let raw: MongoClient;
  beforeAll(async () => {
    target = await openTarget();
    // This client keeps numbers as BSON wrappers, so the test sees the types the server sent.
    raw = await target.newClient({ promoteValues: false });
  });
  afterAll(async () => {
    await target.close();
  });

  const original = () => ({
    _id: 1,
    int: 7,
    long: Long.fromNumber(5),
    bigLong: Long.fromString('1152921504606846976'),
    wholeDouble: new Double(1),
    double: 2.5,
    decimal: Decimal128.fromString('1.10'),
    nested: { long: Long.fromNumber(6), list: [Long.fromNumber(1), new Double(2), 3] },
  });

  it('returns the numeric types that were inserted', async () => {
    const dbName = target.dbName('types_find');
    await target.client
      .db(dbName)
      .collection('c')
      .insertOne(original() as never);
    const doc = (await raw
      .db(dbName)
      .collection('c')
      .findOne({ _id: new Int32(1) } as never)) as Document;
    expect(typeOf(doc.int)).toBe('Int32');
    expect(typeOf(doc.long)).toBe('Long');
    expect(typeOf(doc.bigLong)).toBe('Long');
    expect(typeOf(doc.wholeDouble)).toBe('Double');
    expect(typeOf(doc.double)).toBe('Double');
    expect(typeOf(doc.decimal)).toBe('Decimal128');
    expect(typeOf(doc.nested.long)).toBe('Long');
    expect(doc.nested.list.map(typeOf)).toEqual(['Long', 'Double', 'Int32']);
  });

  it('keeps a small Timestamp a Timestamp (it is no int64, though the bson library derives it from Long)', async () => {
    const coll = target.db('types_timestamp').collection('c');
    await coll.insertOne({ _id: 1, at: new Timestamp({ t: 1, i: 1 }) } as never);
    const doc = (await coll.findOne({ _id: 1 } as never)) as Document;
    expect(typeOf(doc.at)).toBe('Timestamp');
    expect(doc.at).toEqual(new Timestamp({ t: 1, i: 1 }));
  });

  it('keeps types in change events, and $inc/$set give the types the server would store', async () => {
    const dbName = target.dbName('types_stream');
    const coll = target.client.db(dbName).collection('c');
    const stream = await started(raw.db(dbName).collection('c').watch([], { maxAwaitTimeMS: 100 }));
    try {
      await coll.insertOne(original() as never);
      await coll.updateOne({ _id: 1 } as never, {
        $inc: { long: 1, int: Long.fromNumber(1) },
        $set: { wholeDouble: 3 },
      });
      const [insert, update] = (await readEvents(stream, 2)) as Document[];
      expect(typeOf(insert?.fullDocument.long)).toBe('Long');
      expect(typeOf(insert?.fullDocument.wholeDouble)).toBe('Double');
      const fields = update?.updateDescription.updatedFields as Document;
      expect(typeOf(fields.long)).toBe('Long');
      expect(typeOf(fields.int)).toBe('Long');
      expect(typeOf(fields.wholeDouble)).toBe('Int32');
    } finally {
      await stream.close();
    }
  });

  it.skipIf(AGAINST_REAL_SERVER)('records the inserted types in the oplog record', async () => {
    const dbName = target.dbName('types_oplog');
    await target.client
      .db(dbName)
      .collection('c')
      .insertOne(original() as never);
    const record = target.emulator!.oplogEntries().find((r) => r.ns.db === dbName);
    expect(record?.fullDocument?.long).toEqual(Long.fromNumber(5));
    expect(record?.fullDocument?.wholeDouble).toEqual(new Double(1));
  });
});
