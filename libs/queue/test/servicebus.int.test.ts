import {
  type ServiceBusEmulator,
  type ServiceBusEmulatorOptions,
  startServiceBusEmulator,
} from '@tributary/emulator-servicebus';
import { MESSAGE_ENVELOPE_BYTES } from '../src/servicebus/servicebus-publisher.ts';
import { createServiceBusTransport } from '../src/servicebus/servicebus-transport.ts';
import { spawnDoomedWriter } from './support/doomed-writer.ts';
import { SeverableLink } from './support/severable-link.ts';
import {
  describeTransportConformance,
  type ConformanceHarness,
  type TransportUnderTest,
} from './transport-conformance.ts';

/**
 * The queues' LockDuration, and the lock duration the writers plan with:
 * shorter than the service allows (5 s at least), so takeovers happen within
 * seconds, yet long enough that a hand-over — a few round trips to the
 * registry and one accept each way — clearly beats waiting for a lock to
 * expire on a busy two-core machine.
 */
const LEASE_TTL_MS = 3000;
/** Service Bus Standard's message limit, the emulator's default. */
const MESSAGE_LIMIT = 256 * 1024;

/** Every queue a test names is created on first use, with the settings Tributary requires. */
const EMULATOR_OPTIONS: ServiceBusEmulatorOptions = {
  sharedAccessKey: 'conformance-key',
  autoCreateQueues: {
    requiresSession: true,
    lockDurationMs: LEASE_TTL_MS,
    maxDeliveryCount: 10,
    requiresDuplicateDetection: true,
    duplicateDetectionHistoryTimeWindowMs: 60_000,
    deadLetteringOnMessageExpiration: true,
  },
};

/** Opens a Service Bus transport on `emulator` through a link the test can sever. */
async function openServiceBus(
  emulator: ServiceBusEmulator,
  queueName: string,
  partitionCount: number,
): Promise<TransportUnderTest> {
  const link = await SeverableLink.open({ host: emulator.host, port: emulator.port });
  const transport = createServiceBusTransport({
    connectionString: viaPort(emulator.connectionString, link.port),
    queueName,
    partitionCount,
    leaseTtlMs: LEASE_TTL_MS,
    operationTimeoutMs: 2000,
  });
  return { transport, sever: () => link.sever() };
}

function viaPort(connectionString: string, port: number): string {
  return connectionString.replace(/Endpoint=sb:\/\/([^:;/]+):\d+/, `Endpoint=sb://$1:${port}`);
}

async function makeHarness(): Promise<ConformanceHarness> {
  const emulator = await startServiceBusEmulator(EMULATOR_OPTIONS);
  const opened: TransportUnderTest[] = [];
  return {
    leaseTtlMs: LEASE_TTL_MS,
    maxBatchBytes: MESSAGE_LIMIT - MESSAGE_ENVELOPE_BYTES,
    countsBacklog: false,
    detectsContentsLoss: false,
    async open(namespace, partitionCount) {
      const transport = await openServiceBus(emulator, namespace, partitionCount);
      opened.push(transport);
      return transport;
    },
    async openDisposableBroker() {
      // A broker of its own on a fixed port, so a restart (empty, no data
      // directory: the queue deleted and recreated) is found where it was.
      let broker = await startServiceBusEmulator(EMULATOR_OPTIONS);
      const port = broker.port;
      const start = async () => {
        broker = await startServiceBusEmulator({ ...EMULATOR_OPTIONS, port });
      };
      return {
        open: (namespace, partitionCount) => openServiceBus(broker, namespace, partitionCount),
        wipe: async () => {
          await broker.stop();
          await start();
        },
        stop: () => broker.stop(),
        start,
        close: () => broker.stop(),
      };
    },
    async spawnDoomedWriter(namespace, partitionCount) {
      return spawnDoomedWriter({
        TRANSPORT: 'servicebus',
        SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
        QUEUE_NAME: namespace,
        PARTITION_COUNT: String(partitionCount),
        LEASE_TTL_MS: String(LEASE_TTL_MS),
      });
    },
    async close() {
      for (const transport of opened.splice(0)) await transport.sever();
      await emulator.stop();
    },
  };
}

describeTransportConformance('Service Bus', makeHarness);
