import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  CommandFailedEvent,
  CommandSucceededEvent,
  Document,
  MongoClient,
  MongoServerError,
} from 'mongodb';
import { openTarget, type ConformanceTarget } from './support/conformance-target.ts';

/** Replies (or failures) of the named command, in order, as the driver saw them on the wire. */
function recordReplies(client: MongoClient, commandName: string): Document[] {
  const replies: Document[] = [];
  client.on('commandSucceeded', (event: CommandSucceededEvent) => {
    if (event.commandName === commandName) replies.push(event.reply as Document);
  });
  client.on('commandFailed', (event: CommandFailedEvent) => {
    if (event.commandName === commandName) {
      const failure = event.failure as MongoServerError;
      replies.push({ ok: 0, code: failure.code, errorLabels: failure.errorLabels });
    }
  });
  return replies;
}

describe('error labels of transactions and retryable writes', () => {
  let target: ConformanceTarget;
  let client: MongoClient;
  beforeAll(async () => {
    target = await openTarget();
    client = await target.newClient({ monitorCommands: true });
  });
  afterEach(async () => {
    await target.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
  });
  afterAll(async () => {
    await target.close();
  });

  async function failCommand(data: Document): Promise<void> {
    await target.client
      .db('admin')
      .command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data });
  }

  /** Runs one insert of `doc` in a transaction and commits it (the driver retries the commit if told to). */
  async function commitOneInsert(label: string, doc: { _id: number }): Promise<unknown> {
    const coll = client.db(target.dbName(label)).collection<{ _id: number }>('c');
    const session = client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne(doc, { session });
      return await session.commitTransaction().catch((e: unknown) => e);
    } finally {
      await session.endSession();
    }
  }

  it("keeps failCommand's errorLabels on a reply that has only a writeConcernError, so the driver retries the commit", async () => {
    const replies = recordReplies(client, 'commitTransaction');
    await failCommand({
      failCommands: ['commitTransaction'],
      writeConcernError: { code: 91, errmsg: 'Replication is being shut down' },
      errorLabels: ['RetryableWriteError'],
    });
    expect(await commitOneInsert('labels_wce_given', { _id: 1 })).toBeUndefined();
    expect(replies[0]).toMatchObject({
      ok: 1,
      writeConcernError: { code: 91 },
      errorLabels: ['RetryableWriteError'],
    });
    expect(replies).toHaveLength(2);
    expect(replies[1]?.writeConcernError).toBeUndefined();
    const committed = target.client
      .db(target.dbName('labels_wce_given'))
      .collection<{ _id: number }>('c');
    expect(await committed.find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('labels a commit whose write-concern error is retriable RetryableWriteError when failCommand names no labels', async () => {
    const replies = recordReplies(client, 'commitTransaction');
    await failCommand({
      failCommands: ['commitTransaction'],
      writeConcernError: { code: 91, errmsg: 'Replication is being shut down' },
    });
    expect(await commitOneInsert('labels_wce_server', { _id: 1 })).toBeUndefined();
    expect(replies.map((reply) => reply.errorLabels)).toEqual([['RetryableWriteError'], undefined]);
  });

  it('labels a retryable write whose write-concern error is retriable, and answers the retry without it', async () => {
    const replies = recordReplies(client, 'insert');
    await failCommand({
      failCommands: ['insert'],
      writeConcernError: { code: 11600, errmsg: 'Interrupted at shutdown' },
    });
    const coll = client.db(target.dbName('labels_wce_write')).collection<{ _id: number }>('c');
    await coll.insertOne({ _id: 1 });
    expect(replies.map((reply) => [reply.errorLabels, reply.writeConcernError?.code])).toEqual([
      [['RetryableWriteError'], 11600],
      [undefined, undefined],
    ]);
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
  });

  it('labels NotWritablePrimary inside a transaction TransientTransactionError, not RetryableWriteError', async () => {
    const coll = client.db(target.dbName('labels_txn_notprimary')).collection<{ _id: number }>('c');
    const session = client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: 0 }, { session });
      await failCommand({ failCommands: ['insert'], errorCode: 10107 });
      const error = (await coll
        .insertOne({ _id: 1 }, { session })
        .catch((e: unknown) => e)) as MongoServerError;
      expect([error.code, error.errorLabels]).toEqual([10107, ['TransientTransactionError']]);
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
  });

  it('labels NoSuchTransaction on commit TransientTransactionError', async () => {
    await failCommand({ failCommands: ['commitTransaction'], errorCode: 251 });
    const error = (await commitOneInsert('labels_commit_251', { _id: 1 })) as MongoServerError;
    expect([error.code, error.errorLabels]).toEqual([251, ['TransientTransactionError']]);
  });

  it('labels a retriable error on commit RetryableWriteError, not transient, so the driver retries only the commit', async () => {
    const replies = recordReplies(client, 'commitTransaction');
    await failCommand({ failCommands: ['commitTransaction'], errorCode: 10107 });
    expect(await commitOneInsert('labels_commit_retry', { _id: 1 })).toBeUndefined();
    expect(replies.map((reply) => [reply.ok, reply.errorLabels])).toEqual([
      [0, ['RetryableWriteError']],
      [1, undefined],
    ]);
  });
});
