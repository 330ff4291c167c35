/**
 * One load-generating client process of the ADLS emulator benchmark (see
 * `bench.ts`, which forks it). It talks to the emulator only through the
 * official `@azure/storage-file-datalake` SDK with a keep-alive connection
 * pool, and takes its orders over the IPC channel:
 *
 *   parent → `{ type: 'prepare', phase, ... }`  worker creates its files, answers `ready`
 *   parent → `{ type: 'go' }`                   worker runs until its deadline, answers `done`
 *
 * The split lets the parent start every worker at the same moment and read
 * the emulator's CPU time exactly around the measured window.
 */
import { DataLakeServiceClient, type DataLakeFileClient } from '@azure/storage-file-datalake';

/** What the parent asks a worker to prepare. */
export interface PrepareMessage {
  type: 'prepare';
  phase: 'big' | 'small';
  connectionString: string;
  filesystem: string;
  /** Unique per worker, so workers never share a file. */
  prefix: string;
  /** Files written in parallel (small phase) or appends in flight (big phase). */
  parallelism: number;
  durationMs: number;
}

/** What a worker reports when its window is over. */
export interface DoneMessage {
  type: 'done';
  /** MiB (big phase) or append+flush pairs (small phase). */
  work: number;
  /** HTTP requests sent in the window. */
  requests: number;
  seconds: number;
  /** CPU time (user + system) this client process used in the window. */
  cpuSeconds: number;
}

const BIG = 4 * 1024 * 1024;
const FLUSH_EVERY = 64 * 1024 * 1024;
/** One change event as the Tributary writer lands it: ~200 bytes of JSON. */
const LINE = Buffer.from(
  `${JSON.stringify({ op: 'insert', ns: 'db.coll', doc: { _id: 1, v: 'x'.repeat(120) } })}\n`,
);

type Run = () => Promise<Omit<DoneMessage, 'type' | 'cpuSeconds'>>;

function send(message: unknown): void {
  process.send?.(message);
}

async function prepareBig(message: PrepareMessage): Promise<Run> {
  const fs = client(message).getFileSystemClient(message.filesystem);
  const chunk = Buffer.alloc(BIG, 0x61);
  return async () => {
    const start = performance.now();
    const deadline = start + message.durationMs;
    let bytes = 0;
    let requests = 0;
    for (let index = 0; performance.now() < deadline; index++) {
      const file = fs.getFileClient(`${message.prefix}/big-${index}.bin`);
      await file.create();
      requests++;
      let position = 0;
      while (position < FLUSH_EVERY && performance.now() < deadline) {
        const batch: Promise<unknown>[] = [];
        for (let i = 0; i < message.parallelism; i++) {
          batch.push(file.append(chunk, position, BIG));
          position += BIG;
        }
        await Promise.all(batch);
        bytes += BIG * message.parallelism;
        requests += message.parallelism;
      }
      await file.flush(position);
      // The data has been measured; dropping it keeps the disk footprint small.
      await file.delete();
      requests += 2;
    }
    return { work: bytes / 1024 / 1024, requests, seconds: (performance.now() - start) / 1000 };
  };
}

async function prepareSmall(message: PrepareMessage): Promise<Run> {
  const fs = client(message).getFileSystemClient(message.filesystem);
  const files: DataLakeFileClient[] = [];
  for (let w = 0; w < message.parallelism; w++) {
    const file = fs.getFileClient(`${message.prefix}/writer-${w}.jsonl`);
    await file.create();
    files.push(file);
  }
  return async () => {
    const start = performance.now();
    const deadline = start + message.durationMs;
    let pairs = 0;
    await Promise.all(
      files.map(async (file) => {
        let position = 0;
        while (performance.now() < deadline) {
          await file.append(LINE, position, LINE.length);
          position += LINE.length;
          await file.flush(position);
          pairs++;
        }
      }),
    );
    return { work: pairs, requests: pairs * 2, seconds: (performance.now() - start) / 1000 };
  };
}

function client(message: PrepareMessage): DataLakeServiceClient {
  return DataLakeServiceClient.fromConnectionString(message.connectionString, {
    // A failed request must fail the benchmark, not be hidden by a retry.
    retryOptions: { maxTries: 1 },
    keepAliveOptions: { enable: true },
  });
}

let run: Run | undefined;
process.on('message', (message: PrepareMessage | { type: 'go' }) => {
  if (message.type === 'prepare') {
    const prepared = message.phase === 'big' ? prepareBig(message) : prepareSmall(message);
    prepared.then(
      (ready) => {
        run = ready;
        send({ type: 'ready' });
      },
      (error: unknown) => send({ type: 'error', error: String(error) }),
    );
  } else if (run) {
    const current = run;
    run = undefined;
    const cpuBefore = process.cpuUsage();
    current().then(
      (result) => {
        const cpu = process.cpuUsage(cpuBefore);
        const cpuSeconds = (cpu.user + cpu.system) / 1e6;
        send({ type: 'done', ...result, cpuSeconds } satisfies DoneMessage);
      },
      (error: unknown) => send({ type: 'error', error: String(error) }),
    );
  }
});
process.on('disconnect', () => process.exit(0));
