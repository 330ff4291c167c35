import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Long, type Document } from 'mongodb';
import {
  openTarget,
  AGAINST_REAL_SERVER,
  type ConformanceTarget,
} from './support/conformance-target.ts';
import { rawCommand, rawLegacyHello, sendRaw } from './support/raw-wire.ts';

describe('wire protocol and replica-set topology', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('connects with ?replicaSet=rs0 and reports itself as the writable primary of rs0', async () => {
    const hello = await target.client.db('admin').command({ hello: 1 });
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.setName).toBe('rs0');
    expect(hello.hosts).toContain(hello.me);
    expect(hello.primary).toBe(hello.me);
    expect(hello.logicalSessionTimeoutMinutes).toBeGreaterThan(0);
    expect(hello.topologyVersion.processId).toBeDefined();
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(17);
    expect(hello.minWireVersion).toBe(0);
  });

  it('answers the legacy isMaster with ismaster: true', async () => {
    const reply = await target.client.db('admin').command({ isMaster: 1 });
    expect(reply.ismaster).toBe(true);
    expect(reply.setName).toBe('rs0');
  });

  it('answers ping, buildInfo and endSessions', async () => {
    const admin = target.client.db('admin');
    expect((await admin.command({ ping: 1 })).ok).toBe(1);
    const info = await admin.command({ buildInfo: 1 });
    expect(info.versionArray[0]).toBeGreaterThanOrEqual(7);
    const session = target.client.startSession();
    await target.db('wire').collection('c').findOne({}, { session });
    await session.endSession();
    const ended = await admin.command({ endSessions: [session.id] });
    expect(ended.ok).toBe(1);
  });

  it('gossips $clusterTime and operationTime on every reply', async () => {
    const reply = await target.db('wire').command({ ping: 1 });
    expect(reply.operationTime).toBeDefined();
    expect(reply.$clusterTime.clusterTime).toBeDefined();
  });

  it('kills cursors with killCursors and reports which it found', async () => {
    const coll = target.db('wire').collection('cursors');
    await coll.insertMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    const first = await target.db('wire').command({ find: 'cursors', batchSize: 2 });
    const id = first.cursor.id as Long;
    expect(id.isZero()).toBe(false);
    const killed = await target
      .db('wire')
      .command({ killCursors: 'cursors', cursors: [id, Long.fromNumber(12345)] });
    expect(killed.cursorsKilled.map(String)).toEqual([id.toString()]);
    expect(killed.cursorsNotFound.map(String)).toEqual(['12345']);
  });

  it('accepts OP_MSG with a checksum and a document sequence', async () => {
    const db = target.dbName('wire');
    const reply = await rawCommand(
      target.uri,
      { insert: 'seq', $db: db },
      { checksum: true, sequence: { name: 'documents', docs: [{ _id: 1 }, { _id: 2 }] } },
    );
    expect(reply).toMatchObject({ ok: 1, n: 2 });
    expect(await target.client.db(db).collection('seq').countDocuments()).toBe(2);
  });

  it('answers a legacy OP_QUERY hello handshake with OP_REPLY', async () => {
    const reply = await rawLegacyHello(target.uri);
    expect(reply.ismaster).toBe(true);
    expect(reply.setName).toBe('rs0');
  });

  it('rejects an OP_MSG whose checksum does not match', async () => {
    const reply = await rawCommand(
      target.uri,
      { ping: 1, $db: 'admin' },
      { checksum: true, corruptChecksum: true },
    );
    expect(reply === undefined || reply.ok === 0).toBe(true);
  });

  it.skipIf(AGAINST_REAL_SERVER)(
    'closes the connection on a message with an impossible length',
    async () => {
      const header = Buffer.alloc(16);
      header.writeInt32LE(8, 0);
      const result = await sendRaw(target.uri, header);
      expect(result.closed).toBe(true);
    },
  );

  it('returns InvalidBSON (22) for a malformed body and keeps serving', async () => {
    const reply = await rawCommand(target.uri, { ping: 1, $db: 'admin' }, { corruptBody: true });
    expect(reply?.ok).toBe(0);
    expect((reply as Document).code).toBe(22);
    expect((await target.client.db('admin').command({ ping: 1 })).ok).toBe(1);
  });
});
