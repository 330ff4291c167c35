import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../src/verify/verify-report.ts';
import { runTributary } from './run-tributary.ts';
import { type LakeLine, VerifyFixture, lakeLines } from './verify-fixture.ts';

/** Ten changes in two collections: inserts, an update, a delete. */
async function load(f: VerifyFixture): Promise<void> {
  const orders = f.collection('orders');
  await orders.insertMany([1, 2, 3, 4, 5, 6].map((n) => ({ _id: n, total: n * 10 })));
  await orders.updateOne({ _id: 2 }, { $set: { total: 25 } });
  await orders.deleteOne({ _id: 3 });
  await f.collection('users').insertMany([
    { _id: 'a', name: 'Ann' },
    { _id: 'b', name: 'Bo' },
  ]);
}

async function verify(f: VerifyFixture, ...args: string[]) {
  const run = await runTributary(['verify', '--json', ...args], f.env(false));
  return { ...run, report: run.json<VerifyReport>() };
}

/** The lake's lines of one file, in order, and the file. */
async function fileWith(f: VerifyFixture, lines: number, coll = 'orders') {
  const all = await lakeLines(f);
  const path = [...new Set(all.map((l) => l.path))].find(
    (p) => p.startsWith(`shop/${coll}/`) && all.filter((l) => l.path === p).length === lines,
  );
  if (!path) throw new Error(`no ${coll} file of ${lines} lines`);
  return { path, lines: all.filter((l) => l.path === path) as [LakeLine, ...LakeLine[]] };
}

describe('tributary verify, reading the lake alone', () => {
  let f: VerifyFixture;
  beforeEach(async () => {
    f = await VerifyFixture.start({ rollEvery: 3 });
    await load(f);
    await f.capture();
  });
  afterEach(async () => f?.close());

  it('finds nothing wrong with a lake written from the source’s changes, and reads every line', async () => {
    const { code, report } = await verify(f);
    expect(code).toBe(0);
    // The emulator's oplog is the independent record of what the lake should hold.
    const oplog = f.mongo.oplogEntries().filter((e) => e.ns.db === 'shop');
    const byNamespace = (ns: string) =>
      oplog.filter((e) => `${e.ns.db}.${e.ns.coll}` === ns).length;
    expect(report).toMatchObject({ clean: true, problems: 0, findings: [], inFlight: [] });
    expect(report.lake.lines).toBe(oplog.length);
    expect(report.namespaces.map((r) => [r.namespace, r.lines])).toEqual([
      ['shop.orders', byNamespace('shop.orders')],
      ['shop.users', byNamespace('shop.users')],
    ]);
    expect(report.source).toBeUndefined();

    const text = await runTributary(['verify'], f.env(false));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('No problems found.');
    expect(text.stdout).toContain('Source: not compared (set MONGODB_URI');
    expect(text.stderr).toContain(`${oplog.length} lines`);
  });

  it('catches a duplicated line as a duplicate, naming both places, and not also as disorder', async () => {
    const { path, lines } = await fileWith(f, 3);
    await f.rewrite(path, [...lines.map((l) => l.text), lines[0].text]);
    const { code, report } = await verify(f);
    expect(code).toBe(1);
    expect(report.findings).toEqual([
      {
        check: 'duplicate',
        namespace: 'shop.orders',
        message: `${path}:4: key ${lines[0].key} also at ${path}:1`,
      },
    ]);
    expect(report.total).toMatchObject({ duplicate: 1, order: 0 });

    const text = await runTributary(['verify'], f.env(false));
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('Duplicates (duplicate): 1');
    expect(text.stdout).toContain('1 problem found.');
  });

  it('catches two swapped lines as an order violation where the order breaks', async () => {
    const { path, lines } = await fileWith(f, 3);
    const [a, b, c] = lines.map((l) => l.text);
    await f.rewrite(path, [a ?? '', c ?? '', b ?? '']);
    const { code, report } = await verify(f);
    expect(code).toBe(1);
    expect(report.findings).toEqual([
      {
        check: 'order',
        namespace: 'shop.orders',
        message: `${path}:3: key ${lines[1]?.key} does not follow ${lines[2]?.key}`,
      },
    ]);
    expect(report.total).toMatchObject({ order: 1, duplicate: 0 });
  });

  it('names a line that does not parse by file and line', async () => {
    const { path, lines } = await fileWith(f, 3);
    await f.rewrite(path, [
      lines[0].text,
      '{"operationType": "insert", "_id": ',
      lines[2]?.text ?? '',
    ]);
    const { code, report } = await verify(f);
    expect(code).toBe(1);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ check: 'unparseable', namespace: 'shop.orders' });
    expect(report.findings[0]?.message).toMatch(new RegExp(`^${path}:2: not a Tributary line`));
    expect(report.lake.lines).toBe(f.mongo.oplogEntries().length - 1);
  });

  it('catches lines in a directory their event time does not give', async () => {
    const { path, lines } = await fileWith(f, 3);
    const moved = path.replace(
      /hour=(\d\d)/,
      (_, h: string) => `hour=${String((Number(h) + 1) % 24).padStart(2, '0')}`,
    );
    await mkdir(join(f.dir, dirname(moved)), { recursive: true });
    await rename(join(f.dir, path), join(f.dir, moved));
    const { code, report } = await verify(f);
    expect(code).toBe(1);
    expect(report.total).toMatchObject({ misplaced: 3, order: 0, duplicate: 0 });
    expect(report.findings.map((x) => x.message)).toEqual(
      lines.map((l) => `${moved}:${l.line}: belongs in ${dirname(path)}`),
    );
  });

  it('takes a torn last line of a file a checkpoint lists as open for one in flight, and of a finished file for damage', async () => {
    const partial = '{"_id": {"_data": "82';
    const openPaths = new Set([0, 1, 2, 3].flatMap((p) => f.openFiles(p)).map((file) => file.path));
    const openFile = [...openPaths].find((p) => p.startsWith('shop/orders/')) as string;
    const finished = (await f.dataFiles()).find(
      (p) => p.startsWith('shop/orders/') && !openPaths.has(p),
    ) as string;
    await f.rewrite(openFile, [...(await f.linesOf(openFile)), partial], false);
    const inFlight = await verify(f);
    expect(inFlight.code).toBe(0);
    expect(inFlight.report.lake.linesInFlight).toBe(1);
    expect(inFlight.report.inFlight).toEqual([
      {
        kind: 'line',
        namespace: 'total',
        message: '1 last line of files still being written (no newline yet)',
      },
    ]);

    await f.rewrite(finished, [...(await f.linesOf(finished)), partial], false);
    const damaged = await verify(f);
    expect(damaged.code).toBe(1);
    expect(damaged.report.findings).toEqual([
      {
        check: 'file',
        namespace: 'shop.orders',
        message: `${finished}: last line is not terminated`,
      },
    ]);
  });

  it('accepts replay files, and counts a key in both a regular and a replay file as a duplicate', async () => {
    const { path, lines } = await fileWith(f, 3);
    const [first, second, third] = lines;
    const replay = path.replace(/part-(\d{4})-.*$/, `part-$1-replay-${second?.key}.jsonl`);
    await f.rewrite(path, [first.text]);
    await f.rewrite(replay, [second?.text ?? '', third?.text ?? '']);
    const moved = await verify(f);
    expect(moved.code).toBe(0);
    expect(moved.report.lake.lines).toBe(f.mongo.oplogEntries().length);

    await f.rewrite(replay, [second?.text ?? '', third?.text ?? '', first.text]);
    const doubled = await verify(f);
    expect(doubled.code).toBe(1);
    expect(doubled.report.findings).toEqual([
      {
        check: 'duplicate',
        namespace: 'shop.orders',
        message: `${replay}:3: key ${first.key} also at ${path}:1`,
      },
    ]);
  });

  it('reads only the collection asked for with --namespace', async () => {
    const { path, lines } = await fileWith(f, 2, 'users');
    await f.rewrite(path, [lines[0].text, 'not json']);
    const orders = await verify(f, '--namespace', 'shop.orders');
    expect(orders.code).toBe(0);
    expect(orders.report.namespaces.map((r) => r.namespace)).toEqual(['shop.orders']);
    const users = await verify(f, '--namespace', 'shop.users');
    expect(users.code).toBe(1);
    expect(users.report.findings.map((x) => [x.check, x.message.split(': ')[0]])).toEqual([
      ['unparseable', `${path}:2`],
    ]);
  });

  it('refuses conflicting or malformed options before reading anything', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--source'], f.env(false), /--source compares the lake with MongoDB: set MONGODB_URI/],
      [['--since', '2026-01-01T00:00:00Z'], f.env(false), /set MONGODB_URI/],
      [['--since', '2026-01-01T00:00:00Z', '--resume-token', '82'], f.env(true), /not both/],
      [['--since', 'yesterday'], f.env(true), /not an ISO 8601 time/],
      [['--resume-token', 'abc'], f.env(true), /not a change stream resume token/],
      // Read as `resume-point set --token` reads one: the whole _data must be hex.
      [
        ['--resume-token', '{"_data":"82691FD5D000000003zz"}'],
        f.env(true),
        /--resume-token \{"_data":"82691FD5D000000003zz"\} is not a change stream resume token/,
      ],
      [
        ['--resume-token', '{"_data": '],
        f.env(true),
        /--resume-token is not a resume token's _data/,
      ],
      [['--namespace', 'orders'], f.env(false), /give it as db\.coll/],
      [['extra'], f.env(false), /takes 0 arguments/],
    ];
    for (const [args, env, message] of cases) {
      const run = await runTributary(['verify', ...args], env);
      expect([args, run.code]).toEqual([args, 64]);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    }
  });
});
