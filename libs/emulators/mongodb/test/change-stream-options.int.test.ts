import type { Document, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { readEvents, started } from './support/stream-helpers.ts';

const AWAIT = { maxAwaitTimeMS: 100 };

describe('$changeStream options and stages, as the server parses them', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('takes an optional option given as null for absent (what the driver sends for one set to undefined)', async () => {
    const db = target.db('cs_null_options');
    const opened = await db.command({
      aggregate: 'c',
      pipeline: [
        {
          $changeStream: {
            resumeAfter: null,
            startAfter: null,
            startAtOperationTime: null,
            fullDocument: null,
            fullDocumentBeforeChange: null,
          },
        },
      ],
      cursor: {},
    });
    expect(opened.ok).toBe(1);
    // A program that passes its options through, some of them undefined.
    const coll = db.collection<{ _id: number }>('c');
    const stream = await started(
      coll.watch([], { ...AWAIT, resumeAfter: undefined, fullDocument: undefined }),
    );
    try {
      await coll.insertOne({ _id: 1 });
      const events = (await readEvents(stream, 1)) as Document[];
      expect(events.map((e) => [e.operationType, e.documentKey._id])).toEqual([['insert', 1]]);
    } finally {
      await stream.close();
    }
  });

  it('refuses a stage it does not know with 40324, and a known stage a change stream does not allow with 20', async () => {
    const db = target.db('cs_stages');
    const refusal = (stage: Document) =>
      db.command({ aggregate: 'c', pipeline: [{ $changeStream: {} }, stage], cursor: {} }).then(
        () => undefined,
        (error: MongoServerError) => error.code,
      );
    expect(await refusal({ $noSuchStage: {} })).toBe(40324);
    expect(await refusal({ $group: { _id: null } })).toBe(20);
    expect(await refusal({ $match: { operationType: 'insert' } })).toBeUndefined();
  });

  it('refuses a boolean option given as another type with TypeMismatch (14), as its optionalBool parser does', async () => {
    const db = target.db('cs_bool_options');
    const code = (stage: Document) =>
      db.command({ aggregate: 'c', pipeline: [{ $changeStream: stage }], cursor: {} }).then(
        () => undefined,
        (error: MongoServerError) => error.code,
      );
    for (const key of ['showExpandedEvents', 'showSystemEvents', 'showRawUpdateDescription'])
      expect([key, await code({ [key]: 1 })]).toEqual([key, 14]);
    expect(await code({ showExpandedEvents: false })).toBeUndefined();
  });

  // Emulator-only: a real server honours all of these.
  it.skipIf(AGAINST_REAL_SERVER)(
    'refuses what it does not emulate, naming it, instead of ignoring it',
    async () => {
      const db = target.db('cs_unsupported');
      const refusal = (command: Document) =>
        db.command({ aggregate: 'c', cursor: {}, ...command }).then(
          () => undefined,
          (error: MongoServerError) => [error.code, error.message],
        );
      const cases: Array<[string, Document]> = [
        ['showSystemEvents', { pipeline: [{ $changeStream: { showSystemEvents: true } }] }],
        [
          'showRawUpdateDescription',
          { pipeline: [{ $changeStream: { showRawUpdateDescription: true } }] },
        ],
        [
          '$changeStreamSplitLargeEvent',
          { pipeline: [{ $changeStream: {} }, { $changeStreamSplitLargeEvent: {} }] },
        ],
        ['collation', { pipeline: [{ $changeStream: {} }], collation: { locale: 'fr' } }],
        ['let', { pipeline: [{ $changeStream: {} }], let: { x: 1 } }],
        ['hint', { pipeline: [{ $changeStream: {} }], hint: { _id: 1 } }],
      ];
      for (const [feature, command] of cases) {
        expect([feature, await refusal(command)]).toEqual([
          feature,
          [20, `${feature} is not supported in a change stream by the Tributary MongoDB emulator`],
        ]);
      }
      const off = { showSystemEvents: false, showRawUpdateDescription: false };
      expect(await refusal({ pipeline: [{ $changeStream: off }] })).toBeUndefined();
    },
  );
});
