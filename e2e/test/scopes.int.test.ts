import { compareWithSource } from '@tributary/lake';
import { requireRedis } from '@tributary/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runMixedLoad } from '../src/mixed-load.ts';
import { Pipeline, linesByToken } from '../src/pipeline.ts';

/** Waits until the lake holds exactly the source events `wanted` keeps, and returns the comparison. */
async function waitForExactly(
  pipeline: Pipeline,
  wanted: (ns: { db: string; coll?: string }) => boolean,
) {
  const started = Date.now();
  for (;;) {
    const tokens = pipeline.mongo
      .oplogEntries()
      .filter((r) => wanted(r.ns))
      .map((r) => r.resumeToken._data);
    const { inventory } = await pipeline.verify();
    const comparison = compareWithSource(inventory, tokens);
    if (comparison.missing.length === 0 || Date.now() - started > 60_000)
      return { inventory, comparison };
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('what capture watches', () => {
  let pipeline: Pipeline | undefined;
  beforeAll(() => requireRedis());
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('watches one collection, with pre-images of updates, replaces and deletes', async () => {
    pipeline = await Pipeline.start({
      lake: 'local',
      env: {
        TRIBUTARY_CAPTURE_SCOPE: 'collection',
        TRIBUTARY_CAPTURE_DATABASE: 'shop',
        TRIBUTARY_CAPTURE_COLLECTION: 'orders',
        TRIBUTARY_FULL_DOCUMENT_BEFORE_CHANGE: 'whenAvailable',
      },
    });
    await pipeline.client
      .db('shop')
      .createCollection('orders', { changeStreamPreAndPostImages: { enabled: true } });
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    await runMixedLoad(pipeline.client, { rounds: 3 });

    const { inventory, comparison } = await waitForExactly(
      pipeline,
      (ns) => ns.db === 'shop' && ns.coll === 'orders',
    );
    expect(comparison).toMatchObject({
      missing: [],
      duplicated: [],
      unexpected: [],
      misplaced: [],
    });
    expect(inventory.problems).toEqual([]);
    const lines = [...(await linesByToken(await pipeline.lake())).values()];
    const changedBefore = lines.filter((l) =>
      ['update', 'replace', 'delete'].includes(l.operationType as string),
    );
    expect(changedBefore.length).toBeGreaterThan(0);
    expect(changedBefore.every((l) => l.fullDocumentBeforeChange !== undefined)).toBe(true);
  });

  it('watches one database', async () => {
    pipeline = await Pipeline.start({
      lake: 'local',
      env: { TRIBUTARY_CAPTURE_SCOPE: 'database', TRIBUTARY_CAPTURE_DATABASE: 'crm' },
    });
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    await runMixedLoad(pipeline.client, { rounds: 3 });
    const { comparison } = await waitForExactly(pipeline, (ns) => ns.db === 'crm');
    expect(comparison).toMatchObject({
      missing: [],
      duplicated: [],
      unexpected: [],
      misplaced: [],
    });
  });

  it('leaves out excluded namespaces when watching the whole deployment', async () => {
    pipeline = await Pipeline.start({
      lake: 'local',
      env: { TRIBUTARY_EXCLUDE_NAMESPACES: 'shop.customers,crm' },
    });
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    await runMixedLoad(pipeline.client, { rounds: 3 });
    const { comparison } = await waitForExactly(
      pipeline,
      (ns) => ns.db === 'shop' && ns.coll === 'orders',
    );
    expect(comparison).toMatchObject({
      missing: [],
      duplicated: [],
      unexpected: [],
      misplaced: [],
    });
  });
});
