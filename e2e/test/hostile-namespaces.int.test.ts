import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports, runsOnce } from '../src/transports.ts';

/** Names MongoDB accepts that a path cannot take as they are. */
const NAMESPACES: readonly (readonly [db: string, coll: string])[] = [
  ['shop', 'orders.~old'], // the lake's reserved marker
  ['shop', 'a..b'],
  ['shop', '100% off'],
  ['shop', 'with spaces '],
  ['shop', 'archive.'], // a trailing dot
  ['shop', 'Größe-訂單'],
  ['shop', '~database'], // what events without a collection use
  ['shop', 'c'.repeat(255)], // 255 bytes: fits exactly
  ['shop', '%'.repeat(120)], // 360 bytes once escaped: shortened
  ['訂'.repeat(40), 'orders'], // a 120-byte database name
  ['_tributary', 'checkpoints'], // where Tributary keeps its state
  ['c:drive', 'what?*<>|'], // a drive letter, and what Windows refuses
];

describeOnTransports('hostile namespaces', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  // Paths are the lake's concern; partitions and sessions never carry a name: once, whatever the queue.
  it.runIf(runsOnce(transport)).each(['adls', 'local'] as const)(
    'all land in the %s lake, each in a directory of its own, and read back',
    async (lake) => {
      pipeline = await Pipeline.start({ transport, lake, partitionCount: 4 });
      await pipeline.startCapture();
      const writer = pipeline.startWriter('w1');
      for (const [db, coll] of NAMESPACES)
        await pipeline.client
          .db(db)
          .collection(coll)
          .insertOne({ name: `${db}.${coll}` });

      const verification = await pipeline.waitUntilComplete(60_000);
      expectExactlyOnce(verification);
      expect(writer.output()).not.toMatch(/dead letters|refused/);
      const directoryOf = new Map<string, Set<string>>();
      for (const record of pipeline.mongo.oplogEntries()) {
        const ns = `${record.ns.db}.${record.ns.coll ?? ''}`;
        const dirs = verification.inventory.directories.get(record.resumeToken._data) ?? [];
        for (const dir of dirs)
          (directoryOf.get(ns) ?? directoryOf.set(ns, new Set()).get(ns))?.add(dir);
      }
      expect(directoryOf.size).toBe(NAMESPACES.length);
      const all = [...directoryOf.values()].map((dirs) => [...dirs]);
      expect(all.every((dirs) => dirs.length === 1)).toBe(true);
      const distinct = new Set(all.flat().map((dir) => dir.split('/').slice(0, 2).join('/')));
      expect(distinct.size).toBe(NAMESPACES.length);
      expect(all.flat().some((dir) => dir.startsWith('_tributary/'))).toBe(false);
      for (const dir of all.flat())
        for (const segment of dir.split('/'))
          expect(Buffer.byteLength(segment)).toBeLessThanOrEqual(255);
    },
    90_000,
  );
});
