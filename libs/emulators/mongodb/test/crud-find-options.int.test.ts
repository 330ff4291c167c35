import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe('find options are honoured or refused, never ignored', () => {
  const TIMEOUT_MS = 300;
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    // The idle-cursor timeout is shortened on the emulator only (a real server's is not set per test).
    target = await openTarget({ cursorTimeoutMs: TIMEOUT_MS });
    db = target.db('findopts');
    await db
      .collection('c')
      .insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i })) as never[]);
  });
  afterAll(async () => {
    await target.close();
  });

  it('refuses a tailable cursor on an uncapped collection with BadValue (2)', async () => {
    const error = await failure(db.collection('c').find({}, { tailable: true }).toArray());
    expect(error.code).toBe(2);
    expect(error.message).toMatch(/tailable cursor requested on non capped collection/);
  });

  it.skipIf(AGAINST_REAL_SERVER)(
    'refuses min, max, returnKey and showRecordId as unsupported (72)',
    async () => {
      const refused = [
        { min: { _id: 1 }, hint: { _id: 1 } },
        { max: { _id: 3 }, hint: { _id: 1 } },
        { returnKey: true },
        { showRecordId: true },
      ];
      for (const options of refused) {
        const error = await failure(db.command({ find: 'c', ...options }));
        expect(error.code).toBe(72);
        expect(error.message).toMatch(
          /find option not supported by the Tributary MongoDB emulator/,
        );
      }
    },
  );

  it.skipIf(AGAINST_REAL_SERVER)(
    'keeps a noCursorTimeout cursor open past the idle timeout',
    async () => {
      const first = await db.command({ find: 'c', batchSize: 1, noCursorTimeout: true });
      await sleep(TIMEOUT_MS * 3);
      const more = await db.command({ getMore: first.cursor.id, collection: 'c', batchSize: 1 });
      expect(more.cursor.nextBatch).toEqual([{ _id: 1 }]);
      await db.command({ killCursors: 'c', cursors: [first.cursor.id] });
    },
  );
});
