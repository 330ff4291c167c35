import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Timestamp, type ClientSession, type Document, type MongoServerError } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';

/** The server error a command failed with, or 'ok'. */
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok' as const,
    (error: MongoServerError) => ({ code: error.code, errmsg: error.message }),
  );

/** A timestamp `seconds` after `ts`. */
const later = (ts: Timestamp, seconds: number) =>
  new Timestamp({ t: ts.high + seconds, i: ts.low });

describe('read and write concerns as the server parses and honours them', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('refuses a malformed writeConcern before the write runs, with the server parser errors', async () => {
    const db = target.db('concern_wc_parse');
    const insert = (writeConcern: unknown, _id: number) =>
      failureOf(db.command({ insert: 'c', documents: [{ _id }], writeConcern }));
    expect(await insert({ w: -1 }, 1)).toMatchObject({
      code: 9,
      errmsg: expect.stringContaining('w has to be a non-negative number'),
    });
    expect(await insert({ w: 51 }, 2)).toMatchObject({ code: 9 });
    expect(await insert({ w: true }, 3)).toMatchObject({ code: 9 });
    expect(await insert({ w: {} }, 4)).toMatchObject({ code: 9 });
    expect(await insert({ j: 'yes' }, 5)).toMatchObject({ code: 14 });
    expect(await insert({ fsync: [] }, 6)).toMatchObject({ code: 14 });
    expect(await insert({ j: true, fsync: true }, 7)).toMatchObject({ code: 9 });
    expect(await insert({ wtimeout: 2 ** 31 }, 8)).toMatchObject({ code: 9 });
    expect(await insert({ w: 1, wait: true }, 9)).toMatchObject({ code: 40415 });
    expect(await db.collection('c').countDocuments()).toBe(0);
    // What the server's parser lets through: a negative wtimeout, a wtimeout of another type.
    expect(await insert({ w: 1, wtimeout: -1 }, 10)).toBe('ok');
    expect(await insert({ w: 'majority', wtimeout: 'soon' }, 11)).toBe('ok');
    expect(await db.collection('c').countDocuments()).toBe(2);
  });

  it('refuses a writeConcern on a command that takes none (72)', async () => {
    const db = target.db('concern_wc_unsupported');
    await db.collection('c').insertOne({ _id: 1 } as never);
    const find = db.command({ find: 'c', writeConcern: { w: 1 } });
    expect(await failureOf(find)).toEqual({
      code: 72,
      errmsg: 'Command does not support writeConcern',
    });
    // endSessions too (the server's command says it supports none), though the driver's
    // close() sends it with { w: 0 }: the session it names is not ended.
    const session = target.client.startSession();
    await db.collection('c').findOne({}, { session });
    const end = db.admin().command({ endSessions: [session.id], writeConcern: { w: 1 } });
    expect(await failureOf(end)).toMatchObject({ code: 72 });
    const listed = await target.client
      .db('admin')
      .aggregate([{ $listLocalSessions: {} }])
      .toArray();
    expect(listed.map((s) => s._id.id)).toContainEqual(session.id?.id);
    await session.endSession();
  });

  it('answers tag counts naming a tag no member has with a writeConcernError, the write applied', async () => {
    const db = target.db('concern_wc_tags');
    const insert = db.command({
      insert: 'c',
      documents: [{ _id: 1 }],
      writeConcern: { w: { dc: 1 } },
    });
    expect(await failureOf(insert)).toEqual({
      code: 4,
      errmsg: 'No replica set tag key dc in config',
    });
    expect(await db.collection('c').countDocuments()).toBe(1);
  });

  it('refuses an unknown readConcern level (BadValue) and an unknown field (40415)', async () => {
    const db = target.db('concern_rc_parse');
    await db.collection('c').insertOne({ _id: 1 } as never);
    const find = (readConcern: unknown) => failureOf(db.command({ find: 'c', readConcern }));
    expect(await find({ level: 'bogus' })).toEqual({
      code: 2,
      errmsg: "Enumeration value 'bogus' for field 'readConcern.level' is not a valid value.",
    });
    expect(await find({ level: 1 })).toMatchObject({ code: 14 });
    expect(await find({ level: 'local', after: 1 })).toMatchObject({ code: 40415 });
    expect(await find({ level: 'majority', atClusterTime: new Timestamp({ t: 1, i: 1 }) })).toEqual(
      {
        code: 72,
        errmsg: 'atClusterTime field can be set only if level is equal to snapshot',
      },
    );
    expect(
      await find({ level: 'available', afterClusterTime: new Timestamp({ t: 1, i: 1 }) }),
    ).toMatchObject({ code: 72 });
  });

  it('satisfies an afterClusterTime already reached and refuses one beyond the cluster time (72)', async () => {
    const db = target.db('concern_rc_after');
    const { operationTime } = await db.command({ insert: 'c', documents: [{ _id: 1 }] });
    const find = (afterClusterTime: Timestamp) =>
      db.command({ find: 'c', readConcern: { level: 'local', afterClusterTime } });
    const reached = await find(operationTime as Timestamp);
    expect(reached.cursor.firstBatch).toEqual([{ _id: 1 }]);
    expect(await failureOf(find(later(operationTime as Timestamp, 3600)))).toMatchObject({
      code: 72,
      errmsg: expect.stringContaining(
        'readConcern afterClusterTime value must not be greater than the current clusterTime',
      ),
    });
  });

  it('answers a snapshot read with the time it read at, and reads again at that time', async () => {
    const db = target.db('concern_rc_snapshot');
    await db.collection('c').insertOne({ _id: 1 } as never);
    const first = await db.command({ find: 'c', readConcern: { level: 'snapshot' } });
    const atClusterTime = first.cursor.atClusterTime as Timestamp;
    expect(atClusterTime).toBeInstanceOf(Timestamp);
    const again = await db.command({
      find: 'c',
      readConcern: { level: 'snapshot', atClusterTime },
    });
    expect(again.cursor.firstBatch).toEqual([{ _id: 1 }]);
    const distinct = await db.command({
      distinct: 'c',
      key: '_id',
      readConcern: { level: 'snapshot', atClusterTime },
    });
    expect(distinct.values).toEqual([1]);
    const count = db.command({ count: 'c', readConcern: { level: 'snapshot' } });
    expect(await failureOf(count)).toMatchObject({ code: 72 });
  });

  // Emulator-only: a real server serves the older snapshot from its history.
  it.skipIf(AGAINST_REAL_SERVER)(
    'refuses a snapshot read at a time before a later write (SnapshotTooOld, 239) instead of reading the present',
    async () => {
      const db = target.db('concern_rc_snapshot_old');
      const coll = db.collection<{ _id: number }>('c');
      await coll.insertOne({ _id: 1 });
      const session = target.client.startSession({ snapshot: true });
      try {
        expect(await coll.find({}, { session }).toArray()).toEqual([{ _id: 1 }]);
        await coll.insertOne({ _id: 2 });
        const stale = coll.find({}, { session }).toArray();
        expect(await failureOf(stale)).toMatchObject({
          code: 239,
          errmsg: expect.stringContaining('keeps no snapshot history'),
        });
      } finally {
        await session.endSession();
      }
    },
  );
});

describe('concerns inside a transaction', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  /** Runs `body` in a started transaction; ends the session whatever happens. */
  async function inTransaction(
    body: (session: ClientSession) => Promise<void>,
    options: Document = {},
  ): Promise<void> {
    const session = target.client.startSession();
    try {
      session.startTransaction(options);
      await body(session);
    } finally {
      await session.endSession();
    }
  }

  it('refuses a readConcern on a statement after the first (72), the transaction still open', async () => {
    const db = target.db('concern_txn_rc');
    await inTransaction(async (session) => {
      await db.collection('c').insertOne({ _id: 1 } as never, { session });
      const find = db.command({ find: 'c', readConcern: { level: 'local' } }, { session });
      expect(await failureOf(find)).toEqual({
        code: 72,
        errmsg: 'Only the first command in a transaction may specify a readConcern',
      });
      await session.commitTransaction();
    });
    expect(await db.collection('c').countDocuments()).toBe(1);
  });

  it('refuses a writeConcern on a statement (72), the transaction still open', async () => {
    const db = target.db('concern_txn_wc');
    await inTransaction(async (session) => {
      await db.collection('c').insertOne({ _id: 1 } as never, { session });
      const insert = db.command(
        { insert: 'c', documents: [{ _id: 2 }], writeConcern: { w: 1 } },
        { session },
      );
      expect(await failureOf(insert)).toEqual({
        code: 72,
        errmsg: 'writeConcern is not allowed within a multi-statement transaction',
      });
      await session.commitTransaction();
    });
    expect(await db.collection('c').find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('refuses to start a transaction at a level other than local, majority or snapshot (72)', async () => {
    const db = target.db('concern_txn_level');
    await inTransaction(
      async (session) => {
        const insert = db.collection('c').insertOne({ _id: 1 } as never, { session });
        expect(await failureOf(insert)).toMatchObject({
          code: 72,
          errmsg: expect.stringContaining('cannot specify a readConcern level other than'),
        });
      },
      { readConcern: { level: 'available' } },
    );
    expect(await db.collection('c').countDocuments()).toBe(0);
  });
});
