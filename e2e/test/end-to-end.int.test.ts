import { EJSON } from 'bson';
import { afterEach, expect, it } from 'vitest';
import { runMixedLoad } from '../src/mixed-load.ts';
import { Pipeline, linesByToken } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

describeOnTransports('the pipeline, end to end', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('lands mixed operations on three collections in two databases exactly once, in order, by event time, with BSON types intact', async () => {
    pipeline = await Pipeline.start({
      transport,
      lake: 'adls',
      env: { TRIBUTARY_JSON_FORMAT: 'canonical' },
    });
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    pipeline.startWriter('w2');
    await runMixedLoad(pipeline.client, { rounds: 10 });

    const { inventory, comparison } = await pipeline.waitUntilComplete();
    expect(comparison.produced).toBeGreaterThan(300);
    expect(comparison.missing).toEqual([]);
    expect(comparison.duplicated).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
    // Each line sits where the oplog's own namespace and clusterTime put it.
    expect(comparison.misplaced).toEqual([]);
    expect(inventory.lines).toBe(comparison.produced);
    // Every line parses, keys increase within each file, names and event-time paths are right.
    expect(inventory.problems).toEqual([]);
    const dirs = new Set(inventory.files.map((f) => f.path.split('/').slice(0, 2).join('.')));
    expect([...dirs].sort()).toEqual(['crm.contacts', 'shop.customers', 'shop.orders']);

    // BSON types: each inserted document in the lake equals the oplog's copy exactly.
    const lines = await linesByToken(await pipeline.lake());
    const inserts = pipeline.mongo.oplogEntries().filter((r) => r.operationType === 'insert');
    for (const record of inserts) {
      const line = lines.get(record.resumeToken._data);
      expect(EJSON.stringify(line?.fullDocument, { relaxed: false })).toBe(
        EJSON.stringify(record.fullDocument, { relaxed: false }),
      );
    }
    // Replacements carry the replacing document, updates the oplog's own
    // description of the change, exactly.
    const changes = pipeline.mongo
      .oplogEntries()
      .filter((r) => r.operationType === 'replace' || r.operationType === 'update');
    expect(changes.length).toBeGreaterThan(20);
    for (const record of changes) {
      const line = lines.get(record.resumeToken._data);
      if (record.operationType === 'replace')
        expect(EJSON.stringify(line?.fullDocument, { relaxed: false })).toBe(
          EJSON.stringify(record.fullDocument, { relaxed: false }),
        );
      else
        expect(EJSON.stringify(line?.updateDescription, { relaxed: false })).toBe(
          EJSON.stringify(record.updateDescription, { relaxed: false }),
        );
    }
    // Transactions: their events share a clusterTime and carry lsid and txnNumber.
    const inTxn = [...lines.values()].filter((l) => l.txnNumber !== undefined);
    expect(inTxn.length).toBeGreaterThanOrEqual(6);
    expect(inTxn.every((l) => l.lsid !== undefined)).toBe(true);
  });
});
