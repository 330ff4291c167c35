import { randomBytes } from 'node:crypto';
import {
  ServiceBusAdministrationClient,
  ServiceBusClient,
  type ServiceBusClientOptions,
} from '@azure/service-bus';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../src/index.ts';
import { formatIsoDuration } from '../../src/config/iso-duration.ts';
import { conformanceQueues, fixedQueueName } from './conformance-entities.ts';

/**
 * Where the conformance suite runs: this emulator by default, or, when
 * `SERVICEBUS_CONNECTION_STRING` is set, a real namespace (with Manage
 * rights: the suite creates uniquely named queues through the administration
 * API and deletes them afterwards) or Microsoft's emulator (the connection
 * string says `UseDevelopmentEmulator=true`; start it with the queues of
 * `microsoftEmulatorConfig()`, which the suite empties before use). Checks
 * that need emulator-only control live in `test/emulator/`, never here.
 */
export const realConnectionString = process.env['SERVICEBUS_CONNECTION_STRING'] || undefined;

/** True when the suite talks to this emulator. */
export const onEmulator = realConnectionString === undefined;

/** True when the target is Microsoft's emulator, whose queues are fixed by its Config.json. */
const onMicrosoftEmulator = /UseDevelopmentEmulator=true/i.test(realConnectionString ?? '');

/** Fast failure against the emulator; a few retries against a real namespace's transient errors. */
export const clientOptions: ServiceBusClientOptions = onEmulator
  ? { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } }
  : { retryOptions: { maxRetries: 2, retryDelayInMs: 500, timeoutInMs: 30_000 } };

/** One test file's target: the queues it asked for and a client. */
export interface ConformanceTarget {
  emulator: ServiceBusEmulator | undefined;
  connectionString: string;
  client: ServiceBusClient;
  /** The actual name of the queue the file called `alias`. */
  queue(alias: string): string;
  /** A client with other options (closed by {@link close}). */
  clientWith(options: ServiceBusClientOptions, connectionString?: string): ServiceBusClient;
  /** Closes clients, deletes created queues, stops the emulator. */
  close(): Promise<void>;
}

/**
 * What one conformance test may take beyond what it waits for on purpose:
 * vitest's default against this emulator; against a real namespace or
 * Microsoft's emulator every operation crosses a network or a slower broker,
 * and receives wait out their `maxWaitTimeInMs` more often.
 */
const OPERATION_BUDGET_MS = onEmulator ? 5_000 : 60_000;

/** A test's timeout: its operations' budget plus `waitsMs` it sleeps on purpose (a lock or duplicate window). */
export function testTimeout(waitsMs = 0): number {
  return OPERATION_BUDGET_MS + waitsMs;
}

/**
 * Opening and closing a target: starting this emulator, or creating (and
 * deleting) queues through the administration API, or emptying Microsoft's
 * emulator's fixed queues (each session queue waits out an accept timeout).
 */
export const SETUP_TIMEOUT_MS = onEmulator ? 10_000 : 120_000;

/**
 * Lock durations the real service accepts start at 5 s; the emulator takes
 * shorter ones, which keeps the lock-expiry tests quick.
 */
export const SHORT_LOCK_MS = conformanceQueues(onEmulator)['settlement']!['short']!.lockDurationMs!;

/** The key the emulator checks tokens against in this suite (no secret). */
const EMULATOR_KEY = 'conformance-suite-key';

/** Empties a fixed queue of Microsoft's emulator (main queue, dead letters, every session). */
async function purge(client: ServiceBusClient, queue: string, sessions: boolean): Promise<void> {
  for (const subQueueType of [undefined, 'deadLetter'] as const) {
    if (sessions && subQueueType === undefined) {
      for (;;) {
        let receiver;
        try {
          receiver = await client.acceptNextSession(queue, { receiveMode: 'receiveAndDelete' });
        } catch {
          break;
        }
        while ((await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 })).length > 0);
        await receiver.setSessionState(null);
        await receiver.close();
      }
      continue;
    }
    const receiver = client.createReceiver(queue, {
      receiveMode: 'receiveAndDelete',
      ...(subQueueType ? { subQueueType } : {}),
    });
    while ((await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 })).length > 0);
    await receiver.close();
  }
}

/** Opens the target with the queues of conformance suite `suite` (see `conformance-entities.ts`). */
export async function openTarget(
  suite: string,
  emulatorOptions: { sharedAccessKey?: string } = {},
): Promise<ConformanceTarget> {
  const queues = conformanceQueues(onEmulator)[suite];
  if (!queues) throw new Error(`no conformance suite '${suite}'`);
  const suffix = randomBytes(4).toString('hex');
  const names = new Map(
    Object.keys(queues).map((alias) => [
      alias,
      onMicrosoftEmulator ? fixedQueueName(suite, alias) : `${alias}-${suffix}`,
    ]),
  );
  const clients: ServiceBusClient[] = [];
  let emulator: ServiceBusEmulator | undefined;
  let admin: ServiceBusAdministrationClient | undefined;
  let connectionString: string;
  if (realConnectionString && onMicrosoftEmulator) {
    connectionString = realConnectionString;
    const cleaner = new ServiceBusClient(connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 2000 },
    });
    try {
      for (const [alias, p] of Object.entries(queues))
        await purge(cleaner, names.get(alias)!, p.requiresSession ?? false);
    } finally {
      await cleaner.close();
    }
  } else if (realConnectionString) {
    connectionString = realConnectionString;
    admin = new ServiceBusAdministrationClient(realConnectionString);
    for (const [alias, p] of Object.entries(queues)) {
      await admin.createQueue(names.get(alias)!, {
        ...(p.lockDurationMs ? { lockDuration: formatIsoDuration(p.lockDurationMs) } : {}),
        ...(p.maxDeliveryCount ? { maxDeliveryCount: p.maxDeliveryCount } : {}),
        ...(p.requiresSession ? { requiresSession: true } : {}),
        ...(p.defaultMessageTimeToLiveMs
          ? { defaultMessageTimeToLive: formatIsoDuration(p.defaultMessageTimeToLiveMs) }
          : {}),
        ...(p.deadLetteringOnMessageExpiration ? { deadLetteringOnMessageExpiration: true } : {}),
        ...(p.requiresDuplicateDetection ? { requiresDuplicateDetection: true } : {}),
        ...(p.duplicateDetectionHistoryTimeWindowMs
          ? {
              duplicateDetectionHistoryTimeWindow: formatIsoDuration(
                p.duplicateDetectionHistoryTimeWindowMs,
              ),
            }
          : {}),
      });
    }
  } else {
    emulator = await startServiceBusEmulator({
      queues: Object.fromEntries(
        Object.entries(queues).map(([alias, p]) => [names.get(alias)!, p]),
      ),
      // The service checks every token, so the emulator does too: each link
      // then needs the claim the SDK asked for, as against a namespace.
      sharedAccessKey: EMULATOR_KEY,
      ...emulatorOptions,
    });
    connectionString = emulator.connectionString;
  }
  const clientWith = (
    options: ServiceBusClientOptions,
    cs = connectionString,
  ): ServiceBusClient => {
    const client = new ServiceBusClient(cs, { ...clientOptions, ...options });
    clients.push(client);
    return client;
  };
  const client = clientWith({});
  return {
    emulator,
    connectionString,
    client,
    queue: (alias) => {
      const name = names.get(alias);
      if (!name) throw new Error(`no queue '${alias}' in this test file`);
      return name;
    },
    clientWith,
    async close() {
      for (const c of clients) await c.close();
      if (admin) {
        for (const name of names.values()) {
          try {
            await admin.deleteQueue(name);
          } catch (error) {
            // Clean-up is best effort: a failed delete must not hide the test's own result.
            console.warn(`could not delete queue ${name}:`, error);
          }
        }
      }
      await emulator?.stop();
    },
  };
}

/** The `ServiceBusError.code` a promise rejects with (fails the test when it resolves). */
export async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}
