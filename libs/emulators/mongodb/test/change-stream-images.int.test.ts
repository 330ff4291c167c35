import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Document, MongoServerError } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { readEvents, started } from './support/stream-helpers.ts';

const AWAIT = { maxAwaitTimeMS: 100 };

describe('fullDocument and fullDocumentBeforeChange', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('looks up the current document for updateLookup, null once it is deleted', async () => {
    const coll = target.db('img_lookup').collection('c');
    await coll.insertMany([
      { _id: 1, v: 0 },
      { _id: 2, v: 0 },
    ] as never[]);
    const stream = await started(coll.watch([], { ...AWAIT, fullDocument: 'updateLookup' }));
    try {
      await coll.updateOne({ _id: 1 } as never, { $set: { v: 1 } });
      await coll.updateOne({ _id: 2 } as never, { $set: { v: 1 } });
      await coll.deleteOne({ _id: 2 } as never);
      const events = (await readEvents(stream, 3)) as Document[];
      expect(events[0]?.fullDocument).toEqual({ _id: 1, v: 1 });
      expect(events[1]?.fullDocument).toBeNull();
    } finally {
      await stream.close();
    }
  });

  it('gives post-images and pre-images when the collection records them', async () => {
    const db = target.db('img_on');
    await db.createCollection('c', { changeStreamPreAndPostImages: { enabled: true } });
    const coll = db.collection('c');
    await coll.insertOne({ _id: 1, v: 0 } as never);
    const stream = await started(
      coll.watch([], { ...AWAIT, fullDocument: 'required', fullDocumentBeforeChange: 'required' }),
    );
    try {
      await coll.updateOne({ _id: 1 } as never, { $set: { v: 1 } });
      await coll.updateOne({ _id: 1 } as never, { $set: { v: 2 } });
      await coll.replaceOne({ _id: 1 } as never, { r: true });
      await coll.deleteOne({ _id: 1 } as never);
      const events = (await readEvents(stream, 4)) as Document[];
      // Point-in-time images: each event shows the document as that write left it, not as it is now.
      expect(events.map((e) => e.fullDocument ?? null)).toEqual([
        { _id: 1, v: 1 },
        { _id: 1, v: 2 },
        { _id: 1, r: true },
        null,
      ]);
      expect(events.map((e) => e.fullDocumentBeforeChange)).toEqual([
        { _id: 1, v: 0 },
        { _id: 1, v: 1 },
        { _id: 1, v: 2 },
        { _id: 1, r: true },
      ]);
    } finally {
      await stream.close();
    }
  });

  it('answers null for whenAvailable when no images are recorded', async () => {
    const coll = target.db('img_off').collection('c');
    await coll.insertOne({ _id: 1, v: 0 } as never);
    const stream = await started(
      coll.watch([], {
        ...AWAIT,
        fullDocument: 'whenAvailable',
        fullDocumentBeforeChange: 'whenAvailable',
      }),
    );
    try {
      await coll.updateOne({ _id: 1 } as never, { $set: { v: 1 } });
      const [event] = (await readEvents(stream, 1)) as Document[];
      expect(event?.fullDocument).toBeNull();
      expect(event?.fullDocumentBeforeChange).toBeNull();
    } finally {
      await stream.close();
    }
  });

  it('fails with NoMatchingDocument (47) for required images that were never recorded', async () => {
    const coll = target.db('img_req').collection('c');
    await coll.insertOne({ _id: 1, v: 0 } as never);
    const stream = await started(
      coll.watch([], { ...AWAIT, fullDocumentBeforeChange: 'required' }),
    );
    try {
      await coll.updateOne({ _id: 1 } as never, { $set: { v: 1 } });
      const error = await readEvents(stream, 1).catch((e: unknown) => e);
      expect((error as MongoServerError).code).toBe(47);
    } finally {
      await stream.close();
    }
  });

  it('rejects an unknown fullDocument value with BadValue (2)', async () => {
    const coll = target.db('img_bad').collection('c');
    const stream = coll.watch([], { ...AWAIT, fullDocument: 'sometimes' as never });
    const error = await stream.tryNext().catch((e: unknown) => e);
    await stream.close();
    expect((error as MongoServerError).code).toBe(2);
  });
});
