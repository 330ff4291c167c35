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
});
