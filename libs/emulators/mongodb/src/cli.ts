import { startMongoEmulator } from './emulator.ts';
import { exitWithUsageError, parseCommandLine, type CommandDescription } from './command-line.ts';
import { DEFAULT_CHECKPOINT_INTERVAL_MS } from './persistence/data-directory.ts';

/** Oplog bound of the standalone emulator unless --oplog-max-entries says otherwise. */
const DEFAULT_OPLOG_ENTRIES = 1_000_000;

/**
 * Standalone emulator for the demo and for mongosh:
 *   node libs/emulators/mongodb/src/cli.ts --help
 * Prints the connection string and stops cleanly on SIGINT/SIGTERM.
 */
const COMMAND: CommandDescription = {
  synopsis: 'node libs/emulators/mongodb/src/cli.ts [options]',
  summary:
    'A single-node MongoDB replica set (rs0) speaking the wire protocol to the official drivers.\n' +
    'Prints the connection string on stdout; stops cleanly on SIGINT or SIGTERM.',
  options: {
    port: { type: 'string', default: '27017', value: 'PORT', help: 'TCP port; 0 picks a free one' },
    host: { type: 'string', default: '127.0.0.1', value: 'HOST', help: 'interface to listen on' },
    'data-dir': {
      type: 'string',
      value: 'DIR',
      help: 'keep collections and oplog in DIR: every write journalled before it is acknowledged, checkpoints now and then',
      shownDefault: 'none, memory only',
    },
    'oplog-max-entries': {
      type: 'string',
      value: 'N',
      help: 'keep at most N oplog entries (older ones fall off)',
      shownDefault: DEFAULT_OPLOG_ENTRIES.toLocaleString('en-US'),
    },
    'oplog-max-bytes': {
      type: 'string',
      value: 'N',
      help: 'keep at most about N bytes of oplog',
      shownDefault: 'unbounded',
    },
    'checkpoint-interval-ms': {
      type: 'string',
      value: 'MS',
      help: 'with --data-dir: write a checkpoint (and drop the journal before it) this long after changes',
      shownDefault: DEFAULT_CHECKPOINT_INTERVAL_MS.toLocaleString('en-US'),
    },
    help: { type: 'boolean', short: 'h', help: 'print this help and exit' },
  },
};

function nonNegativeInteger(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    exitWithUsageError(`--${flag} must be a non-negative integer, got '${String(value)}'`);
  return parsed;
}

async function main(): Promise<void> {
  const values = parseCommandLine(COMMAND);
  // A long-running demo must not grow without bound; a real mongod's oplog is bounded too.
  const maxEntries =
    nonNegativeInteger(values['oplog-max-entries'], 'oplog-max-entries') ?? DEFAULT_OPLOG_ENTRIES;
  const maxBytes = nonNegativeInteger(values['oplog-max-bytes'], 'oplog-max-bytes');
  const checkpointMs = nonNegativeInteger(
    values['checkpoint-interval-ms'],
    'checkpoint-interval-ms',
  );
  const dataDir = values['data-dir'] as string | undefined;
  const emulator = await startMongoEmulator({
    port: nonNegativeInteger(values.port, 'port') ?? 27017,
    host: values.host as string,
    ...(dataDir ? { dataDir } : {}),
    oplogMaxEntries: maxEntries,
    ...(maxBytes !== undefined ? { oplogMaxBytes: maxBytes } : {}),
    ...(checkpointMs ? { checkpointIntervalMs: checkpointMs } : {}),
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
