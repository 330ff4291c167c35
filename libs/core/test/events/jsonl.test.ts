import { Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { decodeLine, encodeLine, formatOrderingKey } from '../../src/index.ts';

const captured = {
  key: formatOrderingKey({ t: 1_763_731_200, i: 4, n: 2 }),
  capturedAt: new Date('2026-11-21T13:20:01.000Z'),
  event: {
    _id: { _data: '8263A1' },
    operationType: 'update',
    clusterTime: new Timestamp({ t: 1_763_731_200, i: 4 }),
    wallTime: new Date('2026-11-21T13:20:00.123Z'),
    ns: { db: 'shop', coll: 'orders' },
    documentKey: { _id: new ObjectId('64b7f0c2a1b2c3d4e5f60718') },
    updateDescription: {
      updatedFields: { total: Decimal128.fromString('10.50') },
      removedFields: [],
      truncatedArrays: [],
    },
    fullDocument: {
      _id: new ObjectId('64b7f0c2a1b2c3d4e5f60718'),
      total: Decimal128.fromString('10.50'),
      count: Long.fromNumber(3),
      huge: Long.fromString('-9007199254740993'),
      when: new Date('1969-07-20T20:17:00Z'),
      blob: new Binary(Buffer.from('bytes'), 0),
    },
    txnNumber: Long.fromNumber(7),
    lsid: { id: new Binary(Buffer.alloc(16, 1), 4) },
  },
};

describe('JSONL lines', () => {
  it('are one line of Extended JSON ending in a newline', () => {
    const line = encodeLine(captured, 5, 'relaxed');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(() => JSON.parse(line)).not.toThrow();
  });

  it('carry the ordering key, the resume token, the partition and the capture time', () => {
    const parsed = JSON.parse(encodeLine(captured, 5, 'relaxed'));
    expect(parsed._tributary).toEqual({
      key: '1763731200-0000000004-0000000002',
      resumeToken: { _data: '8263A1' },
      partition: 5,
      capturedAt: { $date: '2026-11-21T13:20:01Z' },
    });
    expect(parsed.clusterTime).toEqual({ $timestamp: { t: 1_763_731_200, i: 4 } });
  });

  it('in canonical mode keep every BSON type through a round trip', () => {
    const back = decodeLine(encodeLine(captured, 5, 'canonical'));
    const doc = back.fullDocument;
    expect(doc.total).toBeInstanceOf(Decimal128);
    expect(doc.total.toString()).toBe('10.50');
    expect(doc.count).toBeInstanceOf(Long);
    expect(doc.huge.toString()).toBe('-9007199254740993');
    expect(doc.when.toISOString()).toBe('1969-07-20T20:17:00.000Z');
    expect(doc.blob.toString('utf8')).toBe('bytes');
    expect(back.lsid.id.sub_type).toBe(4);
    expect(back.txnNumber.toString()).toBe('7');
  });

  it('in relaxed mode never round a 64-bit integer beyond 2^53', () => {
    const line = encodeLine(captured, 5, 'relaxed');
    expect(line).toContain('"huge":{"$numberLong":"-9007199254740993"}');
    expect(line).toContain('"count":3');
    expect(decodeLine(line).fullDocument.huge.toString()).toBe('-9007199254740993');
  });

  it('keep ObjectId, Decimal128 and binary typed even in relaxed mode', () => {
    const back = decodeLine(encodeLine(captured, 5, 'relaxed'));
    expect(back.fullDocument._id).toBeInstanceOf(ObjectId);
    expect(back.fullDocument.total).toBeInstanceOf(Decimal128);
    expect(back.fullDocument.blob).toBeInstanceOf(Binary);
  });
});
