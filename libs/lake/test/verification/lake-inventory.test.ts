import { encodeLine, formatOrderingKey } from '@tributary/core';
import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { compareWithSource, createMemoryLake, inventoryLake } from '../../src/index.ts';

const TEMPLATE = '{db}/{coll}/hour={HH}';
const T = Date.UTC(2026, 10, 21, 13) / 1000;

function line(i: number, partition = 1, coll = 'orders', n = 0) {
  const key = formatOrderingKey({ t: T, i, n });
  const event = {
    _id: { _data: `tok${i}${n > 0 ? `.${n}` : ''}` },
    operationType: 'insert',
    clusterTime: new Timestamp({ t: T, i }),
    ns: { db: 'shop', coll },
  };
  return { key, text: encodeLine({ key, capturedAt: new Date(), event }, partition, 'relaxed') };
}

async function lakeWith(files: Record<string, string>) {
  const lake = createMemoryLake();
  for (const [path, content] of Object.entries(files)) {
    const created = await lake.create(path);
    await lake.append(path, 0, Buffer.from(content), { ifVersion: created.version });
  }
  return lake;
}

describe('the lake inventory', () => {
  it('accepts a well-formed lake and counts every line by token and partition', async () => {
    const [a, b] = [line(1), line(2)];
    const lake = await lakeWith({
      [`shop/orders/hour=13/part-0001-${a.key}.jsonl`]: a.text + b.text,
    });
    const inventory = await inventoryLake(lake, TEMPLATE);
    expect(inventory.problems).toEqual([]);
    expect(inventory.lines).toBe(2);
    expect(inventory.partitions.get(1)).toBe(2);
    expect(compareWithSource(inventory, ['tok1', 'tok2'])).toMatchObject({
      produced: 2,
      inLake: 2,
      missing: [],
      duplicated: [],
    });
  });

  it('reports lines out of order, in the wrong directory or partition, and misnamed files', async () => {
    const [a, b] = [line(1), line(2)];
    const lake = await lakeWith({
      [`shop/orders/hour=13/part-0001-${b.key}.jsonl`]: b.text + a.text,
      [`shop/users/hour=13/part-0002-${a.key}.jsonl`]: a.text,
      'shop/orders/hour=13/notes.txt': 'hello\n',
    });
    const problems = (await inventoryLake(lake, TEMPLATE)).problems.join('\n');
    expect(problems).toMatch(/key .* does not follow/);
    expect(problems).toMatch(/belongs in shop\/orders\/hour=13/);
    expect(problems).toMatch(/partition 1 in a file of partition 2/);
    expect(problems).toMatch(/notes\.txt: not a Tributary file name/);
  });

  it('reports files of one partition and directory whose keys overlap', async () => {
    const [a, b, c, d] = [line(1), line(2), line(3), line(4)];
    const other = line(2, 2, 'orders', 1);
    const lake = await lakeWith({
      [`shop/orders/hour=13/part-0001-${a.key}.jsonl`]: a.text + c.text,
      [`shop/orders/hour=13/part-0001-${b.key}.jsonl`]: b.text + d.text,
      // Another partition in the same directory may interleave freely.
      [`shop/orders/hour=13/part-0002-${other.key}.jsonl`]: other.text,
    });
    const inventory = await inventoryLake(lake, TEMPLATE);
    expect(inventory.problems).toEqual([
      `shop/orders/hour=13/part-0001-${b.key}.jsonl: starts at ${b.key}, before shop/orders/hour=13/part-0001-${a.key}.jsonl ends (${c.key})`,
    ]);
  });

  it('reports a key written twice as a duplicate, not as disorder, and records where each copy landed', async () => {
    const [a, b, c] = [line(1), line(2), line(3)];
    const lake = await lakeWith({
      // The copy right after the original would also break the order; it counts once, as a duplicate.
      [`shop/orders/hour=13/part-0001-${a.key}.jsonl`]: a.text + b.text + b.text + c.text,
      [`shop/orders/hour=13/part-0002-${a.key}.jsonl`]: line(1, 2).text,
    });
    const inventory = await inventoryLake(lake, TEMPLATE);
    const file = (p: number) => `shop/orders/hour=13/part-000${p}-${a.key}.jsonl`;
    expect(inventory.problems).toEqual([
      `${file(2)}:1: key ${a.key} also at ${file(1)}:1`,
      `${file(1)}:3: key ${b.key} also at ${file(1)}:2`,
    ]);
    expect(inventory.directories.get('tok1')).toEqual([
      'shop/orders/hour=13',
      'shop/orders/hour=13',
    ]);
  });

  it('reports missing, duplicated and unexpected events against the source', async () => {
    const [a, b] = [line(1), line(2)];
    const lake = await lakeWith({
      [`shop/orders/hour=13/part-0001-${a.key}.jsonl`]: a.text + b.text,
      [`shop/orders/hour=13/part-0001-${b.key}.jsonl`]: b.text,
    });
    const comparison = compareWithSource(await inventoryLake(lake, TEMPLATE), [
      'tok1',
      'tok2',
      'tok3',
    ]);
    expect(comparison).toMatchObject({
      produced: 3,
      inLake: 3,
      missing: ['tok3'],
      duplicated: ['tok2'],
      unexpected: [],
    });
  });
});
