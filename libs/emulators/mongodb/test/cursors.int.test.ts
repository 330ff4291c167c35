import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoServerError } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A cursor id of 0 (the driver hands small int64s over as numbers). */
const isClosed = (id: unknown) => String(id) === '0';

describe('cursor batches', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('cursor_batches');
    await db
      .collection('c')
      .insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i })) as never[]);
  });
  afterAll(async () => {
    await target.close();
  });

  it('answers find with batchSize 0 with an empty first batch and a live cursor', async () => {
    const first = await db.command({ find: 'c', batchSize: 0 });
    expect(first.cursor.firstBatch).toEqual([]);
    expect(isClosed(first.cursor.id)).toBe(false);
    const more = await db.command({ getMore: first.cursor.id, collection: 'c' });
    expect(more.cursor.nextBatch.map((d: { _id: number }) => d._id)).toEqual([0, 1, 2, 3, 4]);
    expect(isClosed(more.cursor.id)).toBe(true);
  });

  it('answers aggregate with batchSize 0 with an empty first batch and a live cursor', async () => {
    const first = await db.command({
      aggregate: 'c',
      pipeline: [{ $sort: { _id: -1 } }],
      cursor: { batchSize: 0 },
    });
    expect(first.cursor.firstBatch).toEqual([]);
    expect(isClosed(first.cursor.id)).toBe(false);
    const more = await db.command({ getMore: first.cursor.id, collection: 'c' });
    expect(more.cursor.nextBatch.map((d: { _id: number }) => d._id)).toEqual([4, 3, 2, 1, 0]);
  });

  it('lets the driver read a find cursor opened with batchSize 0 to the end', async () => {
    const docs = await db.collection('c').find({}, { batchSize: 0 }).toArray();
    expect(docs.map((d) => d._id)).toEqual([0, 1, 2, 3, 4]);
  });
});

// Emulator-only: a real server's cursorTimeoutMillis is not set per test.
describe.skipIf(AGAINST_REAL_SERVER)('idle cursor timeout', () => {
  const TIMEOUT_MS = 300;
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget({ cursorTimeoutMs: TIMEOUT_MS });
    db = target.db('cursor_idle');
    await db
      .collection('c')
      .insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: i })) as never[]);
  });
  afterAll(async () => {
    await target.close();
  });

  it('keeps a cursor that getMore keeps using alive well past the idle timeout', async () => {
    const first = await db.command({ find: 'c', batchSize: 1 });
    const seen = [...first.cursor.firstBatch];
    // Twelve getMores 100 ms apart: four timeouts after the cursor was created.
    for (let i = 0; i < 12; i++) {
      await sleep(100);
      const more = await db.command({ getMore: first.cursor.id, collection: 'c', batchSize: 1 });
      seen.push(...more.cursor.nextBatch);
    }
    expect(seen.map((d) => d._id)).toEqual(Array.from({ length: 13 }, (_, i) => i));
  });

  it('closes a cursor left idle longer than the timeout (CursorNotFound, 43)', async () => {
    const first = await db.command({ find: 'c', batchSize: 1 });
    await sleep(TIMEOUT_MS * 3);
    const error = (await db
      .command({ getMore: first.cursor.id, collection: 'c' })
      .catch((e: unknown) => e)) as MongoServerError;
    expect(error.code).toBe(43);
    expect(target.emulator!.openCursorCount()).toBe(0);
  });
});
