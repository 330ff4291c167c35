import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { afterEach, describe, expect, it } from 'vitest';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../src/index.ts';
import { errorCode } from '../support/conformance-target.ts';

describe('entities from configuration', () => {
  const opened: Array<ServiceBusEmulator | ServiceBusClient> = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) {
      if (o instanceof ServiceBusClient) await o.close();
      else await o.stop();
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('serves the queues of a Config.json in Microsoft emulator shape, with their properties', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-config-'));
    dirs.push(dir);
    const file = path.join(dir, 'Config.json');
    writeFileSync(
      file,
      JSON.stringify({
        UserConfig: {
          Namespaces: [
            {
              Name: 'sbemulatorns',
              Queues: [
                {
                  Name: 'orders',
                  Properties: {
                    DeadLetteringOnMessageExpiration: false,
                    DefaultMessageTimeToLive: 'PT1H',
                    DuplicateDetectionHistoryTimeWindow: 'PT20S',
                    ForwardDeadLetteredMessagesTo: '',
                    ForwardTo: '',
                    LockDuration: 'PT30S',
                    MaxDeliveryCount: 3,
                    RequiresDuplicateDetection: true,
                    RequiresSession: true,
                  },
                },
              ],
              Topics: [{ Name: 'events', Properties: {}, Subscriptions: [] }],
            },
          ],
          Logging: { Type: 'File' },
        },
      }),
    );
    const warnings: string[] = [];
    const emulator = await startServiceBusEmulator({
      configFile: file,
      onWarning: (m) => warnings.push(m),
    });
    opened.push(emulator);
    expect(warnings).toEqual(['topics are not emulated and were ignored: events']);
    expect(emulator.inspectQueue('ORDERS')?.properties).toMatchObject({
      lockDurationMs: 30_000,
      maxDeliveryCount: 3,
      requiresSession: true,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindowMs: 20_000,
      defaultMessageTimeToLiveMs: 3_600_000,
    });
    const client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 0 },
    });
    opened.push(client);
    await client.createSender('orders').sendMessages({ body: 'x', sessionId: 's', messageId: 'm' });
    await client
      .createSender('orders')
      .sendMessages({ body: 'dup', sessionId: 's', messageId: 'm' });
    const receiver = await client.acceptSession('orders', 's');
    const got = await receiver.receiveMessages(5, { maxWaitTimeInMs: 500 });
    expect(got.map((m) => m.body)).toEqual(['x']);
    expect(got[0]!.lockedUntilUtc!.getTime() - Date.now()).toBeLessThanOrEqual(30_000);
    expect(await errorCode(client.createSender('events').sendMessages({ body: 1 }))).toBe(
      'MessagingEntityNotFound',
    );
  });

  it('keeps a queue’s name as configured, serves it under any case, and ignores documented properties it does not model', async () => {
    const warnings: string[] = [];
    const emulator = await startServiceBusEmulator({
      config: {
        UserConfig: {
          Namespaces: [
            {
              Name: 'sbemulatorns',
              Queues: [
                {
                  Name: 'Orders',
                  Properties: { MaxDeliveryCount: 3, EnablePartitioning: true, Status: 'Active' },
                },
              ],
            },
          ],
        },
      },
      onWarning: (m) => warnings.push(m),
    });
    opened.push(emulator);
    expect(warnings).toEqual([
      'UserConfig.Namespaces[0].Queues[0].Properties: not emulated, ignored: EnablePartitioning, Status',
    ]);
    expect(emulator.inspectQueue('orders')?.name).toBe('Orders');
    const listed = (await (
      await fetch(`http://127.0.0.1:${emulator.port}/_emulator/queues`)
    ).json()) as Array<{ name: string }>;
    expect(listed.map((q) => q.name)).toEqual(['Orders']);
    const client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 0 },
    });
    opened.push(client);
    await client.createSender('ORDERS').sendMessages({ body: 'any case' });
    const [m] = await client
      .createReceiver('orders', { receiveMode: 'receiveAndDelete' })
      .receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(m?.body).toBe('any case');
  });

  it('refuses to start with a bad configuration, naming the problem', async () => {
    await expect(
      startServiceBusEmulator({
        config: {
          UserConfig: {
            Namespaces: [{ Queues: [{ Name: 'q', Properties: { LockDuration: 'soon' } }] }],
          },
        },
      }),
    ).rejects.toThrow(/Queues\[0\]\.Properties\.LockDuration: expected an ISO 8601 duration/);
    await expect(startServiceBusEmulator({ configFile: '/no/such/Config.json' })).rejects.toThrow(
      /cannot read/,
    );
  });

  it('creates unknown queues on first use when asked to, with the given defaults', async () => {
    const emulator = await startServiceBusEmulator({ autoCreateQueues: { maxDeliveryCount: 1 } });
    opened.push(emulator);
    const client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 0 },
    });
    opened.push(client);
    expect(emulator.inspectQueue('fresh')).toBeUndefined();
    await client.createSender('fresh').sendMessages({ body: 'first use' });
    expect(emulator.inspectQueue('fresh')?.properties.maxDeliveryCount).toBe(1);
    const receiver = client.createReceiver('fresh');
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.abandonMessage(m!);
    expect(emulator.inspectQueue('fresh')?.counts).toMatchObject({ active: 0, deadLetter: 1 });
  });

  it('answers MessagingEntityNotFound for unknown queues without auto-creation', async () => {
    const emulator = await startServiceBusEmulator({ queues: { known: {} } });
    opened.push(emulator);
    const client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 0 },
    });
    opened.push(client);
    expect(await errorCode(client.createSender('unknown').sendMessages({ body: 1 }))).toBe(
      'MessagingEntityNotFound',
    );
    expect(emulator.inspectQueue('unknown')).toBeUndefined();
  });
});
