import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MongoClient,
  type MongoServerError,
  type ServerHeartbeatFailedEvent,
  type ServerHeartbeatSucceededEvent,
} from 'mongodb';
import { startServerProcess, type ServerProcess } from './support/emulator-process.ts';
import { EXHAUST_ALLOWED, MORE_TO_COME, RawConnection } from './support/raw-wire.ts';

/** `promise`, or a failure naming `what` if it takes longer than `ms`. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} got no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The streaming hello (exhaust) loop and the handshake, against a server in
 * another process: a server whose event loop froze fails these tests on a
 * timeout instead of hanging the test runner.
 */
describe('streaming hello and the handshake', () => {
  let server: ServerProcess;
  let admin: MongoClient;
  const opened: Array<{ close(): unknown }> = [];

  beforeAll(async () => {
    server = await startServerProcess();
    admin = new MongoClient(server.uri, { serverSelectionTimeoutMS: 5000 });
    await admin.connect();
  }, 20_000);
  afterAll(async () => {
    for (const each of opened) await each.close();
    await admin?.close();
    await server?.stop();
  });

  async function raw(): Promise<RawConnection> {
    const connection = await RawConnection.open(server.uri);
    opened.push(connection);
    return connection;
  }

  /** A ping that must be answered promptly: the server's event loop is running. */
  async function assertResponsive(): Promise<void> {
    const reply = await within(2000, admin.db('admin').command({ ping: 1 }), 'ping');
    expect(reply.ok).toBe(1);
  }

  it('answers an exhaust-flagged command that is not an awaitable hello exactly once', async () => {
    const connection = await raw();
    const id = connection.send({ ping: 1, maxAwaitTimeMS: 100, $db: 'admin' }, EXHAUST_ALLOWED);
    const replies = await connection.collect(600);
    expect(replies.map((r) => [r.responseTo, r.body.ok])).toEqual([[id, 1]]);
    expect(replies[0]!.flags & MORE_TO_COME).toBe(0);
    // A hello whose maxAwaitTimeMS is no number is no awaitable hello either.
    connection.send({ hello: 1, $db: 'admin' });
    const { topologyVersion } = (await connection.next(2000))!.body;
    const hello = connection.send(
      { hello: 1, topologyVersion, maxAwaitTimeMS: '100', $db: 'admin' },
      EXHAUST_ALLOWED,
    );
    const answers = await connection.collect(600);
    expect(answers.map((r) => r.responseTo)).toEqual([hello]);
    expect(answers[0]!.flags & MORE_TO_COME).toBe(0);
    // The same connection still takes commands, and so does the server.
    const next = connection.send({ ping: 1, $db: 'admin' });
    expect((await connection.next(2000))?.responseTo).toBe(next);
    await assertResponsive();
  });

  it('streams an awaitable hello with moreToCome, one reply per maxAwaitTimeMS', async () => {
    const connection = await raw();
    connection.send({ hello: 1, $db: 'admin' });
    const first = await connection.next(2000);
    const { topologyVersion } = first!.body;
    const id = connection.send(
      { hello: 1, topologyVersion, maxAwaitTimeMS: 150, $db: 'admin' },
      EXHAUST_ALLOWED,
    );
    const replies = await connection.collect(1000);
    // About six replies in a second, each waiting for maxAwaitTimeMS; never a burst.
    expect(replies.length).toBeGreaterThanOrEqual(3);
    expect(replies.length).toBeLessThanOrEqual(8);
    for (const reply of replies) {
      expect(reply.responseTo).toBe(id);
      expect(reply.flags & MORE_TO_COME).toBe(MORE_TO_COME);
      expect(reply.body.isWritablePrimary).toBe(true);
    }
  });

  it('ends the hello stream with an error reply when a fail point fails hello, and keeps serving', async () => {
    const connection = await raw();
    connection.send({ hello: 1, client: { application: { name: 'rawStream' } }, $db: 'admin' });
    const { topologyVersion } = (await connection.next(2000))!.body;
    connection.send(
      { hello: 1, topologyVersion, maxAwaitTimeMS: 100, $db: 'admin' },
      EXHAUST_ALLOWED,
    );
    expect((await connection.next(2000))?.body.ok).toBe(1);
    await admin.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['hello'], errorCode: 2, appName: 'rawStream' },
    });
    try {
      const replies = await connection.collect(800);
      const failed = replies.findIndex((r) => r.body.ok === 0);
      expect(failed).toBeGreaterThanOrEqual(0);
      expect(replies[failed]!.body.code).toBe(2);
      expect(replies[failed]!.flags & MORE_TO_COME).toBe(0);
      // Nothing follows the error: the stream is over.
      expect(replies.slice(failed + 1)).toEqual([]);
      await assertResponsive();
    } finally {
      const off = await admin
        .db('admin')
        .command({ configureFailPoint: 'failCommand', mode: 'off' });
      expect(off.count).toBeGreaterThanOrEqual(1);
    }
  });

  it('fails the handshake of a client whose appName a hello fail point names', async () => {
    await admin.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['hello', 'isMaster'], errorCode: 2, appName: 'handshakeFail' },
    });
    const client = new MongoClient(server.uri, {
      appName: 'handshakeFail',
      serverSelectionTimeoutMS: 1500,
      heartbeatFrequencyMS: 500,
    });
    opened.push(client);
    const succeeded: ServerHeartbeatSucceededEvent[] = [];
    const failed: ServerHeartbeatFailedEvent[] = [];
    client.on('serverHeartbeatSucceeded', (event) => succeeded.push(event));
    client.on('serverHeartbeatFailed', (event) => failed.push(event));
    try {
      const error = await client
        .db('admin')
        .command({ ping: 1 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      // The very first hello of every connection failed: no heartbeat ever succeeded.
      expect(succeeded).toEqual([]);
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect((failed[0]!.failure as MongoServerError).code).toBe(2);
      await assertResponsive();
    } finally {
      await admin.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
  });

  it('keeps serving and keeps time while a fail point fails the hellos a monitor streams', async () => {
    const client = new MongoClient(server.uri, {
      appName: 'streamedMonitor',
      heartbeatFrequencyMS: 500,
      serverSelectionTimeoutMS: 5000,
    });
    opened.push(client);
    const failed: ServerHeartbeatFailedEvent[] = [];
    client.on('serverHeartbeatFailed', (event) => failed.push(event));
    await client.db('admin').command({ ping: 1 });
    await admin.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['hello', 'isMaster'], errorCode: 2, appName: 'streamedMonitor' },
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(failed.length).toBeGreaterThanOrEqual(1);
      await assertResponsive();
      // Timers still fire on the server: an awaiting getMore returns after its maxTimeMS.
      const db = admin.db('trib_streaming_hello');
      const stream = await db.command({
        aggregate: 'c',
        pipeline: [{ $changeStream: {} }],
        cursor: {},
      });
      const started = Date.now();
      const more = await within(
        2000,
        db.command({ getMore: stream.cursor.id, collection: 'c', maxTimeMS: 200 }),
        'getMore',
      );
      expect(more.cursor.nextBatch).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      await db.command({ killCursors: 'c', cursors: [stream.cursor.id] });
    } finally {
      const off = await admin
        .db('admin')
        .command({ configureFailPoint: 'failCommand', mode: 'off' });
      expect(off.count).toBeGreaterThanOrEqual(1);
    }
  });
});
