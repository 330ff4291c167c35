import { parseArgs } from 'node:util';
import { startMongoEmulator } from './emulator.ts';

/**
 * Standalone emulator for the demo and for mongosh:
 *   node libs/emulators/mongodb/src/cli.ts --port 27017 [--host 127.0.0.1] [--data-dir DIR]
 *     [--oplog-max-entries N (default 1,000,000)] [--oplog-max-bytes N]
 * Prints the connection string and stops cleanly on SIGINT/SIGTERM.
 */
function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new Error(`${flag} must be a non-negative integer, got '${value}'`);
  return parsed;
}

/** Oplog bound of the standalone emulator unless --oplog-max-entries says otherwise. */
const DEFAULT_OPLOG_ENTRIES = 1_000_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '27017' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      'oplog-max-entries': { type: 'string' },
      'oplog-max-bytes': { type: 'string' },
      'checkpoint-interval-ms': { type: 'string' },
    },
  });
  // A long-running demo must not grow without bound; a real mongod's oplog is bounded too.
  const maxEntries =
    positiveInteger(values['oplog-max-entries'], '--oplog-max-entries') ?? DEFAULT_OPLOG_ENTRIES;
  const maxBytes = positiveInteger(values['oplog-max-bytes'], '--oplog-max-bytes');
  const checkpointMs = positiveInteger(
    values['checkpoint-interval-ms'],
    '--checkpoint-interval-ms',
  );
  const emulator = await startMongoEmulator({
    port: positiveInteger(values.port, '--port') ?? 27017,
    host: values.host,
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    oplogMaxEntries: maxEntries,
    ...(maxBytes !== undefined ? { oplogMaxBytes: maxBytes } : {}),
    ...(checkpointMs !== undefined ? { checkpointIntervalMs: checkpointMs } : {}),
  });
  console.log(emulator.uri);
  const shutdown = (signal: string) => {
    console.error(`[emulator-mongodb] ${signal} received, stopping`);
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('[emulator-mongodb] stop failed:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(
    '[emulator-mongodb] failed to start:',
    error instanceof Error ? error.message : error,
  );
  process.exit(1);
});
