import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Double, Long, type Db } from 'mongodb';
import { rawCommand, sendRaw } from './support/raw-wire.ts';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('bad input gets the server error codes, never a crash, hang or leak', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('bad');
    await db.collection('c').insertMany([
      { _id: 1, a: 1 },
      { _id: 2, a: 2 },
    ] as never[]);
  });
  afterAll(async () => {
    await target.close();
  });

  it('answers an unknown command with CommandNotFound (59)', async () => {
    const error = await failure(db.command({ notARealCommand: 1 }));
    expect(error.code).toBe(59);
    expect(error.codeName).toBe('CommandNotFound');
    expect(error.message).toBe("no such command: 'notARealCommand'");
  });

  it('answers an unknown query operator with BadValue (2)', async () => {
    const error = await failure(
      db
        .collection('c')
        .find({ a: { $bogus: 1 } })
        .toArray(),
    );
    expect(error.code).toBe(2);
    expect(error.message).toMatch(/unknown operator: \$bogus/);
  });

  it('answers an unknown update modifier with FailedToParse (9)', async () => {
    const error = await failure(
      db.collection('c').updateOne({ _id: 1 } as never, { $bogus: { a: 1 } } as never),
    );
    expect(error.code).toBe(9);
    expect(error.message).toMatch(/Unknown modifier: \$bogus/);
  });

  it('answers an unknown pipeline stage with 40324', async () => {
    const error = await failure(
      db
        .collection('c')
        .aggregate([{ $bogus: {} }])
        .toArray(),
    );
    expect(error.code).toBe(40324);
  });

  it('answers an unknown command field with 40415', async () => {
    const error = await failure(db.command({ find: 'c', bogusOption: true }));
    expect(error.code).toBe(40415);
    expect(error.message).toBe("BSON field 'find.bogusOption' is an unknown field.");
  });

  it.each([
    ['findAndModify', { findAndModify: 'c', query: {}, update: { $set: { a: 1 } }, bogus: 1 }],
    ['distinct', { distinct: 'c', key: 'a', bogus: 1 }],
    ['create', { create: 'fresh', bogus: 1 }],
    ['drop', { drop: 'never', bogus: 1 }],
    ['listCollections', { listCollections: 1, bogus: 1 }],
    ['createIndexes', { createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1' }], bogus: 1 }],
    ['listIndexes', { listIndexes: 'c', bogus: 1 }],
    ['collMod', { collMod: 'c', bogus: 1 }],
    ['killCursors', { killCursors: 'c', cursors: [], bogus: 1 }],
  ])('answers an unknown field of %s with UnknownBsonField (40415)', async (name, command) => {
    const error = await failure(db.command(command));
    expect(error.code).toBe(40415);
    expect(error.message).toBe(`BSON field '${name}.bogus' is an unknown field.`);
  });

  it('refuses an unknown field of an update statement (40415) and takes upsert: 1 as true, as the server parses safeBool', async () => {
    const error = await failure(
      db.command({ update: 'c', updates: [{ q: { _id: 1 }, u: { $set: { a: 1 } }, bogus: 1 }] }),
    );
    expect(error.code).toBe(40415);
    expect(error.message).toBe("BSON field 'update.updates.bogus' is an unknown field.");
    const typed = await failure(
      db.command({
        update: 'c',
        updates: [{ q: { _id: 1 }, u: { $set: { a: 1 } }, upsert: 'yes' }],
      }),
    );
    expect(typed.code).toBe(14);
    const upserted = await db.command({
      update: 'c',
      updates: [{ q: { _id: 'by-number' }, u: { $set: { a: 9 } }, upsert: 1 }],
    });
    expect(upserted).toMatchObject({ n: 1, upserted: [{ index: 0, _id: 'by-number' }] });
    expect(await db.collection('c').findOne({ _id: 'by-number' } as never)).toEqual({
      _id: 'by-number',
      a: 9,
    });
  });

  it('refuses an unknown field of a delete statement (40415) and deletes nothing', async () => {
    const before = await db.collection('c').countDocuments();
    const error = await failure(
      db.command({ delete: 'c', deletes: [{ q: {}, limit: 0, colation: { locale: 'en' } }] }),
    );
    expect(error.code).toBe(40415);
    expect(error.message).toBe("BSON field 'delete.deletes.colation' is an unknown field.");
    expect(await db.collection('c').countDocuments()).toBe(before);
  });

  it('answers a wrongly typed field with TypeMismatch (14)', async () => {
    const error = await failure(db.command({ find: 'c', limit: 'ten' }));
    expect(error.code).toBe(14);
  });

  it('requires a cursor option on aggregate (FailedToParse, 9)', async () => {
    const error = await failure(db.command({ aggregate: 'c', pipeline: [] }));
    expect(error.code).toBe(9);
  });

  it('refuses $changeStream anywhere but first (40602)', async () => {
    const error = await failure(
      db.command({ aggregate: 'c', pipeline: [{ $match: {} }, { $changeStream: {} }], cursor: {} }),
    );
    expect(error.code).toBe(40602);
  });

  it('refuses more than one resume option (40674) and unknown $changeStream options (40415)', async () => {
    const token = { _data: '8200000001000000010000000000' };
    const both = await failure(
      db.command({
        aggregate: 'c',
        pipeline: [{ $changeStream: { resumeAfter: token, startAfter: token } }],
        cursor: {},
      }),
    );
    expect(both.code).toBe(40674);
    const unknown = await failure(
      db.command({ aggregate: 'c', pipeline: [{ $changeStream: { bogus: 1 } }], cursor: {} }),
    );
    expect(unknown.code).toBe(40415);
  });

  it('answers a getMore on an unknown cursor with CursorNotFound (43)', async () => {
    const error = await failure(db.command({ getMore: Long.fromNumber(424242), collection: 'c' }));
    expect(error.code).toBe(43);
  });

  it('answers a getMore whose cursor id is an int32 with TypeMismatch (14)', async () => {
    // getMore is `type: long` in the server's IDL, and that parser is strict.
    const error = await failure(db.command({ getMore: 424242 as never, collection: 'c' }));
    expect(error.code).toBe(14);
    const double = await failure(db.command({ getMore: new Double(1) as never, collection: 'c' }));
    expect(double.code).toBe(14);
  });

  it('answers a result BSON cannot hold (a field name with a null byte) with an error, and keeps serving', async () => {
    // The server refuses the key as $arrayToObject builds it; either way the client gets an
    // error reply, and the server lives on.
    const error = await failure(
      db
        .collection('c')
        .aggregate([{ $replaceWith: { $arrayToObject: { $literal: [{ k: 'a\u0000b', v: 1 }] } } }])
        .toArray(),
    );
    expect(error.code).toBeGreaterThan(0);
    expect((await db.command({ ping: 1 })).ok).toBe(1);
  });

  it('answers an invalid collection name with InvalidNamespace (73)', async () => {
    const error = await failure(db.command({ insert: 'bad$name', documents: [{}] }));
    expect(error.code).toBe(73);
  });

  it.skipIf(AGAINST_REAL_SERVER)(
    'leaves no cursor open after failed and completed commands',
    async () => {
      await db.collection('c').find({}, { batchSize: 1 }).toArray();
      await failure(
        db
          .collection('c')
          .find({ a: { $bogus: 1 } })
          .toArray(),
      );
      const stream = db.collection('c').watch([], { maxAwaitTimeMS: 50 });
      await stream.tryNext();
      await stream.close();
      expect(target.emulator!.openCursorCount()).toBe(0);
    },
  );
});

describe('malformed traffic', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('survives random bytes and malformed commands and keeps serving', async () => {
    // A fixed-seed generator keeps the test reproducible.
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let k = 0; k < 60; k++) {
      const bytes = Buffer.alloc(16 + Math.floor(random() * 60));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      bytes.writeInt32LE(bytes.length, 0);
      if (k % 2 === 1) bytes.writeInt32LE(2013, 12);
      await sendRaw(target.uri, bytes, 200);
    }
    const dbName = target.dbName('bad_traffic');
    const malformed = [
      { insert: 'c', documents: [5], $db: dbName },
      { update: 'c', updates: [{ q: {}, u: 5 }], $db: dbName },
      {
        aggregate: 'c',
        pipeline: [{ $changeStream: { resumeAfter: { _data: 'zz' } } }],
        cursor: {},
        $db: dbName,
      },
      { configureFailPoint: 'failCommand', mode: 'alwaysOn', data: 5, $db: 'admin' },
      { find: 'c' },
      {},
    ];
    for (const command of malformed) {
      const reply = await rawCommand(target.uri, command);
      expect(reply).toBeDefined();
    }
    expect((await target.client.db('admin').command({ ping: 1 })).ok).toBe(1);
    expect(await target.client.db(dbName).collection('c').findOne({})).toBeNull();
    if (!AGAINST_REAL_SERVER) expect(target.emulator!.openCursorCount()).toBe(0);
  });
});
