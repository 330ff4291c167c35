import { BSON, Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  type ChangeBatch,
  decodeBatch,
  encodeBatch,
  formatOrderingKey,
  isCoreError,
} from '../../src/index.ts';

const key = (n: number) => formatOrderingKey({ t: 1000, i: 1, n });
const token = (n: number) => ({ _data: `82${n}` });
const event = (n: number) => ({
  _id: token(n),
  operationType: 'insert',
  clusterTime: new Timestamp({ t: 1000, i: 1 }),
  ns: { db: 'shop', coll: 'orders' },
  documentKey: { _id: new ObjectId() },
  fullDocument: {
    price: Decimal128.fromString('9.99'),
    big: Long.fromString('9007199254740993'),
    raw: new Binary(Buffer.from([0, 255]), 4),
  },
});

function batch(): ChangeBatch {
  return {
    partition: 3,
    events: [0, 1].map((n) => ({
      key: key(n),
      capturedAt: new Date(1_000_000 + n),
      event: event(n),
    })),
    position: { key: key(1), token: token(1) },
    previousKey: key(0),
  };
}

function decodeError(bytes: Uint8Array): string {
  try {
    decodeBatch(bytes, 16);
  } catch (error) {
    if (isCoreError(error) && error.code === 'BATCH_INVALID' && !error.retryable)
      return error.message;
    throw error;
  }
  throw new Error('expected the batch to be refused');
}

describe('change batches on the queue', () => {
  it('round-trip every BSON type exactly', () => {
    const original = batch();
    const decoded = decodeBatch(encodeBatch(original), 16);
    expect(BSON.serialize(decoded as never)).toEqual(BSON.serialize(original as never));
    const doc = decoded.events[1]?.event.fullDocument;
    expect(doc.big.toString()).toBe('9007199254740993');
    expect(doc.raw.sub_type).toBe(4);
  });

  it('refuse bytes that are not BSON, as a poison message', () => {
    expect(decodeError(new Uint8Array([1, 2, 3]))).toMatch(/not BSON/);
  });

  it.each([
    ['an unknown format version', { v: 9 }, /format version 9/],
    ['a partition the writer does not have', { p: 16 }, /partition 16 is outside 0…15/],
    ['a missing position', { pos: undefined }, /position lacks/],
    ['a previous key after the position', { prev: key(5) }, /previous key is after/],
    ['a previous key that is not a key', { prev: 'x' }, /previous key is not/],
    [
      'events out of order',
      {
        ev: [
          { k: key(2), at: new Date(), e: event(2) },
          { k: key(1), at: new Date(), e: event(1) },
        ],
      },
      /out of order/,
    ],
    [
      'an event that is not a change event',
      { ev: [{ k: key(1), at: new Date(), e: { hello: 1 } }] },
      /not a change event/,
    ],
  ])('refuse %s', (_name, override, message) => {
    const good = BSON.deserialize(encodeBatch(batch()));
    expect(decodeError(BSON.serialize({ ...good, ...override }))).toMatch(message);
  });

  it('carry heartbeats with no events', () => {
    const heartbeat = {
      partition: 0,
      events: [],
      position: { key: key(7), token: token(7) },
      previousKey: '',
    };
    expect(decodeBatch(encodeBatch(heartbeat), 1)).toEqual(heartbeat);
  });
});

describe('large change batches', () => {
  it('encode beyond the 17 MB staging buffer of BSON.serialize', () => {
    const big = batch();
    const heavy = {
      ...big,
      events: big.events.map((e) => ({
        ...e,
        event: {
          ...e.event,
          fullDocument: { blob: new Binary(Buffer.alloc(10 * 1024 * 1024, 7)) },
        },
      })),
    };
    const decoded = decodeBatch(encodeBatch(heavy), 16);
    expect(decoded.events.map((e) => e.event.fullDocument.blob.length())).toEqual([
      10 * 1024 * 1024,
      10 * 1024 * 1024,
    ]);
  });
});
