import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { Oplog, type OplogWrite } from '../../src/oplog/oplog.ts';

const write = (id: number): OplogWrite => ({
  op: 'insert',
  ns: { db: 'd', coll: 'c' },
  documentKey: { _id: id },
  postImage: { _id: id },
  imagesRecorded: false,
});

describe('bounded oplog', () => {
  it('drops the oldest entries beyond maxEntries and remembers the newest lost time', () => {
    const oplog = new Oplog({ maxEntries: 3 });
    for (let i = 1; i <= 5; i++) oplog.append(new Timestamp({ t: 10, i }), [write(i)]);
    expect(oplog.entries().map((e) => e.documentKey?._id)).toEqual([3, 4, 5]);
    expect(oplog.lostUpTo?.equals(new Timestamp({ t: 10, i: 2 }))).toBe(true);
    expect(oplog.at(oplog.firstSeq)?.documentKey?._id).toBe(3);
  });

  it('gives a transaction one cluster time and consecutive positions', () => {
    const oplog = new Oplog();
    const added = oplog.append(new Timestamp({ t: 10, i: 1 }), [write(1), write(2)]);
    expect(added.map((e) => e.txnOpIndex)).toEqual([0, 1]);
    expect(added[0]!.token < added[1]!.token).toBe(true);
    expect(oplog.seqAfterToken(added[0]!.token)).toBe(added[1]!.seq);
  });

  it('applies its bounds to entries loaded from disk at once, as they are now set', () => {
    const unbounded = new Oplog();
    for (let i = 1; i <= 5; i++) unbounded.append(new Timestamp({ t: 10, i }), [write(i)]);
    const byCount = new Oplog({ maxEntries: 2 });
    byCount.load(unbounded.entries(), undefined);
    expect(byCount.entries().map((e) => e.documentKey?._id)).toEqual([4, 5]);
    expect(byCount.lostUpTo?.equals(new Timestamp({ t: 10, i: 3 }))).toBe(true);
    // Saved without a byte bound (so sized 0), loaded under one: measured now.
    const one = unbounded.entries()[0]!;
    const bySize = new Oplog({ maxBytes: 1 });
    bySize.load(unbounded.entries(), undefined);
    expect(one.bytes).toBe(0);
    expect(bySize.size).toBe(0);
    expect(bySize.lostUpTo?.equals(new Timestamp({ t: 10, i: 5 }))).toBe(true);
  });
});
