import { compareWithSource } from '@tributary/lake';
import { afterEach, expect, it } from 'vitest';
import { runMixedLoad } from '../src/mixed-load.ts';
import { EXACT } from '../src/exactly-once.ts';
import { Pipeline, linesByToken } from '../src/pipeline.ts';
import { describeOnTransports, runsOnce } from '../src/transports.ts';

/**
 * Waits until the lake holds every source event `wanted` keeps, then a quiet
 * spell more (so late duplicates are counted), and returns the comparison
 * with those events only — and where each event landed, against the oplog.
 */
async function waitForExactly(
  pipeline: Pipeline,
  wanted: (ns: { db: string; coll?: string }) => boolean,
) {
  const compare = async () => {
    const tokens = pipeline.mongo
      .oplogEntries()
      .filter((r) => wanted(r.ns))
      .map((r) => r.resumeToken._data);
    const { inventory, comparison: all } = await pipeline.verify();
    return {
      inventory,
      comparison: { ...compareWithSource(inventory, tokens), misplaced: all.misplaced },
    };
  };
  const started = Date.now();
  for (;;) {
    const result = await compare();
    if (result.comparison.missing.length === 0) break;
    if (Date.now() - started > 60_000) return result;
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 3_000));
  return compare();
}

describeOnTransports('what capture watches', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  // What capture watches is decided between MongoDB and capture: once, whatever the queue.
  it.runIf(runsOnce(transport))(
    'watches one collection, with pre-images of updates, replaces and deletes',
    async () => {
      pipeline = await Pipeline.start({
        transport,
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
      expect(comparison).toMatchObject(EXACT);
      expect(inventory.problems).toEqual([]);
      const lines = [...(await linesByToken(await pipeline.lake())).values()];
      const changedBefore = lines.filter((l) =>
        ['update', 'replace', 'delete'].includes(l.operationType as string),
      );
      expect(changedBefore.length).toBeGreaterThan(0);
      expect(changedBefore.every((l) => l.fullDocumentBeforeChange !== undefined)).toBe(true);
    },
  );

  it.runIf(runsOnce(transport))('watches one database', async () => {
    pipeline = await Pipeline.start({
      transport,
      lake: 'local',
      env: { TRIBUTARY_CAPTURE_SCOPE: 'database', TRIBUTARY_CAPTURE_DATABASE: 'crm' },
    });
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    await runMixedLoad(pipeline.client, { rounds: 3 });
    const { comparison } = await waitForExactly(pipeline, (ns) => ns.db === 'crm');
    expect(comparison).toMatchObject(EXACT);
  });

  it.runIf(runsOnce(transport))(
    'leaves out excluded namespaces when watching the whole deployment',
    async () => {
      pipeline = await Pipeline.start({
        transport,
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
      expect(comparison).toMatchObject(EXACT);
    },
  );
});
