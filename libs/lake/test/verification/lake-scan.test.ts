import { encodeLine, formatOrderingKey } from '@tributary/core';
import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { type Lake, createMemoryLake } from '../../src/index.ts';
import { committedLines } from '../../src/verification/committed-lines.ts';
import { parseDataFileName } from '../../src/verification/data-file-name.ts';
import { scanLake } from '../../src/verification/lake-scan.ts';
import { namespaceOfDirectory } from '../../src/verification/namespace-names.ts';

const TEMPLATE = '{db}/{coll}/hour={HH}';
const T = Date.UTC(2026, 10, 21, 13) / 1000;
const DIR = 'shop/orders/hour=13';

function line(i: number, options: { partition?: number; coll?: string; name?: string } = {}) {
  const key = formatOrderingKey({ t: T, i, n: 0 });
  const event = {
    _id: { _data: `tok${i}` },
    operationType: 'insert',
    clusterTime: new Timestamp({ t: T, i }),
    ns: { db: 'shop', coll: options.coll ?? 'orders' },
    fullDocument: { _id: i, name: options.name ?? 'plain' },
  };
  return {
    key,
    text: encodeLine({ key, capturedAt: new Date(0), event }, options.partition ?? 1, 'relaxed'),
  };
}

async function lakeWith(files: Record<string, string>): Promise<Lake> {
  const lake = createMemoryLake();
  for (const [path, content] of Object.entries(files)) {
    const created = await lake.create(path);
    if (content.length > 0)
      await lake.append(path, 0, Buffer.from(content), { ifVersion: created.version });
  }
  return lake;
}

const messages = (scan: Awaited<ReturnType<typeof scanLake>>) =>
  scan.findings.map((f) => `${f.check} ${f.message}`);

describe('scanning the lake', () => {
  it('reads replay files beside regular ones: their keys lie behind the partition, which is no disorder', async () => {
    const [a, b, c, d] = [line(1), line(2), line(3), line(4)];
    const lake = await lakeWith({
      [`${DIR}/part-0001-${c.key}.jsonl`]: c.text + d.text,
      [`${DIR}/part-0001-replay-${a.key}.jsonl`]: a.text + b.text,
    });
    const scan = await scanLake(lake, { pathTemplate: TEMPLATE });
    expect(messages(scan)).toEqual([]);
    expect(scan.lines).toBe(4);
    expect(scan.files.map((f) => f.replay)).toEqual([false, true]);
  });

  it('counts a key in both a regular and a replay file as a duplicate, and keeps each replay file in order', async () => {
    const [a, b, c] = [line(1), line(2), line(3)];
    const lake = await lakeWith({
      [`${DIR}/part-0001-${a.key}.jsonl`]: a.text + b.text + c.text,
      [`${DIR}/part-0001-replay-${b.key}.jsonl`]: c.text + b.text,
    });
    const scan = await scanLake(lake, { pathTemplate: TEMPLATE });
    const replay = `${DIR}/part-0001-replay-${b.key}.jsonl`;
    const regular = `${DIR}/part-0001-${a.key}.jsonl`;
    expect(messages(scan)).toEqual([
      `file ${replay}: named after ${b.key} but starts at ${c.key}`,
      `duplicate ${replay}:2: key ${b.key} also at ${regular}:2`,
      `duplicate ${replay}:1: key ${c.key} also at ${regular}:3`,
    ]);
    expect(scan.tallies.get('shop.orders')).toMatchObject({ duplicate: 2, order: 0, lines: 5 });
  });

  it('takes a torn last line for one in flight only in a file a checkpoint lists as open', async () => {
    const [a, b] = [line(1), line(2)];
    const torn = a.text + b.text.slice(0, 20);
    const path = `${DIR}/part-0001-${a.key}.jsonl`;
    const open = await scanLake(await lakeWith({ [path]: torn }), {
      pathTemplate: TEMPLATE,
      openFiles: new Set([path]),
    });
    expect(messages(open)).toEqual([]);
    expect(open.inFlight).toBe(1);
    expect(open.lines).toBe(1);
    const closed = await scanLake(await lakeWith({ [path]: torn }), { pathTemplate: TEMPLATE });
    expect(messages(closed)).toEqual([`file ${path}: last line is not terminated`]);
  });

  it('names each line that does not parse, or lacks its metadata, by file and line, under the directory’s namespace', async () => {
    const [a, b] = [line(1), line(2)];
    const path = `${DIR}/part-0001-${a.key}.jsonl`;
    const lake = await lakeWith({
      [path]: `${a.text}{"not json\n{"operationType":"insert"}\n${b.text}`,
    });
    const scan = await scanLake(lake, { pathTemplate: TEMPLATE });
    expect(scan.findings.map((f) => [f.check, f.namespace, f.line])).toEqual([
      ['unparseable', 'shop.orders', 2],
      ['unparseable', 'shop.orders', 3],
    ]);
    expect(scan.lines).toBe(2);
  });

  it('reads the same lines whatever the read size, characters split across reads included', async () => {
    const lines = [line(1, { name: 'Zoë ☕ 𝄞' }), line(2, { name: 'ångström' }), line(3)];
    const path = `${DIR}/part-0001-${lines[0]?.key}.jsonl`;
    const lake = await lakeWith({ [path]: lines.map((l) => l.text).join('') });
    const length = (await lake.stat(path))?.length ?? 0;
    const whole: string[] = [];
    for await (const l of committedLines(lake, path, length)) whole.push(l.text);
    for (const chunk of [1, 2, 3, 7, 64]) {
      const read: string[] = [];
      for await (const l of committedLines(lake, path, length, chunk)) read.push(l.text);
      expect(read).toEqual(whole);
    }
    expect(whole).toEqual(lines.map((l) => l.text.slice(0, -1)));
  });

  it('passes over other namespaces when asked to, findings included', async () => {
    const [a, b] = [line(1), line(2, { coll: 'users' })];
    const lake = await lakeWith({
      [`${DIR}/part-0001-${a.key}.jsonl`]: a.text,
      [`shop/users/hour=13/part-0001-${b.key}.jsonl`]: b.text + b.text,
    });
    const seen: string[] = [];
    const scan = await scanLake(lake, {
      pathTemplate: TEMPLATE,
      includeNamespace: (ns) => ns === 'shop.orders',
      onLine: (l) => seen.push(`${l.namespace} ${l.line}`),
    });
    expect(seen).toEqual(['shop.orders 1']);
    expect(messages(scan)).toEqual([]);
  });

  it('reads data file names and the namespaces of directories', () => {
    expect(parseDataFileName('part-0007-0000000001-0000000002-0000000003.jsonl')).toEqual({
      partition: 7,
      firstKey: '0000000001-0000000002-0000000003',
      replay: false,
    });
    expect(parseDataFileName('part-0007-replay-0000000001-0000000002-0000000003.jsonl')).toEqual({
      partition: 7,
      firstKey: '0000000001-0000000002-0000000003',
      replay: true,
    });
    expect(parseDataFileName('part-7-0000000001-0000000002-0000000003.jsonl')).toBeUndefined();
    expect(namespaceOfDirectory(TEMPLATE, 'shop/a%2Fb/hour=01')).toBe('shop.a/b');
    expect(namespaceOfDirectory(TEMPLATE, 'shop/~database/hour=01')).toBe('shop');
    expect(namespaceOfDirectory(TEMPLATE, '~cluster/~database/hour=01')).toBe('');
    expect(namespaceOfDirectory(TEMPLATE, 'shop/orders')).toBeUndefined();
  });
});
