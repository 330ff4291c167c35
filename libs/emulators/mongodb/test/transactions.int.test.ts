import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Long, UUID } from 'bson';
import type { Document, MongoServerError } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { rawCommand } from './support/raw-wire.ts';
import { readEvents, started } from './support/stream-helpers.ts';

const AWAIT = { maxAwaitTimeMS: 100 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('multi-document transactions', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('emits the events of a committed transaction only at commit, sharing clusterTime, lsid and txnNumber', async () => {
    const coll = target.db('txn_commit').collection('c');
    await coll.insertOne({ _id: 'pre', v: 0 } as never);
    const stream = await started(coll.watch([], AWAIT));
    const session = target.client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: 'a' } as never, { session });
      await coll.updateOne({ _id: 'pre' } as never, { $set: { v: 1 } }, { session });
      // Visible inside the transaction, but not outside it nor to the stream before commit.
      expect(await coll.findOne({ _id: 'a' } as never, { session })).toEqual({ _id: 'a' });
      expect(await coll.findOne({ _id: 'a' } as never)).toBeNull();
      expect(await stream.tryNext()).toBeNull();
      await coll.deleteOne({ _id: 'a' } as never, { session });
      await session.commitTransaction();
      const events = (await readEvents(stream, 3)) as Document[];
      expect(events.map((e) => e.operationType)).toEqual(['insert', 'update', 'delete']);
      const [first] = events;
      for (const event of events) {
        expect(event.clusterTime.equals(first?.clusterTime)).toBe(true);
        expect(event.lsid.id.toString('hex')).toBe(session.id?.id.toString('hex'));
        expect(Number(event.txnNumber)).toBe(Number(first?.txnNumber));
      }
      expect(await coll.findOne({ _id: 'pre' } as never)).toEqual({ _id: 'pre', v: 1 });
    } finally {
      await session.endSession();
      await stream.close();
    }
  });

  it('discards an aborted transaction without any event', async () => {
    const coll = target.db('txn_abort').collection('c');
    await coll.insertOne({ _id: 'keep' } as never);
    const stream = await started(coll.watch([], AWAIT));
    const session = target.client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: 'x' } as never, { session });
      await session.abortTransaction();
      await coll.insertOne({ _id: 'after' } as never);
      const [event] = (await readEvents(stream, 1)) as Document[];
      expect(event?.documentKey).toEqual({ _id: 'after' });
      expect(await coll.countDocuments()).toBe(2);
    } finally {
      await session.endSession();
      await stream.close();
    }
  });

  it('runs withTransaction end to end', async () => {
    const coll = target.db('txn_with').collection('c');
    const session = target.client.startSession();
    try {
      await session.withTransaction(async () => {
        await coll.insertMany([{ _id: 1 }, { _id: 2 }] as never[], { session });
      });
    } finally {
      await session.endSession();
    }
    expect(await coll.countDocuments()).toBe(2);
  });

  it('aborts the transaction on a duplicate key inside it', async () => {
    const coll = target.db('txn_dup').collection('c');
    await coll.insertOne({ _id: 1 } as never);
    const session = target.client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: 2 } as never, { session });
      const error = await coll.insertOne({ _id: 1 } as never, { session }).catch((e: unknown) => e);
      expect((error as MongoServerError).code).toBe(11000);
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
    expect(await coll.countDocuments()).toBe(1);
  });
});

describe('transaction write conflicts', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  async function conflictOf(write: Promise<unknown>): Promise<unknown> {
    return write.then(
      () => 'succeeded',
      (e: MongoServerError) => ({ code: e.code, errorLabels: e.errorLabels }),
    );
  }
  const WRITE_CONFLICT = { code: 112, errorLabels: ['TransientTransactionError'] };

  it('fails the second transaction at its write to a document the first has written (first writer wins)', async () => {
    const coll = target.db('txn_conflict_two').collection('c');
    await coll.insertOne({ _id: 1, v: 0 } as never);
    const first = target.client.startSession();
    const second = target.client.startSession();
    try {
      first.startTransaction();
      second.startTransaction();
      await coll.updateOne({ _id: 1 } as never, { $set: { v: 'first' } }, { session: first });
      await coll.findOne({ _id: 1 } as never, { session: second });
      const write = coll.updateOne(
        { _id: 1 } as never,
        { $set: { v: 'second' } },
        { session: second },
      );
      expect(await conflictOf(write)).toEqual(WRITE_CONFLICT);
      await first.commitTransaction();
      // The conflict aborted the second transaction.
      expect(await conflictOf(second.commitTransaction())).toMatchObject({ code: 251 });
    } finally {
      await first.endSession();
      await second.endSession();
    }
    expect(await coll.findOne({ _id: 1 } as never)).toEqual({ _id: 1, v: 'first' });
  });

  it('fails a transaction at its write to a document committed by someone else since its snapshot', async () => {
    const coll = target.db('txn_conflict_snapshot').collection('c');
    await coll.insertOne({ _id: 1, v: 0 } as never);
    const session = target.client.startSession();
    try {
      session.startTransaction();
      expect(await coll.findOne({ _id: 1 } as never, { session })).toEqual({ _id: 1, v: 0 });
      await coll.updateOne({ _id: 1 } as never, { $set: { v: 'outside' } });
      const write = coll.updateOne({ _id: 1 } as never, { $set: { v: 'txn' } }, { session });
      expect(await conflictOf(write)).toEqual(WRITE_CONFLICT);
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
    expect(await coll.findOne({ _id: 1 } as never)).toEqual({ _id: 1, v: 'outside' });
  });

  it('makes a write outside transactions wait for the transaction holding its document: MaxTimeMSExpired while it is open, applied after it commits', async () => {
    const coll = target.db('txn_conflict_outside').collection('c');
    await coll.insertMany([
      { _id: 1, log: [] },
      { _id: 2, v: 0 },
    ] as never[]);
    const session = target.client.startSession();
    try {
      session.startTransaction();
      await coll.updateOne({ _id: 1 } as never, { $push: { log: 'txn' } } as never, { session });
      const timedOut = coll.updateOne(
        { _id: 1 } as never,
        { $set: { v: 'outside' } },
        { maxTimeMS: 200 },
      );
      expect(await conflictOf(timedOut)).toMatchObject({ code: 50 });
      // One ordered batch: once its first statement shows, the batch has reached the
      // server before the commit, and its second meets the held document.
      const waiting = coll.bulkWrite(
        [
          { updateOne: { filter: { _id: 2 }, update: { $set: { v: 'reached' } } } },
          { updateOne: { filter: { _id: 1 }, update: { $push: { log: 'outside' } } } },
        ] as never[],
        { ordered: true },
      );
      while (!(await coll.findOne({ _id: 2, v: 'reached' } as never))) await sleep(10);
      const probe = coll.updateOne(
        { _id: 1 } as never,
        { $set: { v: 'probe' } },
        { maxTimeMS: 50 },
      );
      expect(await conflictOf(probe)).toMatchObject({ code: 50 });
      await session.commitTransaction();
      expect((await waiting).modifiedCount).toBe(2);
    } finally {
      await session.endSession();
    }
    // Applied after the transaction's write, never before or instead of it.
    expect(await coll.findOne({ _id: 1 } as never)).toEqual({ _id: 1, log: ['txn', 'outside'] });
  });
});

// Emulator-only: a real server's transactionLifetimeLimitSeconds and session timeout are not set per test.
describe.skipIf(AGAINST_REAL_SERVER)('transaction and session lifetime', () => {
  const LIFETIME_MS = 300;
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget({
      transactionLifetimeLimitMs: LIFETIME_MS,
      logicalSessionTimeoutMs: 2 * LIFETIME_MS,
    });
  });
  afterAll(async () => {
    await target.close();
  });

  it('aborts a transaction left open past its lifetime: its writes never appear, commit answers NoSuchTransaction (251)', async () => {
    const coll = target.db('txn_lifetime').collection('c');
    await coll.insertOne({ _id: 'before' } as never);
    const session = target.client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: 'abandoned' } as never, { session });
      await sleep(LIFETIME_MS * 3);
      const error = (await session
        .commitTransaction()
        .catch((e: unknown) => e)) as MongoServerError;
      expect(error.code).toBe(251);
      expect(error.codeName).toBe('NoSuchTransaction');
    } finally {
      await session.endSession();
    }
    expect(await coll.find().toArray()).toEqual([{ _id: 'before' }]);
    const recorded = target.emulator!.oplogEntries().filter((r) => r.ns.db === coll.dbName);
    expect(recorded.map((r) => r.documentKey)).toEqual([{ _id: 'before' }]);
  });

  it('leaves a transaction that commits within its lifetime alone', async () => {
    const coll = target.db('txn_quick').collection('c');
    const session = target.client.startSession();
    try {
      await session.withTransaction(async () => {
        await coll.insertOne({ _id: 'kept' } as never, { session });
      });
    } finally {
      await session.endSession();
    }
    expect(await coll.find().toArray()).toEqual([{ _id: 'kept' }]);
  });

  it('forgets a session idle past logicalSessionTimeoutMinutes, and with it its retryable-write history', async () => {
    const dbName = target.dbName('session_idle');
    const insert = {
      insert: 'c',
      documents: [{ _id: 1 }],
      lsid: { id: new UUID() },
      txnNumber: Long.fromNumber(1),
      $db: dbName,
    };
    expect(await rawCommand(target.uri, insert)).toMatchObject({ ok: 1, n: 1 });
    // Within the session's lifetime, the same statement is a retry: answered from history.
    const retried = await rawCommand(target.uri, insert);
    expect(retried).toMatchObject({ ok: 1, n: 1 });
    expect(retried?.writeErrors).toBeUndefined();
    await sleep(LIFETIME_MS * 4);
    // The session is gone: the statement runs again and meets the document it wrote.
    const rerun = await rawCommand(target.uri, insert);
    expect(rerun?.writeErrors?.[0]?.code).toBe(11000);
  });
});
