import { claimPath, decodeBatch, decodeLine, encodeBatch, encodeClaim } from '@tributary/core';
import { LakeError } from '@tributary/lake';
import { describe, expect, it } from 'vitest';
import {
  T0,
  batchOf,
  changeEvent,
  failingCheckpoints,
  failingOnce,
  failingWhen,
  fixture,
  heartbeatAt,
  keysInLake,
  linesInLake,
} from './support.ts';

const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => changeEvent(from + k));

describe('a partition writer', () => {
  it('counts what it wrote and what the lake already had, per namespace (for the metrics)', async () => {
    const { writer } = fixture();
    const w = writer();
    await w.recover();
    const first = await w.write(batchOf(3, range(0, 3)));
    expect([...first.writtenByNamespace.values()]).toEqual([
      { ns: { 'db.namespace': 'shop', 'db.collection.name': 'orders' }, events: 3 },
    ]);
    expect(first.duplicatesByNamespace.size).toBe(0);
    // The same events again (a redelivery) and two new ones.
    const again = await w.write(batchOf(3, range(0, 5)));
    expect([...again.writtenByNamespace.values()].map((c) => c.events)).toEqual([2]);
    expect([...again.duplicatesByNamespace.values()]).toEqual([
      { ns: { 'db.namespace': 'shop', 'db.collection.name': 'orders' }, events: 3 },
    ]);
  });

  it('writes a batch as JSONL in the event-time path, named by its first key, then checkpoints it', async () => {
    const { lake, checkpoints, writer } = fixture();
    const w = writer();
    await w.recover();
    const events = range(0, 3);
    const outcome = await w.write(batchOf(3, events));
    expect(outcome).toMatchObject({ written: 3, dropped: 0, filesOpened: 1, refused: [] });
    const files = await linesInLake(lake);
    expect([...files.keys()]).toEqual([
      `shop/orders/year=2026/month=11/day=21/hour=13/part-0003-${events[0]?.key}.jsonl`,
    ]);
    const lines = [...files.values()][0] ?? [];
    expect(lines.map((l) => Number(decodeLine(l).documentKey._id))).toEqual([0, 1, 2]);
    expect(decodeLine(lines[0] ?? '')._tributary).toMatchObject({
      key: events[0]?.key,
      partition: 3,
    });
    const stored = await checkpoints.readPartition(3);
    expect(stored?.value.position?.key).toBe(events[2]?.key);
    expect(stored?.value.openFiles.map((f) => f.length)).toEqual([
      Buffer.byteLength(lines.join('\n') + '\n'),
    ]);
  });

  it('drops a redelivered batch it already wrote, without another checkpoint write', async () => {
    const { lake, checkpoints, writer } = fixture();
    const w = writer();
    await w.recover();
    const batch = batchOf(3, range(0, 4));
    await w.write(batch);
    const version = (await checkpoints.readPartition(3))?.version;
    // As the queue delivers it again: a copy, decoded anew.
    const copy = decodeBatch(encodeBatch(batch), 8);
    expect(await w.write(copy)).toMatchObject({ written: 0, dropped: 4 });
    expect(await keysInLake(lake)).toEqual(batch.events.map((e) => e.key));
    expect((await checkpoints.readPartition(3))?.version).toBe(version);
  });

  it('writes nothing twice when the owner dies after appending but before its checkpoint', async () => {
    const { lake, checkpoints, writer } = fixture();
    const first = writer();
    await first.recover();
    await first.write(batchOf(3, range(0, 2)));
    // The second batch reaches the lake, then its checkpoint write fails: the owner "dies".
    // (Its first checkpoint write is the claim it makes when it takes the partition over.)
    const dying = writer({ checkpoints: failingCheckpoints(checkpoints, 2) });
    await dying.recover();
    const second = batchOf(3, range(2, 5), range(0, 2)[1]?.key);
    await expect(dying.write(second)).rejects.toThrow(/injected checkpoint failure/);
    // A new owner gets the same batch again (it was never acknowledged).
    const next = writer();
    await next.recover();
    expect(await next.write(second)).toMatchObject({ written: 0, dropped: 3 });
    expect(await keysInLake(lake)).toEqual(range(0, 5).map((e) => e.key));
  });

  it('cannot change a data file once a new owner has taken the partition over, even with the version it last saw', async () => {
    const { lake, writer } = fixture();
    const previous = writer();
    await previous.recover();
    const events = range(0, 4);
    await previous.write(batchOf(3, events.slice(0, 2)));
    const before = await linesInLake(lake);
    const next = writer();
    await next.recover();
    // The previous owner knows the file's current version: only the lease stops it.
    await expect(
      previous.append(batchOf(3, events.slice(2), events[1]?.key)),
    ).rejects.toMatchObject({ cause: expect.objectContaining({ code: 'CONFLICT' }) });
    expect(await linesInLake(lake)).toEqual(before);
    expect(await next.write(batchOf(3, events.slice(2), events[1]?.key))).toMatchObject({
      written: 2,
    });
    expect(await keysInLake(lake)).toEqual(events.map((e) => e.key));
  });

  it('makes a late checkpoint of the previous owner fail once a new owner has taken over', async () => {
    const { writer } = fixture();
    const previous = writer();
    await previous.recover();
    const events = range(0, 2);
    await previous.write(batchOf(3, events.slice(0, 1)));
    const next = writer();
    await next.recover();
    await expect(
      previous.commit(batchOf(3, events.slice(1), events[0]?.key)),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('takes over a file an owner created but died before recording', async () => {
    const { lake, checkpoints, writer } = fixture();
    // Write 1 is the claim; write 2, recording the new file, fails: the
    // file exists, empty, under the dying owner's lease.
    const dying = writer({ checkpoints: failingCheckpoints(checkpoints, 2) });
    await dying.recover();
    const batch = batchOf(3, range(0, 3));
    await expect(dying.write(batch)).rejects.toThrow(/injected checkpoint failure/);
    expect([...(await linesInLake(lake)).values()]).toEqual([[]]);
    const next = writer();
    await next.recover();
    expect(await next.write(batch)).toMatchObject({ written: 3, filesOpened: 0 });
    expect(await keysInLake(lake)).toEqual(batch.events.map((e) => e.key));
    expect((await checkpoints.readPartition(3))?.value.position?.key).toBe(batch.events[2]?.key);
  });

  it('finishes a batch whose second file failed, without repeating the first file', async () => {
    const { lake, writer } = fixture();
    const events = [
      changeEvent(0, { coll: 'orders' }),
      changeEvent(1, { coll: 'users' }),
      changeEvent(2, { coll: 'orders' }),
    ];
    const first = writer();
    await first.recover();
    await first.write(
      batchOf(3, [
        changeEvent(100, { t: T0 - 10, i: 1 }),
        changeEvent(101, { t: T0 - 10, i: 2, coll: 'users' }),
      ]),
    );
    const flaky = writer({
      lake: failingOnce(lake, 'append', 1, 'users/year=2026/month=11/day=21/hour=13'),
    });
    await flaky.recover();
    await expect(flaky.write(batchOf(3, events))).rejects.toThrow(/injected failure of append/);
    // Same owner retries the batch: only the users line is still missing.
    expect(await flaky.write(batchOf(3, events))).toMatchObject({ written: 1, dropped: 2 });
    const keys = await keysInLake(lake);
    expect([...keys].sort()).toEqual([...keys].sort().filter((k, i, all) => all.indexOf(k) === i));
    expect(keys).toHaveLength(5);
  });

  it('writes the other events of a batch when the lake refuses one file’s path, and reports the refused ones', async () => {
    const { lake, writer } = fixture();
    const refusing = failingWhen(
      lake,
      'create',
      (path) => path.includes('/refused/'),
      () => new LakeError('INVALID_PATH', 'the lake refuses that name'),
    );
    const w = writer({ lake: refusing });
    await w.recover();
    const events = [
      changeEvent(0),
      changeEvent(1, { coll: 'refused' }),
      changeEvent(2),
      changeEvent(3, { coll: 'refused' }),
    ];
    const outcome = await w.append(batchOf(3, events));
    expect(outcome.written).toBe(2);
    expect(outcome.refused).toEqual([
      {
        keys: [events[1]?.key, events[3]?.key],
        reason: expect.stringMatching(/refuses that name/),
      },
    ]);
    await w.commit(batchOf(3, events));
    expect(await keysInLake(lake)).toEqual([events[0]?.key, events[2]?.key]);
    expect(w.position?.key).toBe(events[3]?.key);
  });

  it('rolls to a new file before one grows past maxFileBytes, closing the full one', async () => {
    const { lake, writer } = fixture({ maxFileBytes: 2_000 });
    const w = writer();
    await w.recover();
    const events = Array.from({ length: 12 }, (_, n) => changeEvent(n, { pad: 300 }));
    await w.write(batchOf(3, events.slice(0, 6)));
    await w.write(batchOf(3, events.slice(6), events[5]?.key));
    const files = await linesInLake(lake);
    expect(files.size).toBeGreaterThan(2);
    for (const [path, lines] of files) {
      expect(Buffer.byteLength(lines.join('\n') + '\n')).toBeLessThanOrEqual(2_000);
      expect(path.endsWith(`part-0003-${decodeLine(lines[0] ?? '')._tributary.key}.jsonl`)).toBe(
        true,
      );
    }
    expect(await keysInLake(lake)).toEqual(events.map((e) => e.key));
    expect(w.openFiles()).toHaveLength(1);
  });

  it('rolls through several new files in one batch, and after a failed append retries into the same files', async () => {
    const { lake, checkpoints, writer } = fixture({ maxFileBytes: 1_200 });
    const w = writer({ lake: failingOnce(lake, 'append', 1) });
    await w.recover();
    const events = Array.from({ length: 6 }, (_, n) => changeEvent(n, { pad: 300 }));
    const batch = batchOf(3, events);
    await expect(w.write(batch)).rejects.toThrow(/injected failure of append/);
    expect(await w.write(batch)).toMatchObject({ written: 6, dropped: 0 });
    const files = await linesInLake(lake);
    expect(files.size).toBeGreaterThan(2);
    for (const [path, lines] of files)
      expect(path.endsWith(`part-0003-${decodeLine(lines[0] ?? '')._tributary.key}.jsonl`)).toBe(
        true,
      );
    expect(await keysInLake(lake)).toEqual(events.map((e) => e.key));
    const listed = (await checkpoints.readPartition(3))?.value.openFiles.map((f) => f.path) ?? [];
    expect(new Set(listed).size).toBe(listed.length);
    // A file is recorded closed only once the next one holds lines.
    expect(
      (await checkpoints.readPartition(3))?.value.openFiles.filter(
        (f) => f.closed && f.length === 0,
      ),
    ).toEqual([]);
    const next = writer();
    await next.recover();
    const more = changeEvent(9, { pad: 300 });
    expect(await next.write(batchOf(3, [more], events[5]?.key))).toMatchObject({ written: 1 });
    expect(await keysInLake(lake)).toEqual([...events, more].map((e) => e.key));
  });

  it('closes the previous hour’s file when events of a later hour arrive', async () => {
    const { lake, writer } = fixture();
    const w = writer();
    await w.recover();
    await w.write(batchOf(3, [changeEvent(0, { t: T0 })]));
    await w.write(batchOf(3, [changeEvent(1, { t: T0 + 3600 })]));
    expect(w.openFiles()).toEqual([expect.stringContaining('/hour=14/')]);
    expect([...(await linesInLake(lake)).keys()].map((p) => p.split('/')[5])).toEqual([
      'hour=13',
      'hour=14',
    ]);
  });

  it('closes a file that stayed idle, at maintenance time', async () => {
    let now = T0 * 1000;
    const { writer } = fixture({ idleCloseMs: 60_000, now: () => now });
    const w = writer();
    await w.recover();
    await w.write(batchOf(3, range(0, 1)));
    now += 59_000;
    expect(await w.maintain()).toBe(0);
    now += 2_000;
    expect(await w.maintain()).toBe(1);
    expect(w.openFiles()).toEqual([]);
  });

  it('closes a file that reached maxFileAgeMs even while it keeps receiving events, and goes on in a new one', async () => {
    let now = T0 * 1000;
    const { lake, writer } = fixture({ maxFileAgeMs: 60_000, now: () => now });
    const w = writer();
    await w.recover();
    const events = range(0, 6);
    await w.write(batchOf(3, events.slice(0, 2)));
    now += 30_000;
    await w.write(batchOf(3, events.slice(2, 4), events[1]?.key));
    expect(await w.maintain()).toBe(0);
    now += 31_000;
    expect(await w.maintain()).toBe(1);
    await w.write(batchOf(3, events.slice(4), events[3]?.key));
    const files = await linesInLake(lake);
    expect([...files.values()].map((lines) => lines.length)).toEqual([4, 2]);
    expect(await keysInLake(lake)).toEqual(events.map((e) => e.key));
  });

  it('never appends again to a file recorded as closed, when its owner died before the checkpoint that forgets it', async () => {
    let now = T0 * 1000;
    const { lake, checkpoints, writer } = fixture({ idleCloseMs: 60_000, now: () => now });
    // Writes: claim (1), new file (2), batch (3), closed-marking (4); the
    // checkpoint after the closing flush (5) fails — the owner dies there.
    const dying = writer({ checkpoints: failingCheckpoints(checkpoints, 5) });
    await dying.recover();
    const events = range(0, 4);
    await dying.write(batchOf(3, events.slice(0, 2)));
    now += 61_000;
    await expect(dying.maintain()).rejects.toThrow(/injected checkpoint failure/);
    expect((await checkpoints.readPartition(3))?.value.openFiles).toEqual([
      expect.objectContaining({ closed: true }),
    ]);
    const next = writer();
    await next.recover();
    expect(next.openFiles()).toEqual([]);
    await next.write(batchOf(3, events.slice(2), events[1]?.key));
    const files = await linesInLake(lake);
    expect([...files.values()].map((lines) => lines.length)).toEqual([2, 2]);
    expect(await keysInLake(lake)).toEqual(events.map((e) => e.key));
  });

  it('does the closing flush of a file recorded as closed whose owner died before flushing it', async () => {
    let now = T0 * 1000;
    const { lake, checkpoints, writer } = fixture({ idleCloseMs: 60_000, now: () => now });
    const events = range(0, 2);
    let refuse = true;
    const dying = writer({
      lake: failingWhen(
        lake,
        'releaseLease',
        () => refuse,
        () => new Error('the owner dies here'),
      ),
    });
    await dying.recover();
    await dying.write(batchOf(3, events));
    now += 61_000;
    await expect(dying.maintain()).rejects.toThrow(/the owner dies here/);
    refuse = false;
    const next = writer();
    await next.recover();
    expect(await next.maintain()).toBe(1);
    expect((await checkpoints.readPartition(3))?.value.openFiles).toEqual([]);
    expect(await keysInLake(lake)).toEqual(events.map((e) => e.key));
  });

  it('advances on a heartbeat without touching any file', async () => {
    const { lake, checkpoints, writer } = fixture();
    const w = writer();
    await w.recover();
    const beat = changeEvent(9);
    await w.write(heartbeatAt(3, beat, ''));
    expect(await linesInLake(lake)).toEqual(new Map());
    expect((await checkpoints.readPartition(3))?.value.position?.key).toBe(beat.key);
  });

  it('takes a heartbeat’s newer resume token under the same key (a postBatchResumeToken)', async () => {
    const { checkpoints, writer } = fixture();
    const w = writer();
    await w.recover();
    const last = changeEvent(4);
    await w.write(batchOf(3, [last]));
    await w.write(heartbeatAt(3, last, last.key, { _data: 'pbrt-later' }));
    expect((await checkpoints.readPartition(3))?.value.position).toEqual({
      key: last.key,
      token: { _data: 'pbrt-later' },
    });
  });

  it('reads a claim-checked event from the lake, and removes the staged copy once checkpointed', async () => {
    const { lake, writer } = fixture();
    const w = writer();
    await w.recover();
    const big = changeEvent(0, { pad: 5000 });
    const path = claimPath(3, big.key);
    await lake.writeDocument(path, encodeClaim(big.event), { ifAbsent: true });
    const claimed = {
      ...batchOf(3, [big]),
      events: [{ key: big.key, capturedAt: big.capturedAt, claim: path, bytes: 6_000 }],
    };
    expect(await w.write(claimed)).toMatchObject({ written: 1 });
    const [line] = [...(await linesInLake(lake)).values()][0] ?? [];
    expect(decodeLine(line ?? '').fullDocument.note).toHaveLength(5000);
    expect(await lake.stat(path)).toBeUndefined();
    // A stale copy of the batch names the removed claim: dropped by key, never read.
    expect(await w.write(claimed)).toMatchObject({ written: 0, dropped: 1 });
  });

  it('leaves out a claim-checked event whose staged copy is gone, writing the rest of the batch', async () => {
    const { lake, writer } = fixture();
    const w = writer();
    await w.recover();
    const [gone, kept] = [changeEvent(0), changeEvent(1)];
    const claimed = {
      ...batchOf(3, [gone, kept]),
      events: [
        { key: gone.key, capturedAt: gone.capturedAt, claim: claimPath(3, gone.key), bytes: 100 },
        kept,
      ],
    };
    const outcome = await w.append(claimed);
    expect(outcome.written).toBe(1);
    expect(outcome.refused).toEqual([
      { keys: [gone.key], reason: expect.stringMatching(/claim-checked event .* is gone/) },
    ]);
    await w.commit(claimed);
    expect(await keysInLake(lake)).toEqual([kept.key]);
  });

  it('starts no lake request once its ownership is lost', async () => {
    const { lake, writer } = fixture();
    const lost = new AbortController();
    const w = writer({ lost: lost.signal });
    await w.recover();
    lost.abort(new Error('taken over'));
    await expect(w.write(batchOf(3, range(0, 2)))).rejects.toThrow('taken over');
    expect(await linesInLake(lake)).toEqual(new Map());
  });
});
