import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoServerError } from 'mongodb';
import { type Document } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { readEvents, started } from './support/stream-helpers.ts';

const AWAIT = { maxAwaitTimeMS: 100 };

describe('change events as MongoDB 7/8 emits them', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('reports insert, update, replace and delete with their documented fields', async () => {
    const coll = target.db('cs_shapes').collection('c');
    const stream = await started(coll.watch([], AWAIT));
    try {
      await coll.insertOne({ _id: 1, a: 1 } as never);
      await coll.updateOne({ _id: 1 } as never, { $set: { b: 2 } });
      await coll.replaceOne({ _id: 1 } as never, { c: 3 });
      await coll.deleteOne({ _id: 1 } as never);
      const events = (await readEvents(stream, 4)) as Document[];
      expect(events.map((e) => e.operationType)).toEqual(['insert', 'update', 'replace', 'delete']);
      const ns = { db: coll.dbName, coll: 'c' };
      for (const event of events) {
        expect(event.ns).toEqual(ns);
        expect(event.documentKey).toEqual({ _id: 1 });
        expect(typeof event._id._data).toBe('string');
        expect(event.clusterTime).toBeDefined();
        expect(event.wallTime).toBeInstanceOf(Date);
      }
      expect(events[0]?.fullDocument).toEqual({ _id: 1, a: 1 });
      expect(events[1]?.updateDescription).toEqual({
        updatedFields: { b: 2 },
        removedFields: [],
        truncatedArrays: [],
      });
      expect(events[1]).not.toHaveProperty('fullDocument');
      expect(events[2]?.fullDocument).toEqual({ _id: 1, c: 3 });
      expect(events[3]).not.toHaveProperty('fullDocument');
    } finally {
      await stream.close();
    }
  });

  it('describes updates with dotted paths, removed fields and truncated arrays', async () => {
    const coll = target.db('cs_desc').collection('c');
    await coll.insertOne({
      _id: 1,
      sub: { x: 1, y: 2 },
      arr: [1, 2, 3],
      gone: true,
      list: ['a'],
    } as never);
    const stream = await started(coll.watch([], AWAIT));
    try {
      await coll.updateOne(
        { _id: 1 } as never,
        {
          $set: { 'sub.x': 5 },
          $unset: { gone: '' },
          $pop: { arr: 1 },
          $push: { list: 'b' },
        } as never,
      );
      const [event] = (await readEvents(stream, 1)) as Document[];
      expect(event?.updateDescription).toEqual({
        updatedFields: { 'sub.x': 5, 'list.1': 'b' },
        removedFields: ['gone'],
        truncatedArrays: [{ field: 'arr', newSize: 2 }],
      });
    } finally {
      await stream.close();
    }
  });

  it('ends a collection stream with drop then invalidate', async () => {
    const coll = target.db('cs_drop').collection('c');
    await coll.insertOne({ _id: 1 } as never);
    const stream = await started(coll.watch([], AWAIT));
    try {
      await coll.drop();
      const events = (await readEvents(stream, 2)) as Document[];
      expect(events.map((e) => e.operationType)).toEqual(['drop', 'invalidate']);
      expect(events[0]?.ns).toEqual({ db: coll.dbName, coll: 'c' });
      expect(events[1]).not.toHaveProperty('ns');
    } finally {
      await stream.close();
    }
  });

  it('reports a rename with its target, then invalidates the collection stream', async () => {
    const db = target.db('cs_rename');
    await db.collection('old').insertOne({ _id: 1 } as never);
    const stream = await started(db.collection('old').watch([], AWAIT));
    try {
      await db.renameCollection('old', 'new');
      const events = (await readEvents(stream, 2)) as Document[];
      expect(events.map((e) => e.operationType)).toEqual(['rename', 'invalidate']);
      expect(events[0]?.to).toEqual({ db: db.databaseName, coll: 'new' });
    } finally {
      await stream.close();
    }
  });

  it('watches a whole database: every collection, then drops and dropDatabase and invalidate', async () => {
    const db = target.db('cs_dbscope');
    await db.createCollection('a');
    const stream = await started(db.watch([], AWAIT));
    try {
      await db.collection('a').insertOne({ _id: 1 } as never);
      await db.collection('b').insertOne({ _id: 2 } as never);
      await db.dropDatabase();
      const events = (await readEvents(stream, 6)) as Document[];
      expect(events.slice(0, 2).map((e) => [e.operationType, e.ns.coll])).toEqual([
        ['insert', 'a'],
        ['insert', 'b'],
      ]);
      expect(events.slice(2, 4).map((e) => e.operationType)).toEqual(['drop', 'drop']);
      expect(
        events
          .slice(2, 4)
          .map((e) => e.ns.coll)
          .sort(),
      ).toEqual(['a', 'b']);
      expect(events[4]).toMatchObject({
        operationType: 'dropDatabase',
        ns: { db: db.databaseName },
      });
      expect(events[5]?.operationType).toBe('invalidate');
    } finally {
      await stream.close();
    }
  });

  it('watches the whole deployment across databases', async () => {
    const stream = await started(
      target.client.watch(
        [{ $match: { 'ns.db': { $in: [target.dbName('cs_dep1'), target.dbName('cs_dep2')] } } }],
        AWAIT,
      ),
    );
    try {
      await target
        .db('cs_dep1')
        .collection('x')
        .insertOne({ _id: 1 } as never);
      await target
        .db('cs_dep2')
        .collection('y')
        .insertOne({ _id: 2 } as never);
      const events = (await readEvents(stream, 2)) as Document[];
      expect(events.map((e) => [e.ns.db, e.documentKey._id])).toEqual([
        [target.dbName('cs_dep1'), 1],
        [target.dbName('cs_dep2'), 2],
      ]);
    } finally {
      await stream.close();
    }
  });

  it('applies user $match, $project and $addFields stages after the change stream stage', async () => {
    const coll = target.db('cs_user').collection('c');
    const stream = await started(
      coll.watch(
        [
          { $match: { operationType: 'insert', 'fullDocument.keep': true } },
          { $addFields: { tag: 'x' } },
          { $project: { fullDocument: 1, tag: 1 } },
        ],
        AWAIT,
      ),
    );
    try {
      await coll.insertMany([
        { _id: 1, keep: false },
        { _id: 2, keep: true },
      ] as never[]);
      await coll.deleteOne({ _id: 2 } as never);
      await coll.insertOne({ _id: 3, keep: true } as never);
      const events = (await readEvents(stream, 2)) as Document[];
      expect(events.map((e) => e.fullDocument._id)).toEqual([2, 3]);
      expect(Object.keys(events[0] as object).sort()).toEqual(['_id', 'fullDocument', 'tag']);
    } finally {
      await stream.close();
    }
  });

  it('fails with ChangeStreamFatalError (280) when the pipeline changes _id', async () => {
    const coll = target.db('cs_badid').collection('c');
    const stream = await started(coll.watch([{ $project: { _id: 0 } }], AWAIT));
    try {
      await coll.insertOne({ _id: 1 } as never);
      const error = await readEvents(stream, 1).catch((e: unknown) => e);
      expect((error as MongoServerError).code).toBe(280);
    } finally {
      await stream.close();
    }
  });
});
