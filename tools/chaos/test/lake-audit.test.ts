import { encodeLine, formatOrderingKey, partitionOf, renderPath } from '@tributary/core';
import type { OplogRecord } from '@tributary/emulator-mongodb';
import { type Lake, createMemoryLake } from '@tributary/lake';
import { Timestamp } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { auditLake } from '../../../e2e/src/chaos/lake-audit.ts';
import { PATH_TEMPLATE } from '../../../e2e/src/pipeline.ts';

const T = 1_800_000_000;
const NS = { db: 'shop', coll: 'orders' };
const PARTITION = partitionOf({ ns: NS }, 8, 'namespace');
const DIR = renderPath(PATH_TEMPLATE, { ...NS, eventTime: new Date(T * 1000) });

/** Source events a…e, one second apart, in oplog order. */
const SOURCE: OplogRecord[] = ['a', 'b', 'c', 'd', 'e'].map((token, i) => ({
  resumeToken: { _data: token },
  clusterTime: new Timestamp({ t: T, i: i + 1 }),
  wallTime: new Date(T * 1000),
  txnOpIndex: 0,
  operationType: 'insert',
  ns: NS,
  documentKey: { _id: i },
}));

function line(token: string): string {
  const index = SOURCE.findIndex((r) => r.resumeToken._data === token);
  return encodeLine(
    {
      key: formatOrderingKey({ t: T, i: index + 1, n: 0 }),
      capturedAt: new Date(T * 1000),
      event: {
        _id: { _data: token },
        operationType: 'insert',
        ns: NS,
        documentKey: { _id: index },
      },
    },
    PARTITION,
    'relaxed',
  );
}

async function writeFile(lake: Lake, tokens: string[]): Promise<void> {
  const name = `part-${String(PARTITION).padStart(4, '0')}-${formatOrderingKey({ t: T, i: SOURCE.findIndex((r) => r.resumeToken._data === tokens[0]) + 1, n: 0 })}.jsonl`;
  const path = `${DIR}/${name}`;
  const created = await lake.create(path);
  await lake.append(path, 0, Buffer.from(tokens.map(line).join('')), {
    ifVersion: created.version,
  });
}

describe('the chaos lake audit', () => {
  let lake: Lake | undefined;
  afterEach(async () => {
    await lake?.close();
    lake = undefined;
  });

  it('finds nothing wrong with a lake that holds every source event once, in order', async () => {
    lake = createMemoryLake();
    await writeFile(lake, ['a', 'b']);
    await writeFile(lake, ['c', 'd', 'e']);
    const audit = await auditLake(lake, SOURCE, 8);
    expect(audit).toMatchObject({
      missing: [],
      duplicated: [],
      unexpected: [],
      outOfOrder: [],
      misplaced: [],
      problems: [],
    });
  });

  it('tells a missing event, a repeated one and one out of order across files apart', async () => {
    lake = createMemoryLake();
    // The first file runs a, c; the second starts at b (before c) and repeats a; d never arrives.
    await writeFile(lake, ['a', 'c']);
    await writeFile(lake, ['b', 'a', 'e']);
    const audit = await auditLake(lake, SOURCE, 8);
    expect(audit.missing).toEqual(['d']);
    expect(audit.missingByPartition).toEqual(new Map([[PARTITION, 1]]));
    expect(audit.duplicated).toEqual(['a']);
    expect(audit.outOfOrder).toHaveLength(1);
    expect(audit.outOfOrder[0]).toMatch(/part-\d{4}-\d{10}-0000000002-\d{10}\.jsonl:1: /);
    expect(audit.unexpected).toEqual([]);
  });
});
