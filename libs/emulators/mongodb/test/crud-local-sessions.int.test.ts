import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Binary, Document } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('$listLocalSessions lists the sessions the node has seen', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('includes a session a plain read used, with its id, uid and last use', async () => {
    const session = target.client.startSession();
    try {
      await target.db('sessions').collection('c').findOne({}, { session });
      const sessionId = (session.id as Document).id as Binary;
      const listed = await target.client
        .db('admin')
        .aggregate([
          { $listLocalSessions: { allUsers: true } },
          { $match: { '_id.id': sessionId } },
        ])
        .toArray();
      expect(listed).toHaveLength(1);
      const [entry] = listed as Array<{ _id: { id: Binary; uid: Binary }; lastUse: Date }>;
      expect(entry?._id.id.toString('hex')).toBe(sessionId.toString('hex'));
      expect(entry?._id.uid.buffer.length).toBe(32);
      expect(entry?.lastUse).toBeInstanceOf(Date);
    } finally {
      await session.endSession();
    }
  });

  it('runs only in a collectionless aggregate, { aggregate: 1 }', async () => {
    const error = await failure(
      target
        .db('sessions')
        .collection('c')
        .aggregate([{ $listLocalSessions: {} }])
        .toArray(),
    );
    expect(error.code).toBe(73);
  });
});
