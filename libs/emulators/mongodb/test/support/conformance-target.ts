import { randomBytes } from 'node:crypto';
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import {
  startMongoEmulator,
  type MongoEmulator,
  type MongoEmulatorOptions,
} from '../../src/index.ts';

/** True when the suite runs against a real replica set (MONGODB_URI) instead of the emulator. */
export const AGAINST_REAL_SERVER = Boolean(process.env.MONGODB_URI);

/** What a conformance test talks to: a URI, and the emulator when it is one. */
export interface ConformanceTarget {
  uri: string;
  /** Undefined against a real server; emulator-only checks use `it.skipIf(AGAINST_REAL_SERVER)`. */
  emulator: MongoEmulator | undefined;
  client: MongoClient;
  /** A database name unique to this run, so suites never collide (and can run against a shared server). */
  dbName(label: string): string;
  db(label: string): Db;
  /** A further client (closed by `close`). */
  newClient(options?: MongoClientOptions): Promise<MongoClient>;
  close(): Promise<void>;
}

/**
 * Opens the target of a conformance file: the real replica set named by
 * MONGODB_URI, or a fresh in-process emulator. `close` drops the databases
 * this file created and closes every client and the emulator.
 */
export async function openTarget(options: MongoEmulatorOptions = {}): Promise<ConformanceTarget> {
  const emulator = AGAINST_REAL_SERVER ? undefined : await startMongoEmulator(options);
  const uri = process.env.MONGODB_URI ?? (emulator as MongoEmulator).uri;
  const clients: MongoClient[] = [];
  const created = new Set<string>();
  const suffix = randomBytes(4).toString('hex');
  const newClient = async (clientOptions: MongoClientOptions = {}) => {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000, ...clientOptions });
    clients.push(client);
    await client.connect();
    return client;
  };
  const client = await newClient();
  const dbName = (label: string) => {
    const name = `trib_${label}_${suffix}`;
    created.add(name);
    return name;
  };
  return {
    uri,
    emulator,
    client,
    dbName,
    db: (label) => client.db(dbName(label)),
    newClient,
    async close() {
      try {
        if (AGAINST_REAL_SERVER) for (const name of created) await client.db(name).dropDatabase();
      } finally {
        for (const each of clients) await each.close(true);
        await emulator?.stop();
      }
    },
  };
}
