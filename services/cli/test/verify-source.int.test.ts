import { encodeLine, formatOrderingKey, partitionOf, renderPath } from '@tributary/core';
import type { Document, Timestamp } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../src/verify/verify-report.ts';
import { runTributary } from './run-tributary.ts';
import { PARTITIONS, TEMPLATE, VerifyFixture, lakeLines } from './verify-fixture.ts';

/** Changes in two collections: inserts, updates, a replace, deletes. */
async function load(f: VerifyFixture): Promise<void> {
  const orders = f.collection('orders');
  await orders.insertMany([1, 2, 3, 4, 5].map((n) => ({ _id: n, total: n * 10, tags: ['new'] })));
  await orders.updateOne({ _id: 2 }, { $set: { total: 25 }, $push: { tags: 'paid' } });
  await orders.replaceOne({ _id: 4 }, { total: 44, note: 'replaced' });
  await orders.deleteOne({ _id: 3 });
  await f.collection('users').insertMany([
    { _id: 'a', name: 'Ann' },
    { _id: 'b', name: 'Bo' },
  ]);
  await f.collection('users').updateOne({ _id: 'b' }, { $set: { name: 'Bob' } });
}

async function verify(f: VerifyFixture, ...args: string[]) {
  const run = await runTributary(['verify', '--json', ...args], f.env(true));
  return { ...run, report: run.json<VerifyReport>() };
}

const checks = (report: VerifyReport) => report.findings.map((x) => x.check);

describe('tributary verify, against the source', () => {
  let f: VerifyFixture;
  afterEach(async () => f?.close());

  it('finds nothing wrong when the lake holds every change, comparing every document and event', async () => {
    f = await VerifyFixture.start();
    await load(f);
    await f.capture();
    const { code, report } = await verify(f);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      clean: true,
      findings: [],
      inFlight: [],
      markers: [],
      skipped: [],
      notes: [],
    });
    // Independent records: the emulator's oplog, and the collections as the driver reads them.
    const oplog = f.mongo.oplogEntries().filter((e) => e.ns.db === 'shop');
    expect(report.source?.replay).toMatchObject({ status: 'compared', events: oplog.length });
    expect(report.total.events).toEqual({
      matched: oplog.length,
      missing: 0,
      skipped: 0,
      unexpected: 0,
      inFlight: 0,
    });
    const documents =
      (await f.collection('orders').countDocuments()) +
      (await f.collection('users').countDocuments());
    expect(report.total.documents).toMatchObject({
      source: documents,
      matching: documents,
      missing: 0,
      extra: 0,
      differing: 0,
      untracked: 0,
    });
  });

  it('catches a deleted line event by event, and the document it leaves behind', async () => {
    f = await VerifyFixture.start();
    await load(f);
    await f.capture();
    const lines = await lakeLines(f);
    const update = lines.find((l) => l.operationType === 'update' && l.id === 'b');
    if (!update) throw new Error('no update of user b in the lake');
    const rest = lines.filter((l) => l.path === update.path && l !== update).map((l) => l.text);
    await f.rewrite(update.path, rest);

    const { code, report } = await verify(f);
    expect(code).toBe(1);
    expect(checks(report).sort()).toEqual(['differing-document', 'missing-event']);
    const missing = report.findings.find((x) => x.check === 'missing-event');
    expect(missing?.namespace).toBe('shop.users');
    expect(missing?.message).toContain(`(token ${update.token})`);
    expect(missing?.message).toContain('update of shop.users _id "b"');
    expect(report.total).toMatchObject({ duplicate: 0, order: 0, unparseable: 0 });
    expect(report.total.events).toMatchObject({ missing: 1, unexpected: 0 });
  });

  it('catches a document whose latest line was changed in the lake', async () => {
    f = await VerifyFixture.start();
    await load(f);
    await f.capture();
    const lines = await lakeLines(f);
    const replace = lines.find((l) => l.operationType === 'replace');
    if (!replace) throw new Error('no replace in the lake');
    const edited = replace.text.replace('"note":"replaced"', '"note":"tampered"');
    expect(edited).not.toBe(replace.text);
    await f.rewrite(
      replace.path,
      lines.filter((l) => l.path === replace.path).map((l) => (l === replace ? edited : l.text)),
    );

    const { code, report } = await verify(f);
    expect(code).toBe(1);
    expect(report.findings).toEqual([
      {
        check: 'differing-document',
        namespace: 'shop.orders',
        message: `_id 4 differs from the source (latest line ${replace.path}:${replace.line})`,
      },
    ]);
    // The event itself is still there: only the latest-state comparison sees it.
    expect(report.total.events).toMatchObject({ missing: 0, unexpected: 0 });
  });

  it('takes changes the checkpoints do not cover yet for in flight, and the same changes covered for lost', async () => {
    f = await VerifyFixture.start();
    await load(f);
    await f.capture();
    await f.collection('orders').updateOne({ _id: 1 }, { $set: { total: 11 } });
    await f.collection('users').insertOne({ _id: 'c', name: 'Cy' });

    const pending = await verify(f);
    expect(pending.code).toBe(0);
    expect(pending.report.total.documents).toMatchObject({ inFlight: 2, differing: 0, missing: 0 });
    expect(pending.report.total.events).toMatchObject({ inFlight: 2, missing: 0 });
    expect(pending.report.inFlight.map((x) => [x.kind, x.namespace])).toEqual([
      ['event', 'shop.orders'],
      ['event', 'shop.users'],
      ['document', 'shop.orders'],
      ['document', 'shop.users'],
    ]);

    // Checkpoints claiming those changes (as if written, then lost): now they are missing.
    const oplog = f.mongo.oplogEntries();
    for (const record of oplog.slice(-2)) {
      const partition = partitionOf(record, PARTITIONS, 'namespace');
      await f.storeCheckpoint(partition, {
        key: formatOrderingKey({ t: record.clusterTime.t, i: record.clusterTime.i, n: 0 }),
        token: record.resumeToken,
      });
    }
    const lost = await verify(f);
    expect(lost.code).toBe(1);
    expect(lost.report.total.documents).toMatchObject({ inFlight: 0, differing: 1, missing: 1 });
    expect(lost.report.total.events).toMatchObject({ inFlight: 0, missing: 2 });
    expect(checks(lost.report).sort()).toEqual([
      'differing-document',
      'missing-document',
      'missing-event',
      'missing-event',
    ]);
  });

  it('catches a document only the lake still has when its delete is lost', async () => {
    f = await VerifyFixture.start();
    await load(f);
    await f.capture();
    const lines = await lakeLines(f);
    const deleted = lines.find((l) => l.operationType === 'delete');
    if (!deleted) throw new Error('no delete in the lake');
    await f.rewrite(
      deleted.path,
      lines.filter((l) => l.path === deleted.path && l !== deleted).map((l) => l.text),
    );
    const { code, report } = await verify(f);
    expect(code).toBe(1);
    expect(checks(report).sort()).toEqual(['extra-document', 'missing-event']);
    expect(report.findings.find((x) => x.check === 'extra-document')?.message).toMatch(
      /^_id 3 in the lake, not in the source/,
    );
  });

  it('matches a drop event by event, and takes the invalidate a collection-scoped capture adds for none of the source’s events', async () => {
    f = await VerifyFixture.start();
    await load(f);
    await f.capture();
    const scoped = f.collection('users').watch([], {
      startAtOperationTime: (await f.client.db('admin').command({ ping: 1 })).operationTime,
    });
    await f.collection('users').drop();
    await f.capture();
    let invalidate: Document | null = null;
    while (!invalidate) {
      const event = (await scoped.tryNext()) as Document | null;
      if (event?.operationType === 'invalidate') invalidate = event;
    }
    await scoped.close();
    // Written as a writer would: no namespace, so under the deployment's directory.
    const at = invalidate.clusterTime as Timestamp;
    const key = formatOrderingKey({ t: at.high, i: at.low, n: 1 });
    const partition = partitionOf(invalidate, PARTITIONS, 'namespace');
    const dir = renderPath(TEMPLATE, { eventTime: new Date(at.high * 1000) });
    await f.rewrite(`${dir}/part-${String(partition).padStart(4, '0')}-${key}.jsonl`, [
      encodeLine(
        { key, capturedAt: new Date(), event: invalidate },
        partition,
        'relaxed',
      ).trimEnd(),
    ]);

    const { code, report } = await verify(f);
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    const users = report.namespaces.find((r) => r.namespace === 'shop.users');
    expect(users?.documents).toMatchObject({ source: 0, extra: 0, missing: 0 });
    expect(report.total.events).toMatchObject({
      matched: f.mongo.oplogEntries().filter((e) => e.ns.db === 'shop').length,
      unexpected: 0,
    });
  });

  it('ends with 69 and the reason when MongoDB refuses a read, and reports nothing', async () => {
    f = await VerifyFixture.start();
    await load(f);
    await f.capture();
    await f.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['find'], errorCode: 13 },
    });
    const run = await runTributary(['verify'], f.env(true));
    expect(run.code).toBe(69);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /MongoDB failed while the lake was compared with it: .*readAnyDatabase/,
    );
    expect(run.stderr).not.toContain(f.mongo.uri);
    await f.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
  });

  it('counts documents unchanged since before capture began as untracked, and compares no event before it', async () => {
    f = await VerifyFixture.start({
      beforeCapture: async (client) => {
        const orders = client.db('shop').collection<{ _id: number }>('orders');
        await orders.insertOne({ _id: 100 });
        await orders.insertOne({ _id: 101 });
      },
    });
    await load(f);
    await f.capture();
    // Capture's origin is the operation time after them: the later insert may share it
    // (startAtOperationTime is inclusive) and be captured; the earlier one never is.
    const captured = new Set((await lakeLines(f)).map((l) => l.id));
    const untracked = [100, 101].filter((id) => !captured.has(id)).length;
    expect(untracked).toBeGreaterThan(0);
    const oplog = f.mongo.oplogEntries().filter((e) => e.ns.db === 'shop');
    const early = new Date((oplog[0]?.clusterTime.t ?? 0) * 1000 - 3_600_000).toISOString();

    const { code, report } = await verify(f, '--since', early);
    expect(code).toBe(0);
    expect(report.total.documents).toMatchObject({ untracked, missing: 0 });
    expect(report.total.events).toMatchObject({ matched: oplog.length - untracked, missing: 0 });
    expect(report.notes.join('\n')).toMatch(/of the source ha(s|ve) no event in the lake/);
    expect(report.notes.join('\n')).toMatch(/Capture began at .*, after the --since given/);
  });

  it('compares only the events after --since or --resume-token', async () => {
    f = await VerifyFixture.start();
    await load(f);
    await f.capture();
    const oplog = f.mongo.oplogEntries().filter((e) => e.ns.db === 'shop');
    const pivot = oplog[3];
    if (!pivot) throw new Error('short oplog');
    const after = oplog.filter(
      (e) =>
        e.clusterTime.t > pivot.clusterTime.t ||
        (e.clusterTime.t === pivot.clusterTime.t && e.clusterTime.i > pivot.clusterTime.i),
    ).length;
    const byToken = await verify(f, '--resume-token', JSON.stringify(pivot.resumeToken));
    expect(byToken.code).toBe(0);
    expect(byToken.report.source?.replay).toMatchObject({ status: 'compared', after: true });
    expect(byToken.report.total.events?.matched).toBe(after);

    const since = new Date(pivot.clusterTime.t * 1000 + 1000).toISOString();
    const bySince = await verify(f, '--since', since);
    expect(bySince.code).toBe(0);
    expect(bySince.report.total.events?.matched).toBe(
      oplog.filter((e) => e.clusterTime.t >= pivot.clusterTime.t + 1).length,
    );
  });

  it('says when the history is gone, still compares documents, and tells changes in flight from the checkpoints on', async () => {
    f = await VerifyFixture.start({ oplogMaxEntries: 6 });
    const orders = f.collection('orders');
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
      await orders.insertOne({ _id: n, total: n });
      await f.capture();
    }
    await orders.updateOne({ _id: 8 }, { $set: { total: 80 } });
    await f.capture();
    const lines = await lakeLines(f);
    const first = lines[0];
    if (!first) throw new Error('empty lake');
    await f.rewrite(
      first.path,
      lines
        .filter((l) => l.path === first.path)
        .map((l) => (l === first ? l.text.replace('"total":1', '"total":-1') : l.text)),
    );
    // Not captured: on its way. The oplog still reaches back to the checkpoint, so it is seen.
    await orders.updateOne({ _id: 5 }, { $set: { total: 50 } });
    expect(f.mongo.oplogEntries()[0]?.documentKey).not.toEqual({ _id: 1 });

    const { code, report } = await verify(f);
    expect(code).toBe(1);
    expect(report.source?.replay.status).toBe('history-lost');
    expect(report.notes.join('\n')).toMatch(/no longer has the change stream history/);
    expect(report.total.events).toBeUndefined();
    expect(report.total.documents).toMatchObject({
      source: 8,
      matching: 6,
      differing: 1,
      inFlight: 1,
    });
    expect(report.findings.map((x) => x.message)).toEqual([
      `_id 1 differs from the source (latest line ${first.path}:${first.line})`,
    ]);
    expect(report.inFlight.map((x) => x.message)).toEqual([
      expect.stringMatching(/^_id 5 differs from the source \(latest line .*\)$/),
    ]);
  });

  it('takes a difference for in flight, and says so, when the history does not even reach the checkpoints', async () => {
    f = await VerifyFixture.start({ oplogMaxEntries: 6 });
    const orders = f.collection('orders');
    await orders.insertMany([1, 2, 3].map((n) => ({ _id: n, total: n })));
    await f.capture();
    const lines = await lakeLines(f);
    const first = lines[0];
    if (!first) throw new Error('empty lake');
    await f.rewrite(
      first.path,
      lines
        .filter((l) => l.path === first.path)
        .map((l) => (l === first ? l.text.replace('"total":1', '"total":-1') : l.text)),
    );
    // Changes elsewhere roll the oplog past every event the lake and the checkpoints know.
    const noise = f.client.db('other').collection<{ _id: number }>('noise');
    for (const n of [1, 2, 3, 4, 5, 6, 7]) await noise.insertOne({ _id: n });
    expect(f.mongo.oplogEntries().every((e) => e.ns.db === 'other')).toBe(true);

    const { code, report } = await verify(f);
    expect(code).toBe(0);
    expect(report.total.documents).toMatchObject({ matching: 2, differing: 0, inFlight: 1 });
    expect(report.inFlight.map((x) => x.message)).toEqual([
      `_id 1 differs from the source (latest line ${first.path}:${first.line}); taken as in flight, the history cannot tell`,
    ]);
    expect(report.notes.join('\n')).toMatch(
      /1 document that differ was taken as in flight .* no longer has the history back to its partition's checkpoint/,
    );
  });
});
