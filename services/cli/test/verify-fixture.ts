import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type CheckpointStore,
  type OpenFileRecord,
  type PartitionCheckpoint,
  createLakeCheckpointStore,
} from '@tributary/checkpoint';
import {
  OrderingKeyAssigner,
  encodeLine,
  eventTimeOfKey,
  partitionOf,
  renderPath,
} from '@tributary/core';
import { type MongoEmulator, startMongoEmulator } from '@tributary/emulator-mongodb';
import { type Lake, createLocalLake } from '@tributary/lake';
import type { Document, Timestamp } from 'bson';
import { type ChangeStream, MongoClient } from 'mongodb';

/** The layout of the test lakes: the default, by UTC hour. */
export const TEMPLATE = '{db}/{coll}/year={YYYY}/month={MM}/day={DD}/hour={HH}';
export const PARTITIONS = 4;

/** The documents tests write. */
export interface ShopDocument {
  _id: number | string;
  total?: number;
  tags?: string[];
  note?: string;
  name?: string;
}

/** A file being filled for one partition in one directory. */
interface OpenFile {
  readonly path: string;
  readonly firstKey: string;
  length: number;
  version: string;
  lines: number;
}

/**
 * A source and a lake for `tributary verify`: the MongoDB emulator, a local
 * lake in a temporary directory, and a stand-in for capture and the writers
 * that turns the source's real change events into lines the way they do —
 * ordering keys from the stream, the partition by namespace, `encodeLine`,
 * the event-time directory, `part-<pppp>-<firstKey>.jsonl`, rolling every
 * few lines — and stores each partition's checkpoint after its lines.
 */
export class VerifyFixture {
  readonly mongo: MongoEmulator;
  readonly client: MongoClient;
  readonly dir: string;
  readonly lake: Lake;
  readonly checkpoints: CheckpointStore;
  readonly #stream: ChangeStream;
  readonly #keys = new OrderingKeyAssigner();
  readonly #open = new Map<string, OpenFile>();
  readonly #versions = new Map<number, string>();
  readonly #rollEvery: number;

  private constructor(init: {
    mongo: MongoEmulator;
    client: MongoClient;
    dir: string;
    lake: Lake;
    checkpoints: CheckpointStore;
    stream: ChangeStream;
    rollEvery: number;
  }) {
    this.mongo = init.mongo;
    this.client = init.client;
    this.dir = init.dir;
    this.lake = init.lake;
    this.checkpoints = init.checkpoints;
    this.#stream = init.stream;
    this.#rollEvery = init.rollEvery;
  }

  /**
   * @param options.beforeCapture changes made before capture's origin: the
   *   source has them, the lake never will.
   */
  static async start(
    options: {
      oplogMaxEntries?: number;
      rollEvery?: number;
      beforeCapture?: (client: MongoClient) => Promise<void>;
    } = {},
  ): Promise<VerifyFixture> {
    const mongo = await startMongoEmulator(
      options.oplogMaxEntries === undefined ? {} : { oplogMaxEntries: options.oplogMaxEntries },
    );
    const client = await MongoClient.connect(mongo.uri);
    const dir = await mkdtemp(join(tmpdir(), 'tributary-verify-'));
    const lake = createLocalLake({ rootDir: dir });
    const checkpoints = createLakeCheckpointStore({ lake });
    await options.beforeCapture?.(client);
    const hello = await client.db('admin').command({ ping: 1 });
    const origin = await checkpoints.writeOriginIfAbsent({
      startAtOperationTime: hello.operationTime as Timestamp,
      createdAt: new Date(),
    });
    const stream = client.watch([], {
      startAtOperationTime: origin.startAtOperationTime,
      fullDocument: 'updateLookup',
      maxAwaitTimeMS: 50,
    });
    return new VerifyFixture({
      mongo,
      client,
      dir,
      lake,
      checkpoints,
      stream,
      rollEvery: options.rollEvery ?? 3,
    });
  }

  /** The environment `tributary verify` runs with (`source`: with MONGODB_URI). */
  env(source: boolean): Record<string, string> {
    return {
      TRIBUTARY_LAKE: 'local',
      TRIBUTARY_LAKE_DIR: this.dir,
      TRIBUTARY_PARTITION_COUNT: String(PARTITIONS),
      TRIBUTARY_PATH_TEMPLATE: TEMPLATE,
      ...(source ? { MONGODB_URI: this.mongo.uri } : {}),
    };
  }

  /** A collection of the `shop` database, with the fields the tests write. */
  collection(name: string) {
    return this.client.db('shop').collection<ShopDocument>(name);
  }

  /**
   * Reads the change stream up to the source's current operation time and
   * writes every event to the lake, then a checkpoint per partition covering
   * what it wrote. Returns how many events it wrote.
   */
  async capture(): Promise<number> {
    const until = (await this.client.db('admin').command({ ping: 1 })).operationTime as Timestamp;
    const written = new Map<number, { key: string; token: Document }>();
    let events = 0;
    for (;;) {
      const event = (await this.#stream.tryNext()) as Document | null;
      if (!event) {
        const data = String((this.#stream.resumeToken as { _data?: unknown })._data);
        const scanned = {
          t: Number.parseInt(data.slice(2, 10), 16),
          i: Number.parseInt(data.slice(10, 18), 16),
        };
        if (scanned.t > until.high || (scanned.t === until.high && scanned.i >= until.low)) break;
        continue;
      }
      const key = this.#keys.next(event.clusterTime as Timestamp);
      const partition = partitionOf(event, PARTITIONS, 'namespace');
      const ns = event.ns as { db?: string; coll?: string };
      const dir = renderPath(TEMPLATE, {
        db: ns.db,
        coll: ns.coll,
        eventTime: eventTimeOfKey(key),
      });
      const line = encodeLine({ key, capturedAt: new Date(), event }, partition, 'relaxed');
      await this.#append(partition, dir, key, line);
      written.set(partition, { key, token: event._id as Document });
      events += 1;
    }
    for (const [partition, position] of written) await this.storeCheckpoint(partition, position);
    return events;
  }

  /** Stores a checkpoint for `partition` at `position`, listing the files still open. */
  async storeCheckpoint(
    partition: number,
    position: { key: string; token: Document },
    openFiles: readonly OpenFileRecord[] = this.openFiles(partition),
  ): Promise<void> {
    const checkpoint: PartitionCheckpoint = {
      partition,
      position,
      openFiles,
      writerId: 'verify-fixture',
      updatedAt: new Date(),
    };
    const version = await this.checkpoints.writePartition(
      checkpoint,
      this.#versions.get(partition),
    );
    this.#versions.set(partition, version);
  }

  /** The files of `partition` still open, as a checkpoint lists them. */
  openFiles(partition: number): OpenFileRecord[] {
    return [...this.#open.entries()]
      .filter(([group]) => group.endsWith(`#${partition}`))
      .map(([, file]) => ({
        path: file.path,
        firstKey: file.firstKey,
        length: file.length,
        version: file.version,
        openedAt: new Date(),
      }));
  }

  async #append(partition: number, dir: string, key: string, line: string): Promise<void> {
    const group = `${dir}#${partition}`;
    let file = this.#open.get(group);
    if (!file || file.lines >= this.#rollEvery) {
      const path = `${dir}/part-${String(partition).padStart(4, '0')}-${key}.jsonl`;
      const created = await this.lake.create(path);
      file = { path, firstKey: key, length: 0, version: created.version, lines: 0 };
      this.#open.set(group, file);
    }
    const data = Buffer.from(line);
    const state = await this.lake.append(file.path, file.length, data, { ifVersion: file.version });
    file.length = state.length;
    file.version = state.version;
    file.lines += 1;
  }

  /** Every data file's path, sorted. */
  async dataFiles(): Promise<string[]> {
    const entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && e.name.startsWith('part-'))
      .map((e) => join(e.parentPath, e.name).slice(this.dir.length + 1))
      .sort();
  }

  /** The lines of a data file (without newlines). */
  async linesOf(path: string): Promise<string[]> {
    const text = await readFile(join(this.dir, path), 'utf8');
    return text.split('\n').slice(0, -1);
  }

  /** Replaces a data file's content on disk, as damage from outside Tributary would. */
  async rewrite(path: string, lines: readonly string[], terminated = true): Promise<void> {
    await mkdir(dirname(join(this.dir, path)), { recursive: true });
    await writeFile(
      join(this.dir, path),
      lines.join('\n') + (terminated && lines.length > 0 ? '\n' : ''),
    );
  }

  async close(): Promise<void> {
    await this.#stream.close();
    await this.client.close();
    await this.lake.close();
    await this.checkpoints.close();
    await this.mongo.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** What a test needs of a line: its place and the event's identity (read as plain JSON). */
export interface LakeLine {
  readonly path: string;
  /** 1-based. */
  readonly line: number;
  readonly text: string;
  readonly key: string;
  readonly token: string;
  readonly operationType: string;
  readonly namespace: string;
  readonly id: unknown;
}

/** Every line of the fixture's lake, file by file. */
export async function lakeLines(fixture: VerifyFixture): Promise<LakeLine[]> {
  const lines: LakeLine[] = [];
  for (const path of await fixture.dataFiles()) {
    for (const [index, text] of (await fixture.linesOf(path)).entries()) {
      const parsed = JSON.parse(text) as {
        _tributary: { key: string; resumeToken: { _data: string } };
        operationType: string;
        ns: { db: string; coll: string };
        documentKey?: { _id: unknown };
      };
      lines.push({
        path,
        line: index + 1,
        text,
        key: parsed._tributary.key,
        token: parsed._tributary.resumeToken._data,
        operationType: parsed.operationType,
        namespace: `${parsed.ns.db}.${parsed.ns.coll}`,
        id: parsed.documentKey?._id,
      });
    }
  }
  return lines;
}
