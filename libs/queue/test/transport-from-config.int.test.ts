import { TRANSPORT_MESSAGE_LIMITS, loadWriterConfig } from '@tributary/core';
import { type ServiceBusEmulator, startServiceBusEmulator } from '@tributary/emulator-servicebus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransportFromConfig } from '../src/index.ts';

/** The message limit of a Standard-tier queue, which the emulator's queue keeps. */
const STANDARD_MESSAGE_LIMIT = 256 * 1024;

describe('the transport the configuration names', () => {
  let emulator: ServiceBusEmulator;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator({
      sharedAccessKey: 'factory-test-key',
      queues: {
        'tributary-changes': {
          requiresSession: true,
          lockDurationMs: 5_000,
          requiresDuplicateDetection: true,
          deadLetteringOnMessageExpiration: true,
        },
      },
    });
  });
  afterAll(() => emulator?.stop());

  it('opens Service Bus from a connection string and learns the queue’s message limit once ready', async () => {
    const config = loadWriterConfig({
      TRIBUTARY_TRANSPORT: 'servicebus',
      SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
      TRIBUTARY_PARTITION_COUNT: '4',
      TRIBUTARY_LEASE_TTL_MS: '5000',
    });
    const transport = createTransportFromConfig(config);
    try {
      expect(transport.partitionCount).toBe(4);
      const publisher = transport.publisher();
      await publisher.ready();
      // The queue's own limit wins over the transport's ceiling (Premium's 100 MiB).
      expect(TRANSPORT_MESSAGE_LIMITS.servicebus).toBeGreaterThan(STANDARD_MESSAGE_LIMIT);
      expect(publisher.maxBatchBytes).toBeLessThanOrEqual(STANDARD_MESSAGE_LIMIT);
      expect(publisher.maxBatchBytes).toBeGreaterThan(STANDARD_MESSAGE_LIMIT / 2);
      await publisher.ready(); // idempotent
    } finally {
      await transport.close();
    }
  });

  it('authenticates with Azure identity when only the namespace is given, contacting nothing until used', async () => {
    const config = loadWriterConfig({
      TRIBUTARY_TRANSPORT: 'servicebus',
      SERVICEBUS_NAMESPACE: 'tributary-test.servicebus.windows.net',
    });
    const transport = createTransportFromConfig(config);
    expect(transport.partitionCount).toBe(config.partitionCount);
    await transport.close();
  });
});
