/**
 * Standalone ADLS Gen2 emulator, for the demo and the local Docker stack:
 *
 *   node libs/emulators/adls/src/cli.ts --port 10004 --data-dir ./data   (--help lists every option)
 *
 * Prints the account URL and a connection string, and stops cleanly on
 * SIGINT / SIGTERM.
 */
import { exitWithUsageError, parseCommandLine, type CommandDescription } from './command-line.ts';
import { DEV_ACCOUNT_NAME, startAdlsEmulator } from './emulator.ts';

const COMMAND: CommandDescription = {
  synopsis: 'node libs/emulators/adls/src/cli.ts [options]',
  summary:
    'An ADLS Gen2 (DFS endpoint) emulator speaking the REST API to the official SDKs.\n' +
    'Prints the account URL and a connection string; stops cleanly on SIGINT or SIGTERM.',
  options: {
    port: { type: 'string', default: '10004', value: 'PORT', help: 'TCP port; 0 picks a free one' },
    host: { type: 'string', default: '127.0.0.1', value: 'HOST', help: 'interface to listen on' },
    'data-dir': {
      type: 'string',
      value: 'DIR',
      help: 'where the file systems live',
      shownDefault: 'a fresh temporary directory, removed on stop',
    },
    'account-name': {
      type: 'string',
      value: 'NAME',
      help: 'storage account name',
      shownDefault: DEV_ACCOUNT_NAME,
    },
    'account-key': {
      type: 'string',
      value: 'BASE64',
      help: 'account key that signs requests',
      shownDefault: 'the public development key, as Azurite uses',
    },
    'sync-writes': {
      type: 'boolean',
      help: 'fsync every journal write (survive power loss, not only a crash)',
      shownDefault: 'off',
    },
    help: { type: 'boolean', short: 'h', help: 'print this help and exit' },
  },
};

async function main(): Promise<void> {
  const values = parseCommandLine(COMMAND);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    exitWithUsageError(`--port must be 0..65535, got '${String(values.port)}'`);
  const dataDir = values['data-dir'] as string | undefined;
  const accountName = values['account-name'] as string | undefined;
  const accountKey = values['account-key'] as string | undefined;
  const emulator = await startAdlsEmulator({
    port,
    host: values.host as string,
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(accountName !== undefined ? { accountName } : {}),
    ...(accountKey !== undefined ? { accountKey } : {}),
    syncWrites: values['sync-writes'] === true,
  });
  console.log(`ADLS Gen2 emulator listening on ${values.host}:${emulator.port}`);
  console.log(`url: ${emulator.url}`);
  console.log(`connection string: ${emulator.connectionString}`);
  console.log(`data dir: ${emulator.dataDir}`);
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
  console.error('ADLS emulator failed to start:', error);
  process.exit(1);
});
