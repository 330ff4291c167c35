import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';

// Emulator-only: a real server's TTL monitor runs every 60 s, not set per test.
describe.skipIf(AGAINST_REAL_SERVER)('TTL indexes', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget({ ttlMonitorIntervalMs: 50 });
    db = target.db('ttl');
  });
  afterAll(async () => {
    await target.close();
  });

  it('deletes documents whose indexed date is past expireAfterSeconds, as delete events', async () => {
    const coll = db.collection('sessions');
    await coll.createIndex({ at: 1 }, { expireAfterSeconds: 60 });
    const now = Date.now();
    await coll.insertMany([
      { _id: 'expired', at: new Date(now - 61_000) },
      { _id: 'expiredArray', at: [new Date(now + 3_600_000), new Date(now - 120_000)] },
      { _id: 'fresh', at: new Date(now) },
      { _id: 'notADate', at: 'yesterday' },
      { _id: 'noField' },
    ] as never[]);
    // Wait for the monitor's pass (no assertion on how soon it comes).
    while ((await coll.countDocuments()) > 3) await sleep(20);
    const left = await coll.find().sort({ _id: 1 }).toArray();
    expect(left.map((doc) => doc._id)).toEqual(['fresh', 'noField', 'notADate']);
    const deletes = target
      .emulator!.oplogEntries()
      .filter((entry) => entry.operationType === 'delete')
      .map((entry) => entry.documentKey?._id);
    expect(deletes.sort()).toEqual(['expired', 'expiredArray']);
  });

  it('expires only the documents a partial TTL index holds (its partialFilterExpression)', async () => {
    const coll = db.collection('partial');
    await coll.createIndex(
      { at: 1 },
      { expireAfterSeconds: 1, partialFilterExpression: { kind: 'temp' } },
    );
    const old = new Date(Date.now() - 60_000);
    await coll.insertMany([
      { _id: 'temp', kind: 'temp', at: old },
      { _id: 'kept', kind: 'perm', at: old },
    ] as never[]);
    while ((await coll.countDocuments({ _id: 'temp' } as never)) > 0) await sleep(20);
    // A later pass must not take the other one either.
    await coll.insertOne({ _id: 'probe', kind: 'temp', at: old } as never);
    while ((await coll.countDocuments({ _id: 'probe' } as never)) > 0) await sleep(20);
    expect(await coll.find().toArray()).toEqual([{ _id: 'kept', kind: 'perm', at: old }]);
  });

  it('leaves a document an open transaction holds to a later pass, expiring the others meanwhile', async () => {
    const held = db.collection('held');
    const other = db.collection('other');
    const old = new Date(Date.now() - 60_000);
    await held.insertMany([
      { _id: 'held', at: old },
      { _id: 'free', at: old },
    ] as never[]);
    await other.insertOne({ _id: 'elsewhere', at: old } as never);
    const session = target.client.startSession();
    try {
      session.startTransaction();
      await held.updateOne({ _id: 'held' } as never, { $set: { n: 1 } }, { session });
      await held.createIndex({ at: 1 }, { expireAfterSeconds: 1 });
      await other.createIndex({ at: 1 }, { expireAfterSeconds: 1 });
      while ((await held.countDocuments()) + (await other.countDocuments()) > 1) await sleep(20);
      expect(await held.find().toArray()).toEqual([{ _id: 'held', at: old }]);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    while ((await held.countDocuments()) > 0) await sleep(20);
  });
});
