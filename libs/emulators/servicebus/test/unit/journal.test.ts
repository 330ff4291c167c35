import {
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import rhea from 'rhea';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/amqp/message-codec.ts';
import type { Journal, JournalRecord, MessageImage } from '../../src/broker/journal-port.ts';
import { Namespace } from '../../src/broker/namespace.ts';
import { resolveQueueProperties } from '../../src/config/queue-properties.ts';
import { decodeRecords, encodeRecord } from '../../src/persistence/journal-codec.ts';
import { foldRecords } from '../../src/persistence/journal-fold.ts';
import { FileJournal } from '../../src/persistence/file-journal.ts';

function image(seq: number, fields: Partial<MessageImage> = {}): MessageImage {
  return {
    subqueue: 'main',
    sequenceNumber: seq,
    enqueuedTimeMs: 1000 + seq,
    expiresAtMs: Infinity,
    state: 'active',
    deliveryCount: 0,
    durable: false,
    priority: 4,
    ttlMs: undefined,
    messageId: `m${seq}`,
    sessionId: undefined,
    partitionKey: undefined,
    annotations: Buffer.alloc(0),
    annotationCount: 0,
    rest: Buffer.from([seq, 1, 2, 3]),
    ...fields,
  };
}

describe('journal records', () => {
  it('round-trip with their binary fields and infinite expiry', () => {
    const records: JournalRecord[] = [
      {
        kind: 'enqueue',
        queue: 'Q',
        message: image(1, { annotations: Buffer.from('ann'), annotationCount: 1 }),
      },
      {
        kind: 'update',
        queue: 'Q',
        subqueue: 'main',
        sequenceNumber: 1,
        deliveryCount: 2,
        state: 'deferred',
        enqueuedTimeMs: 5,
        rest: Buffer.from('new'),
      },
      { kind: 'session-state', queue: 'Q', sessionId: 's', state: Buffer.from('st') },
      { kind: 'remove', queue: 'Q', subqueue: 'main', sequenceNumber: 1 },
    ];
    const { records: back, validLength } = decodeRecords(Buffer.concat(records.map(encodeRecord)));
    expect(back).toEqual(records);
    expect(validLength).toBe(Buffer.concat(records.map(encodeRecord)).length);
  });

  it('stop at a torn or corrupted record and keep everything before it', () => {
    const a = encodeRecord({ kind: 'enqueue', queue: 'q', message: image(1) });
    const b = encodeRecord({ kind: 'enqueue', queue: 'q', message: image(2) });
    const torn = Buffer.concat([a, b.subarray(0, b.length - 3)]);
    expect(decodeRecords(torn).records).toHaveLength(1);
    const corrupt = Buffer.concat([a, b]);
    corrupt[a.length + 20] = corrupt[a.length + 20]! ^ 0xff;
    expect(decodeRecords(corrupt)).toEqual({
      records: [expect.objectContaining({ kind: 'enqueue' })],
      validLength: a.length,
    });
    expect(decodeRecords(Buffer.from('garbage that is not a journal')).records).toEqual([]);
  });

  it('fold into the state they describe, replays of stale records changing nothing', () => {
    const state = foldRecords([
      { kind: 'enqueue', queue: 'q', message: image(1) },
      { kind: 'enqueue', queue: 'q', message: image(2) },
      { kind: 'enqueue', queue: 'q', message: image(3) },
      {
        kind: 'update',
        queue: 'q',
        subqueue: 'main',
        sequenceNumber: 2,
        deliveryCount: 1,
        state: 'active',
        enqueuedTimeMs: 1002,
        rest: undefined,
      },
      {
        kind: 'dead-letter',
        queue: 'q',
        sequenceNumber: 3,
        deliveryCount: 0,
        rest: Buffer.from('dl'),
      },
      { kind: 'remove', queue: 'q', subqueue: 'main', sequenceNumber: 1 },
      { kind: 'remove', queue: 'q', subqueue: 'main', sequenceNumber: 1 },
      {
        kind: 'dead-letter',
        queue: 'q',
        sequenceNumber: 3,
        deliveryCount: 5,
        rest: Buffer.from('again'),
      },
      { kind: 'sequence', queue: 'Q', next: 10 },
    ]);
    const q = state.get('q')!;
    expect([...q.messages.keys()].sort()).toEqual(['deadletter:3', 'main:2']);
    expect(q.messages.get('main:2')?.deliveryCount).toBe(1);
    expect(q.messages.get('deadletter:3')).toMatchObject({
      subqueue: 'deadletter',
      rest: Buffer.from('dl'),
      expiresAtMs: Infinity,
    });
    expect(q.nextSequence).toBe(10);
  });
});

describe('an activated scheduled message', () => {
  it('moves to its new sequence number in the fold, and only from the scheduled state', () => {
    const activate: JournalRecord = {
      kind: 'activate',
      queue: 'q',
      scheduledSequenceNumber: 1,
      sequenceNumber: 3,
      enqueuedTimeMs: 9000,
      expiresAtMs: 19_000,
    };
    const state = foldRecords([
      { kind: 'enqueue', queue: 'q', message: image(1, { state: 'scheduled' }) },
      { kind: 'enqueue', queue: 'q', message: image(2) },
      activate,
      activate,
    ]);
    const q = state.get('q')!;
    expect([...q.messages.keys()].sort()).toEqual(['main:2', 'main:3']);
    expect(q.messages.get('main:3')).toMatchObject({
      sequenceNumber: 3,
      state: 'active',
      enqueuedTimeMs: 9000,
      expiresAtMs: 19_000,
      messageId: 'm1',
    });
    expect(q.nextSequence).toBe(4);
  });
});

describe('the file journal', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const newDir = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'sb-journal-'));
    dirs.push(d);
    return d;
  };
  const build = (journal: Journal): Namespace => {
    const ns = new Namespace(journal, false);
    ns.addQueue('q', resolveQueueProperties('q', { requiresDuplicateDetection: true }));
    return ns;
  };
  const open = (dir: string, warnings: string[] = [], compactAtBytes?: number) =>
    FileJournal.open(
      dir,
      {
        syncWrites: false,
        ...(compactAtBytes ? { compactAtBytes } : {}),
        onError: (e) => {
          throw e;
        },
        onWarning: (m) => warnings.push(m),
      },
      build,
    );
  async function send(ns: Namespace, journal: Journal, body: string, messageId?: string) {
    const queue = ns.queue('q')!;
    const m = queue.accept(
      parseMessage(rhea.message.encode({ body, ...(messageId ? { message_id: messageId } : {}) })),
    );
    await journal.barrier();
    if (m) queue.admit(m);
    return m;
  }

  it('keeps messages, their settlement and the sequence counter across a restart', async () => {
    const dir = newDir();
    let { journal, namespace } = await open(dir);
    await send(namespace, journal, 'kept');
    await send(namespace, journal, 'completed');
    await send(namespace, journal, 'abandoned', 'dedup-me');
    const queue = namespace.queue('q')!;
    // Locked at the restart (comes back), completed (gone), abandoned (counted).
    queue.lock(queue.take(queue.main)!, undefined);
    queue.complete(queue.lock(queue.take(queue.main)!, undefined));
    queue.abandon(queue.lock(queue.take(queue.main)!, undefined), { note: 'kept' });
    namespace.close();
    await journal.close();
    ({ journal, namespace } = await open(dir));
    const after = namespace.queue('q')!;
    expect([...after.main.messages.values()].map((m) => rhea.message.decode(m.rest).body)).toEqual([
      'kept',
      'abandoned',
    ]);
    expect(await send(namespace, journal, 'again', 'dedup-me')).toBeUndefined();
    expect((await send(namespace, journal, 'fourth'))?.sequenceNumber).toBe(4);
    namespace.close();
    await journal.close();
  });

  it('drops a record torn by a crash, keeping every complete one', async () => {
    const dir = newDir();
    let { journal, namespace } = await open(dir);
    await send(namespace, journal, 'one');
    await send(namespace, journal, 'two');
    namespace.close();
    await journal.close();
    const file = path.join(dir, 'journal.sbj');
    const size = statSync(file).size;
    const last = decodeRecords(readFileSync(file)).records.length;
    expect(last).toBeGreaterThanOrEqual(2);
    truncateSync(file, size - 5);
    const warnings: string[] = [];
    ({ journal, namespace } = await open(dir, warnings));
    expect(namespace.queue('q')!.main.messages.size).toBe(1);
    expect(warnings.join()).toMatch(/ignored \d+ bytes after the last complete record/);
    namespace.close();
    await journal.close();
  });

  it('keeps a busy journal bounded by compacting it to what is still there', async () => {
    const dir = newDir();
    const limit = 16 * 1024;
    let { journal, namespace } = await open(dir, [], limit);
    const queue = namespace.queue('q')!;
    let largest = 0;
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 20; i++) await send(namespace, journal, `r${round}-${i}`);
      for (let i = 0; i < (round === 29 ? 17 : 20); i++)
        queue.complete(queue.lock(queue.take(queue.main)!, undefined));
      await journal.barrier();
      // Compaction runs in a later turn of the event loop.
      await new Promise((r) => setImmediate(r));
      largest = Math.max(largest, statSync(path.join(dir, 'journal.sbj')).size);
    }
    // 600 messages went through (about 200 KB of records); the file never held much more than the limit.
    expect(largest).toBeLessThan(3 * limit);
    namespace.close();
    await journal.close();
    ({ journal, namespace } = await open(dir));
    const bodies = [...namespace.queue('q')!.main.messages.values()].map(
      (m) => rhea.message.decode(m.rest).body,
    );
    expect(bodies).toEqual(['r29-17', 'r29-18', 'r29-19']);
    namespace.close();
    await journal.close();
  });

  it('refuses a data directory another live process holds', async () => {
    const dir = newDir();
    writeFileSync(path.join(dir, 'lock'), String(process.ppid));
    await expect(open(dir)).rejects.toThrow(/in use by process/);
    // A lock left by a process that died (a crash) is taken over.
    writeFileSync(path.join(dir, 'lock'), '999999999');
    appendFileSync(path.join(dir, 'journal.sbj'), Buffer.alloc(0));
    const { journal, namespace } = await open(dir);
    namespace.close();
    await journal.close();
  });
});
