import { createHmac, randomBytes } from 'node:crypto';
import rhea from 'rhea';
import { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_MESSAGE_FORMAT } from '../../src/amqp/batch-envelope.ts';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../src/index.ts';
import { errorCode } from '../support/conformance-target.ts';
import { rawClient, rawExchange } from '../support/raw-amqp.ts';

const AMQP_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x00, 0x01, 0x00, 0x00]);

describe('bad input', () => {
  let emulator: ServiceBusEmulator;
  let client: ServiceBusClient;
  const internalErrors: unknown[] = [];

  beforeAll(async () => {
    emulator = await startServiceBusEmulator({
      queues: { q: {}, sessions: { requiresSession: true } },
      onInternalError: (e) => internalErrors.push(e),
    });
    client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
    });
  });
  afterAll(async () => {
    // Whatever came before, the emulator still serves, and nothing was its own fault.
    await client.createSender('q').sendMessages({ body: 'still here' });
    const [m] = await client
      .createReceiver('q', { receiveMode: 'receiveAndDelete' })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(m?.body).toBe('still here');
    expect(internalErrors).toEqual([]);
    await client.close();
    await emulator.stop();
  });

  it('answers bytes that are neither AMQP nor HTTP with HTTP 400 and closes', async () => {
    const { data, closedByServer } = await rawExchange(
      emulator.port,
      Buffer.from('\x16\x03\x01 not a protocol\r\n\r\n'),
    );
    expect(data.toString()).toMatch(/^HTTP\/1\.1 400/);
    expect(closedByServer).toBe(true);
  });

  it('closes a connection that sends garbage after the AMQP header', async () => {
    const { closedByServer } = await rawExchange(
      emulator.port,
      Buffer.concat([AMQP_HEADER, randomBytes(64)]),
    );
    expect(closedByServer).toBe(true);
  });

  it('closes a connection that announces a frame larger than 1 MiB, without waiting for it', async () => {
    const frame = Buffer.alloc(8);
    frame.writeUInt32BE(0x7fffffff, 0);
    const { closedByServer } = await rawExchange(
      emulator.port,
      Buffer.concat([AMQP_HEADER, frame, Buffer.alloc(1024)]),
    );
    expect(closedByServer).toBe(true);
  });

  it('rejects an undecodable message with amqp:decode-error and keeps the link', async () => {
    const raw = await rawClient(emulator.port);
    try {
      const sender = await raw.sender('q');
      expect(await raw.sendRaw(sender, Buffer.from([0x00, 0x53, 0x77, 0x3f]))).toEqual({
        outcome: 'rejected',
        condition: 'amqp:decode-error',
      });
      expect(await raw.sendRaw(sender, Buffer.from([0xff, 0xff, 0xff]))).toEqual({
        outcome: 'rejected',
        condition: 'amqp:decode-error',
      });
      const emptyBatch = rhea.message.encode({ body: 'no data sections' });
      expect(await raw.sendRaw(sender, emptyBatch, BATCH_MESSAGE_FORMAT)).toEqual({
        outcome: 'rejected',
        condition: 'amqp:decode-error',
      });
      expect(await raw.sendRaw(sender, rhea.message.encode({ body: 'fine' }))).toEqual({
        outcome: 'accepted',
      });
      expect(await raw.sendRaw(sender, Buffer.from('x'), 12345)).toEqual({
        outcome: 'rejected',
        condition: 'amqp:not-implemented',
      });
    } finally {
      await raw.close();
    }
    const [fine] = await client
      .createReceiver('q', { receiveMode: 'receiveAndDelete' })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(fine?.body).toBe('fine');
  });

  it('rejects a batch larger than the queue allows with amqp:link:message-size-exceeded', async () => {
    const raw = await rawClient(emulator.port);
    try {
      const sender = await raw.sender('q');
      const inner = Array.from({ length: 3 }, () =>
        rhea.message.encode({ body: rhea.message.data_section(Buffer.alloc(100 * 1024)) }),
      );
      const batch = rhea.message.encode({ body: rhea.message.data_sections(inner) });
      expect(await raw.sendRaw(sender, batch, BATCH_MESSAGE_FORMAT)).toEqual({
        outcome: 'rejected',
        condition: 'amqp:link:message-size-exceeded',
      });
    } finally {
      await raw.close();
    }
    expect(emulator.inspectQueue('q')?.counts.active).toBe(0);
  });

  it('refuses attaching to unknown or malformed addresses with amqp:not-found', async () => {
    const raw = await rawClient(emulator.port);
    try {
      for (const address of [
        'nope',
        '',
        'q/$DeadLetterQueue/$DeadLetterQueue',
        '../../etc/passwd',
        'q/$management/extra',
      ])
        await expect(raw.sender(address)).rejects.toMatchObject({ condition: 'amqp:not-found' });
      await expect(raw.sender('q/$DeadLetterQueue')).rejects.toMatchObject({
        condition: 'amqp:not-allowed',
      });
    } finally {
      await raw.close();
    }
  });

  it('answers malformed management requests with the service status codes and keeps the node', async () => {
    const raw = await rawClient(emulator.port);
    try {
      const request = await raw.management('q');
      const status = (answer: Record<string, unknown>) =>
        (answer['application_properties'] as Record<string, unknown>)['statusCode'];
      const condition = (answer: Record<string, unknown>) =>
        (answer['application_properties'] as Record<string, unknown>)['errorCondition'];
      const notAMap = await request({
        application_properties: { operation: 'com.microsoft:peek-message' },
        body: 'not a map',
      });
      expect([status(notAMap), condition(notAMap)]).toEqual([400, 'com.microsoft:argument-error']);
      const wrongType = await request({
        application_properties: { operation: 'com.microsoft:peek-message' },
        body: { 'from-sequence-number': 'one', 'message-count': 1 },
      });
      expect(status(wrongType)).toBe(400);
      const unknown = await request({
        application_properties: { operation: 'com.microsoft:launch' },
        body: {},
      });
      expect([status(unknown), condition(unknown)]).toEqual([501, 'amqp:not-implemented']);
      const noOperation = await request({ body: {} });
      expect(status(noOperation)).toBe(501);
      const lockTokens = rhea.types.wrap_array([randomBytes(16)], 0x98, undefined);
      const unknownLock = await request({
        application_properties: { operation: 'com.microsoft:update-disposition' },
        body: { 'disposition-status': 'completed', 'lock-tokens': lockTokens },
      });
      expect([status(unknownLock), condition(unknownLock)]).toEqual([
        410,
        'com.microsoft:message-lock-lost',
      ]);
      const renewUnknown = await request({
        application_properties: { operation: 'com.microsoft:renew-lock' },
        body: { 'lock-tokens': lockTokens },
      });
      expect(status(renewUnknown)).toBe(410);
      const badStatus = await request({
        application_properties: { operation: 'com.microsoft:update-disposition' },
        body: { 'disposition-status': 'vaporised', 'lock-tokens': lockTokens },
      });
      expect(status(badStatus)).toBe(400);
      const empty = await request({
        application_properties: { operation: 'com.microsoft:peek-message' },
        body: {
          'from-sequence-number': rhea.types.wrap_long(1),
          'message-count': rhea.types.wrap_int(1),
        },
      });
      expect(status(empty)).toBe(204);
      const sessionOnPlain = await request({
        application_properties: { operation: 'com.microsoft:get-session-state' },
        body: { 'session-id': 'x' },
      });
      expect(status(sessionOnPlain)).toBe(400);
    } finally {
      await raw.close();
    }
  });

  it('answers an undecodable or oversized scheduled message as a send is answered, not as an internal error', async () => {
    const raw = await rawClient(emulator.port);
    try {
      const request = await raw.management('q');
      const answerOf = (answer: Record<string, unknown>) => {
        const props = answer['application_properties'] as Record<string, unknown>;
        return [props['statusCode'], props['errorCondition']];
      };
      const schedule = (message: Buffer) =>
        request({
          application_properties: { operation: 'com.microsoft:schedule-message' },
          body: { messages: [rhea.types.wrap_map({ message, 'message-id': 'm' })] },
        });
      const before = internalErrors.length;
      expect(answerOf(await schedule(Buffer.from([0x00, 0x53, 0x77, 0xff])))).toEqual([
        400,
        'amqp:decode-error',
      ]);
      const big = rhea.message.encode({
        body: Buffer.alloc(300 * 1024),
        message_annotations: { 'x-opt-scheduled-enqueue-time': new Date(Date.now() + 60_000) },
      });
      expect(answerOf(await schedule(big))).toEqual([403, 'amqp:link:message-size-exceeded']);
      expect(internalErrors.length).toBe(before);
      expect(emulator.inspectQueue('q')?.counts.scheduled).toBe(0);
    } finally {
      await raw.close();
    }
  });

  it('lists sessions and guards session operations to the session’s holder', async () => {
    await client.createSender('sessions').sendMessages([
      { body: 1, sessionId: 'listed-a' },
      { body: 2, sessionId: 'listed-b' },
    ]);
    const raw = await rawClient(emulator.port);
    try {
      const request = await raw.management('sessions');
      const listed = await request({
        application_properties: { operation: 'com.microsoft:get-message-sessions' },
        body: {
          'last-updated-time': new Date(0),
          skip: rhea.types.wrap_int(0),
          top: rhea.types.wrap_int(10),
        },
      });
      expect((listed['application_properties'] as Record<string, unknown>)['statusCode']).toBe(200);
      expect(
        ((listed['body'] as Record<string, unknown>)['sessions-ids'] as string[]).sort(),
      ).toEqual(['listed-a', 'listed-b']);
      // This raw connection holds no session: its state and renewal are refused.
      for (const operation of [
        'com.microsoft:get-session-state',
        'com.microsoft:renew-session-lock',
      ]) {
        const answer = await request({
          application_properties: { operation },
          body: { 'session-id': 'listed-a' },
        });
        expect(
          (answer['application_properties'] as Record<string, unknown>)['errorCondition'],
        ).toBe('com.microsoft:session-lock-lost');
      }
    } finally {
      await raw.close();
    }
    for (const id of ['listed-a', 'listed-b']) {
      const r = await client.acceptSession('sessions', id, { receiveMode: 'receiveAndDelete' });
      await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      await r.close();
    }
  });

  it('refuses a second receiver on a locked session, and a session receiver on a queue without sessions', async () => {
    const first = await client.acceptSession('sessions', 'taken');
    expect(await errorCode(client.acceptSession('sessions', 'taken'))).toBe(
      'SessionCannotBeLocked',
    );
    // amqp:not-allowed on the wire; the SDK reports a session receiver it did not get as SessionCannotBeLocked.
    expect(await errorCode(client.acceptSession('q', 'x'))).toBe('SessionCannotBeLocked');
    await first.close();
    const again = await client.acceptSession('sessions', 'taken');
    await again.close();
  });

  it('refuses a non-session receiver on a session queue', async () => {
    const receiver = client.createReceiver('sessions');
    expect(await errorCode(receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 }))).toBe(
      'GeneralError',
    );
  });
});

describe('credentials', () => {
  const KEY = 'the-configured-key';
  let emulator: ServiceBusEmulator;
  const clients: ServiceBusClient[] = [];
  const connect = (connectionString: string) => {
    const c = new ServiceBusClient(connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    emulator = await startServiceBusEmulator({
      queues: { q: {}, other: {} },
      sharedAccessKey: KEY,
      sharedAccessKeyName: 'app',
    });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await emulator.stop();
  });

  function sasToken(audience: string, expirySeconds: number, key = KEY): string {
    const sr = encodeURIComponent(audience);
    const sig = encodeURIComponent(
      createHmac('sha256', key).update(`${sr}\n${expirySeconds}`).digest('base64'),
    );
    return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expirySeconds}&skn=app`;
  }

  it('lets in the configured key and refuses another one with UnauthorizedAccess, without echoing secrets', async () => {
    await connect(emulator.connectionString).createSender('q').sendMessages({ body: 'ok' });
    const wrong = emulator.connectionString.replace(KEY, 'not-the-key');
    let message = '';
    try {
      await connect(wrong).createSender('q').sendMessages({ body: 'no' });
    } catch (error) {
      expect((error as { code?: string }).code).toBe('UnauthorizedAccess');
      message = (error as Error).message;
    }
    expect(message).toMatch(/InvalidSignature/);
    expect(message).not.toContain('not-the-key');
    expect(message).not.toContain(KEY);
  });

  it('refuses an expired token and a token for another entity', async () => {
    const endpoint = `sb://127.0.0.1:${emulator.port}`;
    const expired = sasToken(`${endpoint}/q`, Math.floor(Date.now() / 1000) - 60);
    expect(
      await errorCode(
        connect(
          `Endpoint=${endpoint}/;SharedAccessSignature=${expired};UseDevelopmentEmulator=true`,
        )
          .createSender('q')
          .sendMessages({ body: 1 }),
      ),
    ).toBe('UnauthorizedAccess');
    const forOther = sasToken(`${endpoint}/other`, Math.floor(Date.now() / 1000) + 600);
    const scoped = connect(
      `Endpoint=${endpoint}/;SharedAccessSignature=${forOther};UseDevelopmentEmulator=true`,
    );
    expect(await errorCode(scoped.createSender('q').sendMessages({ body: 1 }))).toBe(
      'UnauthorizedAccess',
    );
    await scoped
      .createSender('other')
      .sendMessages({ body: 'scoped token works for its own entity' });
  });

  it('detaches a link attached without a token with amqp:unauthorized-access', async () => {
    const raw = await rawClient(emulator.port);
    try {
      await expect(raw.sender('q')).rejects.toMatchObject({
        condition: 'amqp:unauthorized-access',
      });
    } finally {
      await raw.close();
    }
  });
});
