import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MongoClient,
  type ChangeStream,
  type Collection,
  type Document,
  type ResumeToken,
  type Timestamp,
} from 'mongodb';
import { AGAINST_REAL_SERVER } from './support/conformance-target.ts';
import { startServerProcess, type ServerProcess } from './support/emulator-process.ts';

const DB = 'journal';
/** How long each round's load runs before the SIGKILL: different points, to meet torn records and checkpoints. */
const KILL_AFTER_MS = [300, 750, 1300];
/** Checkpoints (and journal rotations) happen many times during each round's load. */
const CHECKPOINT_MS = '150';

type Op = 'insert' | 'update' | 'delete';

/**
 * What the load did, as its clients saw it: per document the value (`v`) the
 * last acknowledged write left (null: absent), the value of a write still in
 * flight at the kill, and each worker's acknowledged writes in order.
 */
class Ledger {
  readonly acked = new Map<string, number | null>();
  readonly inFlight = new Map<string, number | null>();
  readonly history = new Map<string, Array<[Op, string]>>();
  readonly transactions: Array<[string, string]> = [];
  /** Collections created (with pre- and post-images) and indexed, acknowledged. */
  readonly collections = new Map<string, 'created' | 'indexed'>();
  readonly unexpected: unknown[] = [];

  begin(id: string, value: number | null): void {
    this.inFlight.set(id, value);
  }

  ack(worker: string, op: Op, id: string, value: number | null): void {
    this.acked.set(id, value);
    this.inFlight.delete(id);
    const list = this.history.get(worker) ?? [];
    list.push([op, id]);
    this.history.set(worker, list);
  }
}

interface Load {
  /** Resume token of the last change event the load's watcher received. */
  lastToken: ResumeToken | undefined;
  events: number;
  done: Promise<unknown>;
  killed: boolean;
}

/** One worker: repeats `step` until it fails; a failure before the kill is recorded as unexpected. */
async function repeat(load: Load, ledger: Ledger, step: (n: number) => Promise<void>) {
  for (let n = 1; ; n++) {
    try {
      await step(n);
    } catch (error) {
      if (!load.killed) ledger.unexpected.push(error);
      return;
    }
  }
}

async function startLoad(client: MongoClient, round: number, ledger: Ledger): Promise<Load> {
  const coll: Collection<Document> = client.db(DB).collection('c');
  const load: Load = { lastToken: undefined, events: 0, done: Promise.resolve(), killed: false };
  // The stream is open before the first write, so it sees the load from its start.
  const stream = coll.watch([], { maxAwaitTimeMS: 20 });
  await stream.tryNext();
  const many = repeat(load, ledger, async (n) => {
    const docs = Array.from({ length: 50 }, (_, i) => ({ _id: `m-${round}-${n}-${i}`, v: n }));
    for (const doc of docs) ledger.begin(doc._id, n);
    await coll.insertMany(docs as never[]);
    for (const doc of docs) ledger.ack(`m-${round}`, 'insert', doc._id, n);
  });
  const single = repeat(load, ledger, async (n) => {
    const id = `s-${round}-${n}`;
    ledger.begin(id, n);
    await coll.insertOne({ _id: id, v: n } as never);
    ledger.ack(`s-${round}`, 'insert', id, n);
  });
  const updates = repeat(load, ledger, async (n) => {
    const id = `u-${round}`;
    ledger.begin(id, n);
    if (n === 1) await coll.insertOne({ _id: id, v: n } as never);
    else await coll.updateOne({ _id: id } as never, { $set: { v: n } });
    ledger.ack(`u-${round}`, n === 1 ? 'insert' : 'update', id, n);
  });
  const deletes = repeat(load, ledger, async (n) => {
    const id = `d-${round}-${n}`;
    ledger.begin(id, n);
    await coll.insertOne({ _id: id, v: n } as never);
    ledger.ack(`d-${round}`, 'insert', id, n);
    ledger.begin(id, null);
    await coll.deleteOne({ _id: id } as never);
    ledger.ack(`d-${round}`, 'delete', id, null);
  });
  const transactions = repeat(load, ledger, async (n) => {
    const [a, b] = [`t-${round}-${n}-a`, `t-${round}-${n}-b`];
    ledger.transactions.push([a, b]);
    ledger.begin(a, n);
    ledger.begin(b, n);
    const session = client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: a, v: n } as never, { session });
      await coll.insertOne({ _id: b, v: n } as never, { session });
      await session.commitTransaction();
    } finally {
      // After the kill ending the session fails too; the step has failed already.
      await session.endSession().catch(() => undefined);
    }
    ledger.ack(`t-${round}`, 'insert', a, n);
    ledger.ack(`t-${round}`, 'insert', b, n);
  });
  const catalogChanges = repeat(load, ledger, async (n) => {
    const name = `k_${round}_${n}`;
    await client.db(DB).createCollection(name, { changeStreamPreAndPostImages: { enabled: true } });
    ledger.collections.set(name, 'created');
    await client.db(DB).collection(name).createIndex({ v: 1 }, { name: 'v_1', unique: true });
    ledger.collections.set(name, 'indexed');
  });
  const watcher = (async () => {
    try {
      for (;;) {
        const event = await stream.tryNext();
        if (event) {
          load.lastToken = event._id;
          load.events += 1;
        }
      }
    } catch (error) {
      if (!load.killed) ledger.unexpected.push(error);
    } finally {
      await stream.close().catch(() => undefined); // the server is gone; nothing to release
    }
  })();
  load.done = Promise.all([many, single, updates, deletes, transactions, catalogChanges, watcher]);
  return load;
}

/** Events of `stream` up to the insert of `marker`, as [operation, _id] pairs with their tokens. */
async function eventsUntil(stream: ChangeStream, marker: string) {
  const events: Array<{ entry: [string, string]; token: ResumeToken }> = [];
  for (;;) {
    const event = (await stream.next()) as Document;
    const id = String(event.documentKey?._id);
    if (id === marker) return events;
    events.push({ entry: [event.operationType as string, id], token: event._id });
  }
}

function tokenData(token: ResumeToken | undefined): string {
  return (token as { _data: string })._data;
}

/** Checks the restarted server against the ledger, then takes what it holds as the new truth. */
async function verify(
  client: MongoClient,
  ledger: Ledger,
  from: { startTime: Timestamp; lastToken: ResumeToken },
  round: number,
) {
  const db = client.db(DB);
  const coll = db.collection('c');
  const stored = new Map(
    (await coll.find().toArray()).map((doc) => [String(doc._id), doc.v as number]),
  );
  const wrong: string[] = [];
  for (const id of new Set([...ledger.acked.keys(), ...ledger.inFlight.keys()])) {
    const allowed = [ledger.acked.get(id) ?? null];
    if (ledger.inFlight.has(id)) allowed.push(ledger.inFlight.get(id) ?? null);
    const actual = stored.get(id) ?? null;
    if (!allowed.includes(actual)) wrong.push(`${id}: ${actual} not in ${allowed.join('|')}`);
  }
  for (const id of stored.keys())
    if (!ledger.acked.has(id) && !ledger.inFlight.has(id)) wrong.push(`${id}: never written`);
  expect(wrong).toEqual([]);
  const halfApplied = ledger.transactions.filter(([a, b]) => stored.has(a) !== stored.has(b));
  expect(halfApplied).toEqual([]);
  const infos = new Map(
    (await db.listCollections().toArray()).map((info) => [info.name, info as Document]),
  );
  for (const [name, state] of ledger.collections) {
    expect(infos.get(name)?.options, name).toEqual({
      changeStreamPreAndPostImages: { enabled: true },
    });
    if (state === 'indexed') {
      const indexes = await db.collection(name).listIndexes().toArray();
      expect(
        indexes.find((index) => index.name === 'v_1'),
        name,
      ).toMatchObject({ key: { v: 1 }, unique: true });
    }
  }

  // The history: from the start, and resumed after the last event the load's stream saw.
  const marker = `marker-${round}`;
  const everything = coll.watch([], { startAtOperationTime: from.startTime });
  const resumed = coll.watch([], { resumeAfter: from.lastToken });
  try {
    await coll.insertOne({ _id: marker } as never);
    const history = await eventsUntil(everything, marker);
    for (const [worker, acked] of ledger.history) {
      const logged = history
        .map((e) => e.entry)
        .filter(([, id]) => id.startsWith(`${worker}-`) || id === worker);
      expect(logged.slice(0, acked.length), `oplog of ${worker}`).toEqual(acked);
    }
    const at = history.findIndex((e) => tokenData(e.token) === tokenData(from.lastToken));
    expect(at, 'the last event the stream saw is in the oplog').toBeGreaterThanOrEqual(0);
    const following = history.slice(at + 1).map((e) => e.entry);
    expect((await eventsUntil(resumed, marker)).map((e) => e.entry)).toEqual(following);
  } finally {
    await everything.close();
    await resumed.close();
  }
  for (const id of ledger.inFlight.keys()) ledger.acked.set(id, stored.get(id) ?? null);
  ledger.inFlight.clear();
  await coll.deleteOne({ _id: marker } as never);
  ledger.acked.delete(marker);
}

/** How long the load's stream may take to see its first event before the test gives up. */
const FIRST_EVENT_DEADLINE_MS = 30_000;

/**
 * Waits `ms`, and until the load's stream has seen events (a busy machine
 * can be slow to start); fails at once if the load has failed, and after
 * FIRST_EVENT_DEADLINE_MS without an event, rather than spin to the test's timeout.
 */
async function killPoint(load: Load, ledger: Ledger, ms: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < ms || load.events === 0) {
    if (ledger.unexpected.length > 0)
      throw new Error(`the load failed before the kill: ${String(ledger.unexpected[0])}`);
    if (Date.now() - started > FIRST_EVENT_DEADLINE_MS)
      throw new Error(`the change stream saw no event in ${FIRST_EVENT_DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function connect(server: ServerProcess): MongoClient {
  // No retries: a write cut off by the kill must fail, not be sent again to the restarted server.
  // (That is retryWrites' doing; the selection timeout only bounds the wait for a freshly
  // started child on a loaded machine — a client is closed, never reused, across a kill.)
  return new MongoClient(server.uri, {
    retryWrites: false,
    retryReads: false,
    serverSelectionTimeoutMS: 10_000,
  });
}

// Emulator-only: kills the emulator's process and restarts it on its data directory.
describe.skipIf(AGAINST_REAL_SERVER)('journal', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keeps every acknowledged write, its oplog entry and resumability across SIGKILLs during a load', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mongo-journal-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const options = ['--data-dir', dataDir, '--checkpoint-interval-ms', CHECKPOINT_MS];
    const ledger = new Ledger();
    let server = await startServerProcess(options);
    cleanups.push(() => server.stop());
    let lastToken: ResumeToken | undefined;
    let startTime: Timestamp | undefined;
    for (let round = 0; round <= KILL_AFTER_MS.length; round++) {
      const client = connect(server);
      try {
        if (lastToken && startTime) await verify(client, ledger, { startTime, lastToken }, round);
        if (round === KILL_AFTER_MS.length) break;
        // Every write of the test happens after this cluster time.
        startTime ??= (await client.db('admin').command({ ping: 1 })).operationTime as Timestamp;
        const load = await startLoad(client, round, ledger);
        await killPoint(load, ledger, KILL_AFTER_MS[round] as number);
        load.killed = true;
        await server.stop(); // SIGKILL, with the load in full swing
        // Closing the client fails what was in flight at once (no server selection to wait out).
        await client.close();
        await load.done;
        expect(ledger.unexpected).toEqual([]);
        // The kill met writes in flight, and the stream had seen events to resume after.
        expect(ledger.inFlight.size).toBeGreaterThan(0);
        expect(load.events).toBeGreaterThan(0);
        lastToken = load.lastToken;
      } finally {
        await client.close();
      }
      server = await startServerProcess(options);
    }
  }, 90_000);

  it("keeps catalog changes — a transaction's new collection and index too — and their events across a SIGKILL", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mongo-journal-ddl-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // No checkpoint before the kill: what survives is what the journal holds.
    const options = ['--data-dir', dataDir, '--checkpoint-interval-ms', '600000'];
    let server = await startServerProcess(options);
    cleanups.push(() => server.stop());
    const expanded = { showExpandedEvents: true, maxAwaitTimeMS: 20 };
    const summary = (e: Document): unknown[] => [
      e.operationType,
      e.ns?.coll,
      e._id?._data,
      e.collectionUUID,
    ];
    let client = connect(server);
    const db = client.db('journal_ddl');
    const start = (await db.command({ ping: 1 })).operationTime as Timestamp;
    const stream = db.watch([], expanded);
    await stream.tryNext();
    const session = client.startSession();
    await session.withTransaction(async () => {
      await db.createCollection('made', {
        session,
        changeStreamPreAndPostImages: { enabled: true },
      });
      await db.collection('made').createIndex({ k: 1 }, { name: 'k_1', session });
      await db.collection('made').insertOne({ _id: 1, k: 1 } as never, { session });
    });
    await session.endSession();
    await db.collection('plain').createIndexes([
      { key: { a: 1 }, name: 'a_1' },
      { key: { b: 1 }, name: 'b_1' },
    ]);
    await db.collection('plain').dropIndex('a_1');
    await db.command({ collMod: 'plain', changeStreamPreAndPostImages: { enabled: true } });
    const seen: unknown[][] = [];
    while (seen.length < 8) {
      const event = await stream.tryNext();
      if (event) seen.push(summary(event as Document));
    }
    await stream.close();
    await server.stop(); // SIGKILL
    await client.close();

    server = await startServerProcess(options);
    client = connect(server);
    try {
      const again = client.db('journal_ddl');
      const infos = new Map(
        (await again.listCollections().toArray()).map((info) => [info.name, info as Document]),
      );
      for (const name of ['made', 'plain'])
        expect(infos.get(name)?.options, name).toEqual({
          changeStreamPreAndPostImages: { enabled: true },
        });
      const names = async (coll: string) =>
        (await again.collection(coll).listIndexes().toArray()).map((index) => index.name);
      expect(await names('made')).toEqual(['_id_', 'k_1']);
      expect(await names('plain')).toEqual(['_id_', 'b_1']);
      expect(await again.collection('made').findOne({ _id: 1 } as never)).toEqual({ _id: 1, k: 1 });
      const replay = again.watch([], { ...expanded, startAtOperationTime: start });
      try {
        const history: unknown[][] = [];
        while (history.length < seen.length) {
          const event = await replay.tryNext();
          if (event) history.push(summary(event as Document));
        }
        expect(history).toEqual(seen);
        expect(history.map(([op]) => op)).toEqual([
          'create',
          'createIndexes',
          'insert',
          'create',
          'createIndexes', // two indexes on an empty collection: an entry each
          'createIndexes',
          'dropIndexes',
          'modify',
        ]);
      } finally {
        await replay.close();
      }
    } finally {
      await client.close();
    }
  }, 60_000);

  it('keeps views, their drops and validators — also of a collection a transaction made — across a SIGKILL', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mongo-journal-views-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const options = ['--data-dir', dataDir, '--checkpoint-interval-ms', '600000'];
    let server = await startServerProcess(options);
    cleanups.push(() => server.stop());
    const validator = { qty: { $gte: 0 } };
    const pipeline = [{ $match: { qty: { $gt: 0 } } }];
    let client = connect(server);
    const db = client.db('journal_views');
    await db.createCollection('stock', { validator });
    await db.createCollection('inStock', { viewOn: 'stock', pipeline });
    await db.createCollection('gone', { viewOn: 'stock', pipeline: [] });
    await db.collection('gone').drop();
    const session = client.startSession();
    await session.withTransaction(async () => {
      await db.createCollection('checked', { session, validator });
    });
    await session.endSession();
    await server.stop(); // SIGKILL
    await client.close();

    server = await startServerProcess(options);
    client = connect(server);
    try {
      const again = client.db('journal_views');
      const infos = new Map(
        (await again.listCollections().toArray()).map((info) => [info.name, info as Document]),
      );
      expect([...infos.keys()].sort()).toEqual(['checked', 'inStock', 'stock']);
      expect(infos.get('inStock')).toMatchObject({
        type: 'view',
        options: { viewOn: 'stock', pipeline },
      });
      for (const name of ['stock', 'checked']) {
        expect(infos.get(name)?.options, name).toMatchObject({ validator });
        const refused = again.collection(name).insertOne({ qty: -1 } as never);
        await expect(refused, name).rejects.toMatchObject({ code: 121 });
      }
    } finally {
      await client.close();
    }
  }, 60_000);
});
