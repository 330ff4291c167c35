import { formatOrderingKey } from '@tributary/core';
import { Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { decodeLine, encodeLine } from '@tributary/core';
import { instantOfToken } from '../src/verify/cluster-instant.ts';
import { documentIdKey, documentIdOfKey, fingerprint } from '../src/verify/document-fingerprint.ts';
import { PartitionCoverage } from '../src/verify/partition-coverage.ts';

const T = 1_780_000_000;
const hex = (n: number) => n.toString(16).padStart(8, '0');
const token = (t: number, i: number) => ({ _data: `82${hex(t)}${hex(i)}000000000000` });

describe('what a partition checkpoint covers', () => {
  const coverage = new PartitionCoverage(
    new Map([
      [
        0,
        {
          partition: 0,
          position: { key: formatOrderingKey({ t: T, i: 5, n: 1 }), token: token(T, 5) },
          openFiles: [],
          writerId: 'w',
          updatedAt: new Date(),
        },
      ],
      [
        // A quiet partition: a heartbeat moved its token past its last key.
        1,
        {
          partition: 1,
          position: { key: formatOrderingKey({ t: T, i: 5, n: 0 }), token: token(T + 10, 0) },
          openFiles: [
            { path: 'a/open.jsonl', firstKey: '', length: 0, version: '', openedAt: new Date() },
            {
              path: 'a/closed.jsonl',
              firstKey: '',
              length: 0,
              version: '',
              openedAt: new Date(),
              closed: true,
            },
          ],
          writerId: 'w',
          updatedAt: new Date(),
        },
      ],
    ]),
    { startAtOperationTime: new Timestamp({ t: T - 100, i: 0 }), createdAt: new Date() },
  );

  it.each([
    ['an earlier clusterTime', 0, { t: T, i: 4 }, undefined, true],
    ['the key itself', 0, { t: T, i: 5 }, 1, true],
    ['an earlier event of the key’s transaction', 0, { t: T, i: 5 }, 0, true],
    ['a later event of the key’s transaction', 0, { t: T, i: 5 }, 2, false],
    [
      'an event of the key’s clusterTime at an unknown position',
      0,
      { t: T, i: 5 },
      undefined,
      false,
    ],
    ['a later clusterTime', 0, { t: T, i: 6 }, 0, false],
    ['a later clusterTime before the heartbeat’s token', 1, { t: T + 9, i: 3 }, 0, true],
    ['the heartbeat token’s own clusterTime', 1, { t: T + 10, i: 0 }, 0, false],
    ['a partition without a checkpoint', 2, { t: T - 50, i: 0 }, 0, false],
  ] as const)('%s: %s', (_, partition, at, n, covered) => {
    expect(coverage.covers(partition, at, n)).toBe(covered);
  });

  it('says from where a partition may miss events, and which files are still open', () => {
    expect(coverage.uncoveredFrom(0)).toEqual({ t: T, i: 5 });
    expect(coverage.uncoveredFrom(1)).toEqual({ t: T + 10, i: 0 });
    expect(coverage.uncoveredFrom(2)).toEqual({ t: T - 100, i: 0 });
    expect([...coverage.openFiles]).toEqual(['a/open.jsonl']);
  });
});

describe('comparing documents', () => {
  const document = {
    _id: new ObjectId('64b7f0000000000000000000'),
    int: new Int32(3),
    double: new Double(3),
    fraction: 2.5,
    long: Long.fromNumber(5),
    huge: Long.fromString('9007199254740993'),
    decimal: Decimal128.fromString('1.10'),
    at: new Date(Date.UTC(2026, 0, 2)),
    nested: { list: [1, 'two', { three: new Int32(3) }] },
  };
  // What the driver returns for it (promoted values).
  const asReturned = { ...document, int: 3, double: 3, long: 5 };
  const reordered = ({ fraction, ...rest }: typeof asReturned) => ({ fraction, ...rest });

  it.each(['relaxed', 'canonical'] as const)(
    'sees a document read back from a %s line as the one the source returns',
    (format) => {
      const line = encodeLine(
        {
          key: formatOrderingKey({ t: T, i: 1, n: 0 }),
          capturedAt: new Date(),
          event: { _id: token(T, 1), fullDocument: document },
        },
        0,
        format,
      );
      expect(fingerprint(decodeLine(line).fullDocument)).toBe(fingerprint(asReturned));
    },
  );

  it.each([
    ['a changed value', { ...asReturned, fraction: 2.25 }],
    ['a number that became a string', { ...asReturned, int: '3' }],
    ['a big Int64 off by one', { ...asReturned, huge: Long.fromString('9007199254740992') }],
    ['fields in another order', reordered(asReturned)],
    ['a missing field', { ...asReturned, nested: undefined }],
  ])('tells a document apart from one with %s', (_, other) => {
    expect(fingerprint(other)).not.toBe(fingerprint(asReturned));
  });

  it.each([
    [1, new Int32(1)],
    [1.5, new Double(1.5)],
    [5, Long.fromNumber(5)],
    ['1', '1'],
    [new ObjectId('64b7f0000000000000000000'), new ObjectId('64b7f0000000000000000000')],
    [
      { a: 1, b: 'x' },
      { a: new Int32(1), b: 'x' },
    ],
  ])('names the _id %s the same however it was decoded', (returned, decoded) => {
    expect(documentIdKey(decoded)).toBe(documentIdKey(returned));
    expect(documentIdKey(documentIdOfKey(documentIdKey(returned)))).toBe(documentIdKey(returned));
  });

  it('keeps _ids of different types apart', () => {
    expect(documentIdKey(1)).not.toBe(documentIdKey('1'));
    expect(documentIdKey(Long.fromString('9007199254740993'))).not.toBe(
      documentIdKey(Long.fromString('9007199254740992')),
    );
  });
});

describe('reading a resume token’s clusterTime', () => {
  it.each([
    [token(T, 7), { t: T, i: 7 }],
    [{ _data: '826B1712EA000000010000000000' }, { t: 0x6b1712ea, i: 1 }],
    [{ _data: 'opaque' }, undefined],
    [{}, undefined],
    [null, undefined],
  ])('%j', (given, expected) => {
    expect(instantOfToken(given)).toEqual(expected);
  });
});
