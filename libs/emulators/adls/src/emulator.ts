import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FaultInjector } from './faults/fault-injector.ts';
import { createStorageServer } from './http/server.ts';
import type { CrashPoint } from './store/journal.ts';
import { LakeStore } from './store/lake-store.ts';
import type { PathEntry } from './store/types.ts';
import { stagedBytes } from './store/staged-ranges.ts';

/** The Azure Storage development account name (as Azurite uses). */
export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
/** The well-known development account key (public; never a secret). */
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Options for {@link startAdlsEmulator}. */
export interface AdlsEmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Where data lives; default a fresh temporary directory, removed on stop. */
  dataDir?: string;
  /** Account name; default {@link DEV_ACCOUNT_NAME}. */
  accountName?: string;
  /** Base64 account key; default {@link DEV_ACCOUNT_KEY}. */
  accountKey?: string;
  /** fsync every journal write (survive power loss, not only a crash); default false. */
  syncWrites?: boolean;
  /** Unexpected internal errors (answered as 500); default: printed to stderr. */
  onInternalError?: (error: unknown) => void;
}

/** What the emulator knows about one path, beyond what the REST API shows (for tests). */
export interface PathInspection {
  kind: 'file' | 'directory';
  committedLength: number;
  stagedBytes: number;
  /** True after a flush with `close=true` (and no flush since). */
  closed: boolean;
  etag: string;
  /**
   * When the file's lease expires (ms since 1970); `null` for an infinite
   * lease, `undefined` when there is none. The REST API does not show it.
   */
  leaseExpiresAt: number | null | undefined;
}

/** A running emulator. */
export interface AdlsEmulator {
  /** Account URL for SDK clients, e.g. `http://127.0.0.1:10004/devstoreaccount1`. */
  readonly url: string;
  readonly accountName: string;
  readonly accountKey: string;
  /** For `DataLakeServiceClient.fromConnectionString`. */
  readonly connectionString: string;
  /** Where the data lives. */
  readonly dataDir: string;
  readonly port: number;
  /** Fault injection (also reachable at `/_emulator/faults`). */
  readonly faults: FaultInjector;
  /** Internal view of a path (committed vs staged bytes, close flag, lease expiry); undefined when absent. */
  inspectPath(filesystem: string, path: string): PathInspection | undefined;
  /** Stops listening, drops open connections and closes the store. Idempotent. */
  stop(): Promise<void>;
  /** Same as {@link stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts an ADLS Gen2 emulator: the DFS and Blob REST shapes the official
 * `@azure/storage-file-datalake` SDK uses, on a path-style URL, with data
 * kept under `dataDir`.
 */
export async function startAdlsEmulator(options: AdlsEmulatorOptions = {}): Promise<AdlsEmulator> {
  const accountName = options.accountName ?? DEV_ACCOUNT_NAME;
  const accountKey = options.accountKey ?? DEV_ACCOUNT_KEY;
  const key = Buffer.from(accountKey, 'base64');
  if (key.length === 0) throw new TypeError('accountKey must be a non-empty base64 string');
  if (!/^[a-z0-9]{3,24}$/.test(accountName))
    throw new TypeError('accountName must be 3-24 lower-case letters and digits');
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'adls-emulator-'));
  const store = LakeStore.open({
    dataDir,
    syncWrites: options.syncWrites ?? false,
    onCrashPoint: freezeUntilKilled,
  });
  const faults = new FaultInjector();
  const server = createStorageServer({
    store,
    faults,
    account: { name: accountName, key },
    onInternalError:
      options.onInternalError ??
      ((error) => console.error('[adls-emulator] internal error:', error)),
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  try {
    await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  } catch (error) {
    store.close();
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host =
    options.host === undefined || options.host === '0.0.0.0' || options.host === '::'
      ? '127.0.0.1'
      : options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/${accountName}`;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Held requests would otherwise be performed against a closed store.
      for (const rule of faults.list()) faults.abandon(rule.id);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      store.close();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return {
    url,
    accountName,
    accountKey,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${accountName};AccountKey=${accountKey};BlobEndpoint=${url};DfsEndpoint=${url};`,
    dataDir,
    port,
    faults,
    inspectPath: (filesystem, name) =>
      inspect(store.state.filesystems.get(filesystem)?.paths.get(name)),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function inspect(entry: PathEntry | undefined): PathInspection | undefined {
  if (!entry) return undefined;
  return {
    kind: entry.kind,
    committedLength: entry.committedLength,
    stagedBytes: stagedBytes(entry.staged),
    closed: entry.closed,
    etag: entry.etag,
    leaseExpiresAt: entry.lease?.expiresAt,
  };
}

/**
 * A `crash` fault rule's effect: the emulator stops dead at that point of a
 * journal write — no more requests, no timers — and says so on stderr, so a
 * test driving it as a child process can SIGKILL it exactly there.
 */
function freezeUntilKilled(point: CrashPoint): void {
  // A synchronous write: the marker must be out before the process stops.
  writeSync(2, `[adls-emulator] frozen at crash point ${point}\n`);
  // Sleeps the main thread for good without using CPU.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
