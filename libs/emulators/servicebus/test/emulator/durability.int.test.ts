import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { afterEach, describe, expect, it } from 'vitest';
import { startServiceBusEmulator } from '../../src/index.ts';
import { startEmulatorProcess, type EmulatorProcess } from '../support/emulator-process.ts';

const clientOptions = { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } };

async function drain(connectionString: string, queue: string): Promise<string[]> {
  const client = new ServiceBusClient(connectionString, clientOptions);
  try {
    const receiver = client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const ids: string[] = [];
    for (;;) {
      const got = await receiver.receiveMessages(500, { maxWaitTimeInMs: 500 });
      if (got.length === 0) return ids;
      ids.push(...got.map((m) => String(m.messageId)));
    }
  } finally {
    await client.close();
  }
}

describe('durability in a data directory', () => {
  const dirs: string[] = [];
  const processes: EmulatorProcess[] = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const newDir = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'sb-durable-'));
    dirs.push(d);
    return d;
  };

  it('keeps a scheduled message’s new sequence number across a restart once it became active', async () => {
    const dataDir = newDir();
    const queues = { timed: {} };
    let emulator = await startServiceBusEmulator({ dataDir, queues, port: 0 });
    let client = new ServiceBusClient(emulator.connectionString, clientOptions);
    const sender = client.createSender('timed');
    const [scheduledAs] = await sender.scheduleMessages(
      { body: 'scheduled', messageId: 'scheduled' },
      new Date(Date.now() + 300),
    );
    await sender.sendMessages({ body: 'waiting', messageId: 'waiting' });
    // Wait for the activation itself, not a guess at how long it takes on a busy machine.
    const deadline = Date.now() + 5000;
    while (emulator.inspectQueue('timed')!.counts.scheduled > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(emulator.inspectQueue('timed')?.counts).toMatchObject({ active: 2, scheduled: 0 });
    await client.close();
    await emulator.stop();

    emulator = await startServiceBusEmulator({ dataDir, queues, port: 0 });
    client = new ServiceBusClient(emulator.connectionString, clientOptions);
    try {
      const peeked = await client.createReceiver('timed').peekMessages(10);
      expect(peeked.map((m) => m.body)).toEqual(['waiting', 'scheduled']);
      expect(peeked[1]!.sequenceNumber!.toNumber()).toBeGreaterThan(
        peeked[0]!.sequenceNumber!.toNumber(),
      );
      expect(peeked[1]!.sequenceNumber!.toNumber()).not.toBe(scheduledAs!.toNumber());
    } finally {
      await client.close();
      await emulator.stop();
    }
  });

  it('keeps messages, settlements, dead letters, deferrals and session state across a restart', async () => {
    const dataDir = newDir();
    const queues = { work: {}, sessions: { requiresSession: true } };
    let emulator = await startServiceBusEmulator({ dataDir, queues, port: 0 });
    let client = new ServiceBusClient(emulator.connectionString, clientOptions);
    await client
      .createSender('work')
      .sendMessages(['done', 'kept', 'dead', 'deferred'].map((b) => ({ body: b, messageId: b })));
    const receiver = client.createReceiver('work', { maxAutoLockRenewalDurationInMs: 0 });
    const got = await receiver.receiveMessages(4, { maxWaitTimeInMs: 5000 });
    const byBody = new Map(got.map((m) => [m.body as string, m]));
    await receiver.completeMessage(byBody.get('done')!);
    await receiver.abandonMessage(byBody.get('kept')!);
    await receiver.deadLetterMessage(byBody.get('dead')!, {
      deadLetterReason: 'why',
      deadLetterErrorDescription: 'because',
    });
    await receiver.deferMessage(byBody.get('deferred')!);
    const deferredSeq = byBody.get('deferred')!.sequenceNumber!;
    await client.createSender('sessions').sendMessages({ body: 's', sessionId: 'a' });
    const session = await client.acceptSession('sessions', 'a');
    await session.setSessionState('remembered');
    await session.close();
    await client.close();
    await emulator.stop();

    emulator = await startServiceBusEmulator({ dataDir, queues, port: 0 });
    client = new ServiceBusClient(emulator.connectionString, clientOptions);
    try {
      const again = client.createReceiver('work');
      const [kept] = await again.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect([kept?.body, kept?.deliveryCount]).toEqual(['kept', 1]);
      // The deferred message stays deferred: nothing else is there to receive.
      expect(await again.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
      await again.completeMessage(kept!);
      const [deferred] = await again.receiveDeferredMessages(deferredSeq);
      expect(deferred?.body).toBe('deferred');
      await again.completeMessage(deferred!);
      const [dead] = await client
        .createReceiver('work', { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' })
        .receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect([dead?.body, dead?.deadLetterReason, dead?.deadLetterErrorDescription]).toEqual([
        'dead',
        'why',
        'because',
      ]);
      const s = await client.acceptSession('sessions', 'a');
      expect(await s.getSessionState()).toBe('remembered');
      expect((await s.receiveMessages(1, { maxWaitTimeInMs: 5000 }))[0]?.body).toBe('s');
      // Sequence numbers go on where they stopped.
      await client.createSender('work').sendMessages({ body: 'new' });
      const [fresh] = await again.peekMessages(1);
      expect(fresh!.sequenceNumber!.toNumber()).toBeGreaterThan(deferredSeq.toNumber());
    } finally {
      await client.close();
      await emulator.stop();
    }
  });

  it('loses no acknowledged message when the process is killed mid-traffic (SIGKILL)', async () => {
    const dataDir = newDir();
    const args = ['--port', '0', '--queue', 'load', '--data-dir', dataDir];
    const first = await startEmulatorProcess(args);
    processes.push(first);
    const client = new ServiceBusClient(first.connectionString, clientOptions);
    const sender = client.createSender('load');
    const acknowledged: string[] = [];
    let sent = 0;
    let stop = false;
    const sending = (async () => {
      while (!stop) {
        const batch = await sender.createMessageBatch();
        for (let i = 0; i < 50; i++)
          batch.tryAddMessage({ body: 'x'.repeat(200), messageId: `m-${sent + i}` });
        const ids = Array.from({ length: 50 }, (_, i) => `m-${sent + i}`);
        sent += 50;
        await sender.sendMessages(batch);
        acknowledged.push(...ids);
      }
      // The send in flight when the process dies fails; it was never acknowledged, which is the point.
    })().catch(() => undefined);
    while (acknowledged.length < 2000) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await first.exited;
    stop = true;
    // The send in flight when the process died waits for its answer until the
    // SDK's timeout; it counts as unacknowledged, so there is no need to wait.
    await Promise.race([sending, new Promise((r) => setTimeout(r, 200))]);
    // The client's connection died with the process; closing it may report that.
    const closing = client.close().catch(() => undefined);

    const second = await startEmulatorProcess([
      '--port',
      '0',
      '--queue',
      'load',
      '--data-dir',
      dataDir,
    ]);
    processes.push(second);
    const received = await drain(second.connectionString, 'load');
    const missing = acknowledged.filter((id) => !received.includes(id));
    expect(missing).toEqual([]);
    expect(new Set(received).size).toBe(received.length);
    expect(received.length).toBeLessThanOrEqual(sent);
    await closing;
  }, 60_000);
});
