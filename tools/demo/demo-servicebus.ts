import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, startServiceBusEmulator } from '@tributary/emulator-servicebus';

/** The local stack's queue definition, which the demo's emulator copies. */
const STACK_CONFIG = fileURLToPath(new URL('../../deploy/servicebus/Config.json', import.meta.url));

/**
 * The demo's lock duration: the service's minimum (5 s; the stack's queue
 * says 30 s). A writer renews its session locks well within it, so the demo
 * exercises renewal all the time instead of once a minute, and a partition
 * whose writer died without closing its session moves within seconds. Stop
 * and hand-over never wait for it: both close the session, which releases it
 * at once.
 */
const DEMO_LOCK_DURATION_MS = 5_000;

/** The Service Bus the demo uses, and how to let go of it. */
export interface DemoServiceBus {
  /** Settings for capture and writers: the connection, and the queue. */
  readonly env: Readonly<Record<string, string>>;
  /** One line for the demo's header. */
  readonly description: string;
  stop(): Promise<void>;
}

/**
 * The namespace named by `SERVICEBUS_CONNECTION_STRING` or
 * `SERVICEBUS_NAMESPACE` when one is given (its queue, `TRIBUTARY_QUEUE_NAME`
 * or `tributary-changes`, must exist and be session-enabled); otherwise a
 * private, in-memory Service Bus emulator for the demo's lifetime, with the
 * local stack's queue (`deploy/servicebus/Config.json`) and a short lock.
 */
export async function demoServiceBus(): Promise<DemoServiceBus> {
  if (process.env.SERVICEBUS_CONNECTION_STRING || process.env.SERVICEBUS_NAMESPACE) {
    const queue = process.env.TRIBUTARY_QUEUE_NAME || 'tributary-changes';
    return {
      env: { TRIBUTARY_QUEUE_NAME: queue },
      description: `your namespace (SERVICEBUS_* settings), queue "${queue}"`,
      stop: async () => undefined,
    };
  }
  const [queue, properties] = [...loadConfigFile(STACK_CONFIG).queues][0] ?? [];
  if (queue === undefined || properties === undefined)
    throw new Error(`${STACK_CONFIG} defines no queue for the demo.`);
  const emulator = await startServiceBusEmulator({
    queues: { [queue]: { ...properties, lockDurationMs: DEMO_LOCK_DURATION_MS } },
    // Tokens are checked, as the service always checks them; the key lives
    // only as long as the demo.
    sharedAccessKey: randomBytes(32).toString('base64'),
  });
  return {
    env: {
      SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
      TRIBUTARY_QUEUE_NAME: queue,
      // Writers plan with the queue's lock (renewing every third of it).
      TRIBUTARY_LEASE_TTL_MS: String(DEMO_LOCK_DURATION_MS),
    },
    description: `emulator at ${emulator.host}:${emulator.port}, session queue "${queue}" (lock ${DEMO_LOCK_DURATION_MS / 1000} s)`,
    stop: () => emulator.stop(),
  };
}
