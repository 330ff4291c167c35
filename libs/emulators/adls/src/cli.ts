/**
 * Standalone ADLS Gen2 emulator, for the demo and the local Docker stack:
 *
 *   node libs/emulators/adls/src/cli.ts --port 10004 --data-dir ./data [--host 127.0.0.1]
 *     [--account-name devstoreaccount1] [--account-key BASE64] [--sync-writes]
 *
 * Prints the account URL and a connection string, and stops cleanly on
 * SIGINT / SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startAdlsEmulator } from './emulator.ts';

const USAGE =
  'usage: cli.ts [--port 10004] [--host 127.0.0.1] [--data-dir DIR] [--account-name NAME] [--account-key BASE64] [--sync-writes]';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '10004' },
        host: { type: 'string', default: '127.0.0.1' },
        'data-dir': { type: 'string' },
        'account-name': { type: 'string' },
        'account-key': { type: 'string' },
        'sync-writes': { type: 'boolean', default: false },
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
  const emulator = await startAdlsEmulator({
    port,
    host: values.host,
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(values['account-name'] !== undefined ? { accountName: values['account-name'] } : {}),
    ...(values['account-key'] !== undefined ? { accountKey: values['account-key'] } : {}),
    syncWrites: values['sync-writes'],
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
