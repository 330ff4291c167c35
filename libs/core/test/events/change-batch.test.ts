import { BSON, Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  type CapturedEvent,
  type ChangeBatch,
  batchEntryBytes,
  batchHeaderBytes,
  claimPath,
  decodeBatch,
  decodeClaim,
  encodeBatch,
  encodeClaim,
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

function batch(): ChangeBatch<CapturedEvent> {
  return {
    partition: 3,
    generation: 1_764_619_200_123,
    sequence: 17,
    events: [1, 2].map((n) => ({
      key: key(n),
      capturedAt: new Date(1_000_000 + n),
      event: event(n),
    })),
    position: { key: key(2), token: token(2) },
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
    const doc = (decoded.events[1] as CapturedEvent).event.fullDocument;
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
    ['an event at or before the previous key', { prev: key(1) }, /event 0 is out of order/],
    ['a fractional generation', { g: 1.5 }, /generation or sequence/],
    ['a negative sequence', { s: -1 }, /generation or sequence/],
    [
      'a claim check outside the partition’s claims',
      { ev: [{ k: key(1), at: new Date(), c: claimPath(4, key(1)), b: 5 }] },
      /claim check outside/,
    ],
    [
      'a claim check without the staged event’s size',
      { ev: [{ k: key(1), at: new Date(), c: claimPath(3, key(1)) }] },
      /without the staged event/,
    ],
    ['a previous key that is not a key', { prev: 'x' }, /previous key is not/],
    [
      'events out of order',
      {
        ev: [
          { k: key(3), at: new Date(), e: event(3) },
          { k: key(2), at: new Date(), e: event(2) },
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
      generation: 3,
      sequence: 0,
      events: [],
      position: { key: key(7), token: token(7) },
      previousKey: '',
    };
    expect(decodeBatch(encodeBatch(heartbeat), 1)).toEqual(heartbeat);
  });

  it('carry heartbeats that only move the resume token, under the same key', () => {
    const heartbeat = {
      partition: 0,
      generation: 3,
      sequence: 4,
      events: [],
      position: { key: key(7), token: { _data: '82ff' } },
      previousKey: key(7),
    };
    expect(decodeBatch(encodeBatch(heartbeat), 1)).toEqual(heartbeat);
  });

  it('carry a claim check in place of an event too large for a message', () => {
    const claimed = {
      ...batch(),
      events: [
        { key: key(1), capturedAt: new Date(5), claim: claimPath(3, key(1)), bytes: 20_000 },
      ],
      position: { key: key(1), token: token(1) },
    };
    expect(decodeBatch(encodeBatch(claimed), 16)).toEqual(claimed);
    const staged = event(1);
    const back = decodeClaim(encodeClaim(staged), claimPath(3, key(1)));
    expect(BSON.serialize(back)).toEqual(BSON.serialize(staged));
  });

  it('read batches of format version 1 as generation 0', () => {
    const good = BSON.deserialize(encodeBatch(batch()));
    const { g: _g, s: _s, ...rest } = good;
    const decoded = decodeBatch(BSON.serialize({ ...rest, v: 1 }), 16);
    expect([decoded.generation, decoded.sequence, decoded.events.length]).toEqual([0, 0, 2]);
  });

  it('measure their encoded size exactly from the parts, as capture cuts them', () => {
    for (const events of [0, 1, 2, 11, 120]) {
      const original = batch();
      const entries = Array.from({ length: events }, (_, n) => ({
        key: key(n + 1),
        capturedAt: new Date(n),
        ...(n % 3 === 2
          ? { claim: claimPath(3, key(n + 1)), bytes: 70_000 }
          : { event: { ...event(n + 1), pad: 'x'.repeat(n * 7) } }),
      }));
      const sized = {
        ...original,
        events: entries,
        position: events > 0 ? { key: key(events), token: token(events) } : original.position,
      } as ChangeBatch;
      const expected =
        batchHeaderBytes(sized) +
        entries.reduce(
          (sum, entry, index) =>
            sum +
            batchEntryBytes(
              index,
              'claim' in entry
                ? { claim: entry.claim as string }
                : { eventBytes: BSON.calculateObjectSize(entry.event as object) },
            ),
          0,
        );
      expect(encodeBatch(sized).byteLength).toBe(expected);
    }
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
    const events = decoded.events as CapturedEvent[];
    expect(events.map((e) => e.event.fullDocument.blob.length())).toEqual([
      10 * 1024 * 1024,
      10 * 1024 * 1024,
    ]);
  });
});
