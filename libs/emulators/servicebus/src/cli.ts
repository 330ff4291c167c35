/**
 * Standalone Azure Service Bus emulator, for the demo and the local Docker stack:
 *
 *   node libs/emulators/servicebus/src/cli.ts [--port 5672] [--host 127.0.0.1]
 *     [--config Config.json] [--queue NAME[:session]]… [--auto-create-queues]
 *     [--data-dir DIR] [--sync-writes] [--key-name NAME] [--key KEY]
 *
 * Prints the connection string (never the key when one was given: it shows
 * `SharedAccessKey=<your-key>`) and stops cleanly on SIGINT / SIGTERM. The
 * key can also come from `SERVICEBUS_EMULATOR_KEY`, which keeps it out of
 * the process list; the configuration file from `SERVICEBUS_EMULATOR_CONFIG`
 * (as Microsoft's emulator takes `CONFIG_PATH`).
 */
import { parseArgs } from 'node:util';
import { startServiceBusEmulator } from './emulator.ts';
import type { QueueProperties } from './config/queue-properties.ts';

const USAGE =
  'usage: cli.ts [--port 5672] [--host 127.0.0.1] [--config Config.json] [--queue NAME[:session]]... ' +
  '[--auto-create-queues] [--data-dir DIR] [--sync-writes] [--key-name NAME] [--key KEY]';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '5672' },
        host: { type: 'string', default: '127.0.0.1' },
        config: { type: 'string' },
        queue: { type: 'string', multiple: true, default: [] },
        'auto-create-queues': { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
        'sync-writes': { type: 'boolean', default: false },
        'key-name': { type: 'string' },
        key: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be 0..65535\n${USAGE}`);
    process.exit(2);
  }
  const queues: Record<string, Partial<QueueProperties>> = {};
  for (const spec of values.queue) {
    const [name, flag] = spec.split(':');
    if (!name || (flag !== undefined && flag !== 'session')) {
      console.error(`--queue takes NAME or NAME:session, got '${spec}'\n${USAGE}`);
      process.exit(2);
    }
    queues[name] = flag === 'session' ? { requiresSession: true } : {};
  }
  const key = values.key ?? process.env['SERVICEBUS_EMULATOR_KEY'];
  const config = values.config ?? (process.env['SERVICEBUS_EMULATOR_CONFIG'] || undefined);
  const emulator = await startServiceBusEmulator({
    port,
    host: values.host,
    queues,
    autoCreateQueues: values['auto-create-queues'],
    syncWrites: values['sync-writes'],
    ...(config !== undefined ? { configFile: config } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(values['key-name'] !== undefined ? { sharedAccessKeyName: values['key-name'] } : {}),
    ...(key !== undefined ? { sharedAccessKey: key } : {}),
  });
  const shown =
    key === undefined
      ? emulator.connectionString
      : emulator.connectionString.replace(/SharedAccessKey=[^;]*/, 'SharedAccessKey=<your-key>');
  console.log(`Service Bus emulator listening on ${values.host}:${emulator.port}`);
  console.log(`connection string: ${shown}`);
  console.log(`admin: http://${emulator.host}:${emulator.port}/_emulator/health`);
  console.log(`data dir: ${emulator.dataDir ?? '(in memory)'}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, stopping`);
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(
    'Service Bus emulator failed to start:',
    error instanceof Error ? error.message : error,
  );
  process.exit(1);
});
