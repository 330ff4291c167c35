import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MongoNetworkError,
  type CommandFailedEvent,
  type CommandSucceededEvent,
  type Document,
  type MongoServerError,
} from 'mongodb';
import {
  AGAINST_REAL_SERVER,
  openTarget,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { RawConnection } from './support/raw-wire.ts';
import { readEvents, started } from './support/stream-helpers.ts';

const AWAIT = { maxAwaitTimeMS: 100 };

describe('failCommand fail point and step-down', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterEach(async () => {
    await target.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    await target.client
      .db('admin')
      .command({ configureFailPoint: 'failGetMoreAfterCursorCheckout', mode: 'off' });
  });
  afterAll(async () => {
    await target.close();
  });

  it('fails the named command the given number of times with the given code and labels', async () => {
    const admin = target.client.db('admin');
    await admin.command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['find'], errorCode: 2, errorLabels: ['Custom'] },
    });
    const coll = target.db('fault_times').collection('c');
    const error = (await coll.findOne({}).catch((e: unknown) => e)) as MongoServerError;
    expect(error.code).toBe(2);
    expect(error.errorLabels).toEqual(['Custom']);
    expect(await coll.findOne({})).toBeNull();
  });

  it('skips the first activations in skip mode', async () => {
    const admin = target.client.db('admin');
    await admin.command({
      configureFailPoint: 'failCommand',
      mode: { skip: 2 },
      data: { failCommands: ['find'], errorCode: 2 },
    });
    const coll = target.db('fault_skip').collection('c');
    const outcomes: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(
        await coll.findOne({}).then(
          (doc) => ({ ok: doc }),
          (e: MongoServerError) => ({ code: e.code }),
        ),
      );
    }
    expect(outcomes).toEqual([{ ok: null }, { ok: null }, { code: 2 }]);
  });

  it('lets the driver retry a write after a retryable failure', async () => {
    const client = await target.newClient({ monitorCommands: true });
    const attempts: Array<{ outcome: string; code?: number | string }> = [];
    client.on('commandFailed', (event: CommandFailedEvent) => {
      if (event.commandName === 'insert')
        attempts.push({ outcome: 'failed', code: (event.failure as MongoServerError).code });
    });
    client.on('commandSucceeded', (event: CommandSucceededEvent) => {
      if (event.commandName === 'insert') attempts.push({ outcome: 'succeeded' });
    });
    const admin = target.client.db('admin');
    await admin.command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['insert'], errorCode: 91, errorLabels: ['RetryableWriteError'] },
    });
    const coll = client.db(target.dbName('fault_retry')).collection('c');
    await coll.insertOne({ _id: 1 } as never);
    // The first attempt really failed with the injected error; the retry went through once.
    expect(attempts).toEqual([{ outcome: 'failed', code: 91 }, { outcome: 'succeeded' }]);
    const off = await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
    expect(off.count).toBe(1);
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('closes the connection when closeConnection is set, and only for the named appName', async () => {
    const other = await target.newClient({ appName: 'victim', retryReads: false });
    await target.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['find'], closeConnection: true, appName: 'victim' },
    });
    const error = await other
      .db(target.dbName('fault_close'))
      .collection('c')
      .findOne({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect(await target.db('fault_close').collection('c').findOne({})).toBeNull();
  });

  it('blocks the connection for blockTimeMS', async () => {
    await target.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['ping'], blockConnection: true, blockTimeMS: 300 },
    });
    const t0 = Date.now();
    await target.db('fault_block').command({ ping: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });

  /** A change stream's cursor opened by hand, and the error its next getMore answers. */
  async function getMoreFailure(db: string): Promise<MongoServerError> {
    const opened = await target.db(db).command({
      aggregate: 'c',
      pipeline: [{ $changeStream: {} }],
      cursor: {},
    });
    return target
      .db(db)
      .command({ getMore: opened.cursor.id, collection: 'c', maxTimeMS: 100 })
      .then(
        () => {
          throw new Error('the getMore did not fail');
        },
        (error: MongoServerError) => error,
      );
  }

  it('adds no ResumableChangeStreamError to a getMore error failCommand injects (before the cursor is checked out)', async () => {
    await target.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['getMore'], errorCode: 6 },
    });
    const error = await getMoreFailure('fault_label_failcommand');
    expect(error.code).toBe(6);
    expect(error.errorLabels ?? []).not.toContain('ResumableChangeStreamError');
  });

  it('labels a change stream getMore failing after its cursor is checked out as the server labels it: resumable codes only', async () => {
    const admin = target.client.db('admin');
    await admin.command({
      configureFailPoint: 'failGetMoreAfterCursorCheckout',
      mode: { times: 1 },
      data: { errorCode: 6, closeConnection: false },
    });
    const resumable = await getMoreFailure('fault_label_checkout');
    expect([resumable.code, resumable.errorLabels]).toEqual([
      6,
      expect.arrayContaining(['ResumableChangeStreamError']),
    ]);
    await admin.command({
      configureFailPoint: 'failGetMoreAfterCursorCheckout',
      mode: { times: 1 },
      data: { errorCode: 2 },
    });
    const fatal = await getMoreFailure('fault_label_checkout');
    expect(fatal.code).toBe(2);
    expect(fatal.errorLabels ?? []).not.toContain('ResumableChangeStreamError');
  });

  it('resumes a change stream the driver watches after failGetMoreAfterCursorCheckout, without losing events', async () => {
    const coll = target.db('fault_resume_checkout').collection('c');
    const stream = await started(coll.watch([], AWAIT));
    try {
      await coll.insertOne({ _id: 1 } as never);
      await target.client.db('admin').command({
        configureFailPoint: 'failGetMoreAfterCursorCheckout',
        mode: { times: 1 },
        data: { errorCode: 189 },
      });
      await coll.insertOne({ _id: 2 } as never);
      const events = (await readEvents(stream, 2)) as Document[];
      expect(events.map((e) => e.documentKey._id)).toEqual([1, 2]);
      // It did fail one getMore (the count of the fail point's firings).
      const off = await target.client
        .db('admin')
        .command({ configureFailPoint: 'failGetMoreAfterCursorCheckout', mode: 'off' });
      expect(off.count).toBe(1);
    } finally {
      await stream.close();
    }
  });

  it('resumes a change stream after a resumable getMore failure without losing events', async () => {
    const coll = target.db('fault_resume').collection('c');
    const stream = await started(coll.watch([], AWAIT));
    try {
      await coll.insertOne({ _id: 1 } as never);
      await target.client.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: {
          failCommands: ['getMore'],
          errorCode: 10107,
          errorLabels: ['ResumableChangeStreamError'],
        },
      });
      await coll.insertOne({ _id: 2 } as never);
      const events = (await readEvents(stream, 2)) as Document[];
      expect(events.map((e) => e.documentKey._id)).toEqual([1, 2]);
    } finally {
      await stream.close();
    }
  });

  it.skipIf(AGAINST_REAL_SERVER)(
    'fails in-flight operations with NotWritablePrimary on step-down, closes connections, and the stream resumes',
    async () => {
      const coll = target.db('fault_stepdown').collection('c');
      await coll.insertOne({ _id: 0 } as never);
      const watcher = await target.newClient();
      const db = watcher.db(coll.dbName);
      const opened = await db.command({
        aggregate: 'c',
        pipeline: [{ $changeStream: {} }],
        cursor: {},
      });
      const inFlight = db
        .command({ getMore: opened.cursor.id, collection: 'c', maxTimeMS: 10_000 })
        .catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A connection of its own, to see the server close it (EOF) rather than the driver.
      const bystander = await RawConnection.open(target.uri);
      bystander.send({ ping: 1, $db: 'admin' });
      expect((await bystander.next(2000))?.body.ok).toBe(1);
      // After the server closes its connections, a client rediscovers it at its next heartbeat.
      const streamClient = await target.newClient({ heartbeatFrequencyMS: 500 });
      const stream = await started(streamClient.db(coll.dbName).collection('c').watch([], AWAIT));
      try {
        await target.client.db('admin').command({ emulatorStepDown: 1 });
        const failure = (await inFlight) as MongoServerError;
        expect(failure.code).toBe(10107);
        await coll.insertOne({ _id: 1 } as never);
        const [event] = (await readEvents(stream, 1, 10_000)) as Document[];
        expect(event?.documentKey).toEqual({ _id: 1 });
        const closed = await Promise.race([
          bystander.closed.then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('still open'), 2000)),
        ]);
        expect(closed).toBe('closed');
      } finally {
        bystander.close();
        await stream.close();
      }
    },
    20_000,
  );
});
