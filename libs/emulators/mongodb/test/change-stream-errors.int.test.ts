import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoServerError } from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';
import { started } from './support/stream-helpers.ts';

describe('change-stream errors the driver must not resume after', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('labels ChangeStreamFatalError (280) from a pipeline that projects out _id NonResumableChangeStreamError', async () => {
    const coll = target.db('cse_fatal').collection('c');
    const stream = await started(coll.watch([{ $project: { _id: 0 } }], { maxAwaitTimeMS: 100 }));
    try {
      await coll.insertOne({ _id: 1 } as never);
      const error = (await stream.next().catch((e: unknown) => e)) as MongoServerError;
      expect([error.code, error.errorLabels]).toEqual([280, ['NonResumableChangeStreamError']]);
    } finally {
      await stream.close();
    }
  });
});
