import { type CheckpointStore, createLakeCheckpointStore } from '@tributary/checkpoint';
import {
  type CapturedEvent,
  type ChangeBatch,
  createLogger,
  decodeLine,
  formatOrderingKey,
} from '@tributary/core';
import { type Lake, LakeError, createMemoryLake } from '@tributary/lake';
import { Timestamp } from 'bson';
import { Writable } from 'node:stream';
import { PartitionWriter, type PartitionWriterOptions } from '../src/partition-writer.ts';

/** A logger that keeps quiet. */
export const silentLogger = createLogger({
  name: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

/** A logger that keeps what it is told, one parsed record a line, in `records`. */
export function recordingLogger() {
  const records: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: 'test',
    level: 'debug',
    destination: new Writable({
      write: (chunk: Buffer, _e, done) => {
        records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { logger, records };
}

/** 2026-11-21T13:00:00Z in seconds. */
export const T0 = Date.UTC(2026, 10, 21, 13) / 1000;

/** A change event of `db.coll` at clusterTime (t, i). */
export function changeEvent(
  n: number,
  options: { db?: string; coll?: string; t?: number; i?: number; pad?: number } = {},
): CapturedEvent {
  const t = options.t ?? T0;
  const i = options.i ?? n + 1;
  return {
    key: formatOrderingKey({ t, i, n: 0 }),
    capturedAt: new Date(t * 1000 + 5),
    event: {
      _id: { _data: `tok-${t}-${i}` },
      operationType: 'insert',
      clusterTime: new Timestamp({ t, i }),
      ns: { db: options.db ?? 'shop', coll: options.coll ?? 'orders' },
      documentKey: { _id: n },
      fullDocument: { _id: n, note: 'x'.repeat(options.pad ?? 10) },
    },
  };
}

/** A batch of `events` for `partition`, following `previousKey`. */
export function batchOf(
  partition: number,
  events: CapturedEvent[],
  previousKey = '',
  generation = 1,
): ChangeBatch<CapturedEvent> {
  const last = events[events.length - 1];
  if (!last) throw new Error('a batch needs events');
  return {
    partition,
    generation,
    sequence: 0,
    events,
    position: { key: last.key, token: last.event._id },
    previousKey,
  };
}

/** A heartbeat for `partition` at the key of `at`, with `token`. */
export function heartbeatAt(
  partition: number,
  at: CapturedEvent,
  previousKey: string,
  token: Record<string, unknown> = at.event._id,
): ChangeBatch {
  return {
    partition,
    generation: 1,
    sequence: 0,
    events: [],
    position: { key: at.key, token },
    previousKey,
  };
}

/**
 * A lake that fails one chosen call: `method` on its `nth` use (1-based),
 * optionally only for paths containing `pathPart`, with a retryable error.
 */
export function failingOnce(
  lake: Lake,
  method: 'append' | 'create',
  nth: number,
  pathPart = '',
): Lake {
  let seen = 0;
  return failingWhen(
    lake,
    method,
    (path) => path.includes(pathPart) && ++seen === nth,
    () => new LakeError('UNAVAILABLE', `injected failure of ${method} #${nth}`),
  );
}

/** A lake whose `method` fails with `error()` whenever `when(path)` holds. */
export function failingWhen(
  lake: Lake,
  method: keyof Lake,
  when: (path: string) => boolean,
  error: () => unknown,
): Lake {
  return new Proxy(lake, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== method || typeof value !== 'function')
        return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) =>
        when(String(args[0]))
          ? Promise.reject(error())
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
}

/**
 * A fresh memory lake with checkpoints kept in it, and a factory of
 * partition writers on partition 3; `overrides` swap in a failing lake or
 * checkpoint store for one writer.
 */
export function fixture(limits: Partial<PartitionWriterOptions> = {}) {
  const lake = createMemoryLake();
  const checkpoints = createLakeCheckpointStore({ lake });
  let writers = 0;
  const writer = (overrides: Partial<PartitionWriterOptions> = {}) =>
    new PartitionWriter({
      partition: 3,
      writerId: `w${++writers}`,
      lake,
      checkpoints,
      pathTemplate: '{db}/{coll}/year={YYYY}/month={MM}/day={DD}/hour={HH}',
      jsonFormat: 'relaxed',
      maxFileBytes: 1024 * 1024,
      maxFileAgeMs: 3_600_000,
      idleCloseMs: 3_600_000,
      logger: silentLogger,
      ...limits,
      ...overrides,
    });
  return { lake, checkpoints, writer };
}

/** A checkpoint store whose `nth` partition write fails, storing nothing. */
export function failingCheckpoints(store: CheckpointStore, nth: number): CheckpointStore {
  let writes = 0;
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== 'writePartition') return value.bind(target);
      return (...args: Parameters<CheckpointStore['writePartition']>) =>
        ++writes === nth
          ? Promise.reject(new Error('injected checkpoint failure'))
          : target.writePartition(...args);
    },
  });
}

/** Every data line in the lake (not the checkpoints), file by file, as the lake holds them. */
export async function linesInLake(lake: Lake): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  for await (const entry of lake.list('')) {
    if (entry.path.startsWith('_tributary/')) continue;
    const text = Buffer.from(await lake.read(entry.path)).toString('utf8');
    files.set(
      entry.path,
      text.split('\n').filter((l) => l.length > 0),
    );
  }
  return files;
}

/** The ordering keys of every line in the lake, in file order. */
export async function keysInLake(lake: Lake): Promise<string[]> {
  const keys: string[] = [];
  for (const lines of (await linesInLake(lake)).values()) {
    for (const line of lines) keys.push(decodeLine(line)._tributary.key);
  }
  return keys;
}
