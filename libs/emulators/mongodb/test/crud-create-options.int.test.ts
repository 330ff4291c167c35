import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Document } from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { failure } from './support/failure.ts';

describe.skipIf(AGAINST_REAL_SERVER)('create options the emulator does not model', () => {
  let target: ConformanceTarget;
  let db: Db;
  beforeAll(async () => {
    target = await openTarget();
    db = target.db('createopts');
    await db.collection('base').insertOne({ _id: 1, a: 1 } as never);
  });
  afterAll(async () => {
    await target.close();
  });

  it('refuses a capped, time-series or TTL collection instead of creating a plain one', async () => {
    const refused: Array<[string, Document]> = [
      ['capped', { capped: true, size: 4096 }],
      ['series', { timeseries: { timeField: 't' } }],
      ['ttl', { expireAfterSeconds: 60, clusteredIndex: { key: { _id: 1 }, unique: true } }],
    ];
    for (const [name, options] of refused) {
      const error = await failure(db.createCollection(name, options));
      expect(error.code).toBe(72);
      expect(error.message).toMatch(
        /create option not supported by the Tributary MongoDB emulator/,
      );
    }
    const names = (await db.listCollections().toArray()).map((info) => info.name);
    expect(names).toEqual(['base']);
    // The default, capped: false, is no capped collection.
    await db.createCollection('plain', { capped: false });
  });

  it('refuses temporary collections, a custom or missing _id index and replicated record ids', async () => {
    const refused: Array<[string, Document]> = [
      ['temp', { temp: true }],
      ['noid', { autoIndexId: false }],
      ['custom', { idIndex: { key: { _id: 1 }, name: '_id_', collation: { locale: 'fr' } } }],
      ['rids', { recordIdsReplicated: true }],
    ];
    for (const [name, options] of refused) {
      const error = await failure(db.command({ create: name, ...options }));
      expect(error.code).toBe(72);
      expect(error.message).toMatch(
        /create option not supported by the Tributary MongoDB emulator/,
      );
    }
    // What a plain collection is anyway is taken.
    await db.command({
      create: 'plain2',
      temp: false,
      autoIndexId: true,
      idIndex: { key: { _id: 1 }, name: '_id_' },
    });
  });
});
