/**
 * Standalone Azure Service Bus emulator, for the demo and the local Docker stack:
 *
 *   node libs/emulators/servicebus/src/cli.ts --queue NAME   (--help lists every option)
 *
 * Prints the connection string (never the key when one was given: it shows
 * `SharedAccessKey=<your-key>`) and stops cleanly on SIGINT / SIGTERM. The
 * key can also come from `SERVICEBUS_EMULATOR_KEY`, which keeps it out of
 * the process list; the configuration file from `SERVICEBUS_EMULATOR_CONFIG`
 * (as Microsoft's emulator takes `CONFIG_PATH`).
 */
import { exitWithUsageError, parseCommandLine, type CommandDescription } from './command-line.ts';
import { DEFAULT_KEY_NAME, startServiceBusEmulator } from './emulator.ts';
import type { QueueProperties } from './config/queue-properties.ts';

const COMMAND: CommandDescription = {
  synopsis: 'node libs/emulators/servicebus/src/cli.ts [options]',
  summary:
    'An Azure Service Bus emulator speaking AMQP 1.0 to the official SDK.\n' +
    'Prints the connection string (never a given key); stops cleanly on SIGINT or SIGTERM.',
  options: {
    port: { type: 'string', default: '5672', value: 'PORT', help: 'TCP port; 0 picks a free one' },
    host: { type: 'string', default: '127.0.0.1', value: 'HOST', help: 'interface to listen on' },
    config: {
      type: 'string',
      value: 'FILE',
      help: "queues from a Config.json in the Microsoft emulator's shape (or SERVICEBUS_EMULATOR_CONFIG)",
      shownDefault: 'none',
    },
    queue: {
      type: 'string',
      multiple: true,
      default: [],
      value: 'NAME[:session]',
      help: "define a queue (repeatable); ':session' makes it require sessions",
      shownDefault: 'none',
    },
    'auto-create-queues': {
      type: 'boolean',
      help: 'create an unknown queue on first use',
      shownDefault: 'off',
    },
    'data-dir': {
      type: 'string',
      value: 'DIR',
      help: 'keep messages in DIR (they survive a restart)',
      shownDefault: 'none, memory only',
    },
    'sync-writes': {
      type: 'boolean',
      help: 'fsync each journal write before answering (survive power loss, not only a crash)',
      shownDefault: 'off',
    },
    'key-name': {
      type: 'string',
      value: 'NAME',
      help: 'shared access key name',
      shownDefault: DEFAULT_KEY_NAME,
    },
    key: {
      type: 'string',
      value: 'KEY',
      help: 'verify tokens against this key (or SERVICEBUS_EMULATOR_KEY, kept out of the process list)',
      shownDefault: 'none, tokens checked for form, expiry and audience only',
    },
    help: { type: 'boolean', short: 'h', help: 'print this help and exit' },
  },
};

async function main(): Promise<void> {
  const values = parseCommandLine(COMMAND);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    exitWithUsageError(`--port must be 0..65535, got '${String(values.port)}'`);
  const queues: Record<string, Partial<QueueProperties>> = {};
  for (const spec of values.queue as string[]) {
    const [name, flag] = spec.split(':');
    if (!name || (flag !== undefined && flag !== 'session'))
      exitWithUsageError(`--queue takes NAME or NAME:session, got '${spec}'`);
    queues[name] = flag === 'session' ? { requiresSession: true } : {};
  }
  const key = (values.key as string | undefined) ?? process.env['SERVICEBUS_EMULATOR_KEY'];
  const config =
    (values.config as string | undefined) ??
    (process.env['SERVICEBUS_EMULATOR_CONFIG'] || undefined);
  const dataDir = values['data-dir'] as string | undefined;
  const keyName = values['key-name'] as string | undefined;
  const emulator = await startServiceBusEmulator({
    port,
    host: values.host as string,
    queues,
    autoCreateQueues: values['auto-create-queues'] === true,
    syncWrites: values['sync-writes'] === true,
    ...(config !== undefined ? { configFile: config } : {}),
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(keyName !== undefined ? { sharedAccessKeyName: keyName } : {}),
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
