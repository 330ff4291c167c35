import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('command and statement fields the server reads', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('stmt_fields');
  });
  afterAll(async () => {
    await target.close();
  });

  it('insert has no hint: an unknown field (40415), not ignored', async () => {
    const error = await failure(
      db.command({ insert: 'c', documents: [{ _id: 1 }], hint: 'no_such_index' }),
    );
    expect(error.code).toBe(40415);
    expect(await db.collection('c').countDocuments()).toBe(0);
  });

  it("a pipeline update reads its statement's constants c as $$name", async () => {
    const coll = db.collection('k');
    await coll.insertOne({ _id: 1, a: 1 } as never);
    const reply = await db.command({
      update: 'k',
      updates: [{ q: { _id: 1 }, u: [{ $set: { b: '$$value' } }], c: { value: 'from c' } }],
    });
    expect(reply.nModified).toBe(1);
    expect(await coll.findOne({ _id: 1 } as never)).toEqual({ _id: 1, a: 1, b: 'from c' });
  });

  it('constants with an update that is not a pipeline fail the statement (51198)', async () => {
    const reply = await db.command({
      update: 'k',
      updates: [{ q: {}, u: { $set: { x: 1 } }, c: { value: 1 } }],
    });
    expect(reply.n).toBe(0);
    expect(reply.writeErrors?.[0]?.code).toBe(51198);
    expect(await db.collection('k').countDocuments({ x: 1 })).toBe(0);
  });
});
