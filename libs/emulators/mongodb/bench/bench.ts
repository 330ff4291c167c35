import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Document } from 'mongodb';
import { startMongoEmulator, type MongoEmulatorOptions } from '../src/index.ts';

/**
 * Throughput of the emulator through the official driver, on one process:
 *   npx node libs/emulators/mongodb/bench/bench.ts
 * 1. insertMany of 1 KB documents (batches of 1,000), documents per second;
 * 2. one change stream draining the events of those inserts (each checked to be the
 *    next insert), events per second.
 * Both run twice in one go: in memory, then with a data directory (every write
 * journalled and synced before it is acknowledged), so the two compare under
 * the same load of the machine.
 * Targets (issue): >= 30,000 docs/s and >= 50,000 events/s, so the emulator is
 * never the bottleneck of Tributary's own benchmarks.
 */
const INSERT_DOCS = Number(process.env.BENCH_INSERT_DOCS ?? 100_000);
const BATCH = 1_000;
const PAYLOAD = 'x'.repeat(1_000 - 60); // about 1 KB per document once _id and fields are added

function rate(count: number, ms: number): string {
  return Math.round((count / ms) * 1000).toLocaleString('en-US');
}

/** CPU milliseconds this process used (all threads) since `start`. */
function cpuMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function main(): Promise<void> {
  console.log('== in memory');
  await run({}, '');
  const dataDir = await mkdtemp(join(tmpdir(), 'mongo-bench-'));
  try {
    console.log(`== with a data directory (journal), ${dataDir}`);
    await run({ dataDir }, ', journalled');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** One pass; `variant` tells its result lines apart (tools/bench reads the in-memory ones). */
async function run(options: MongoEmulatorOptions, variant: string): Promise<void> {
  const emulator = await startMongoEmulator(options);
  const client = new MongoClient(emulator.uri);
  try {
    await client.connect();
    const coll = client.db('bench').collection('docs');
    const stream = coll.watch([], { maxAwaitTimeMS: 100 });
    await stream.tryNext(); // the stream starts before the first insert

    console.log(
      `insertMany: ${INSERT_DOCS.toLocaleString('en-US')} documents of ~1 KB in batches of ${BATCH}`,
    );
    const insertStart = performance.now();
    const insertCpu = process.cpuUsage();
    for (let sent = 0; sent < INSERT_DOCS; sent += BATCH) {
      const docs: Document[] = [];
      for (let i = 0; i < BATCH; i++)
        docs.push({ seq: sent + i, payload: PAYLOAD, at: new Date() });
      await coll.insertMany(docs);
      if ((sent + BATCH) % 20_000 === 0)
        console.log(`  inserted ${(sent + BATCH).toLocaleString('en-US')}`);
    }
    const insertMs = performance.now() - insertStart;
    const insertCpuMs = cpuMs(insertCpu);
    const stored = await coll.estimatedDocumentCount();

    console.log('change stream: draining the insert events');
    const streamStart = performance.now();
    const streamCpu = process.cpuUsage();
    let received = 0;
    while (received < INSERT_DOCS) {
      const event = await stream.tryNext();
      if (!event) continue;
      // Count only what was asked for: the inserts, each once, in order.
      if (event.operationType !== 'insert' || event.fullDocument.seq !== received)
        throw new Error(`event ${received} is not the insert of seq ${received}`);
      received += 1;
      if (received % 20_000 === 0) console.log(`  received ${received.toLocaleString('en-US')}`);
    }
    const streamMs = performance.now() - streamStart;
    const streamCpuMs = cpuMs(streamCpu);
    await stream.close();

    if (stored !== INSERT_DOCS)
      throw new Error(`stored ${stored} documents, expected ${INSERT_DOCS}`);
    console.log('');
    // Wall-clock rates drop when other processes share the cores; rates per CPU-second do not.
    console.log(
      `insertMany${variant} (1 KB docs):   ${rate(INSERT_DOCS, insertMs)} docs/s wall-clock, ${rate(INSERT_DOCS, insertCpuMs)} docs per CPU-second (${INSERT_DOCS} in ${Math.round(insertMs)} ms)`,
    );
    console.log(
      `change stream delivery${variant}:   ${rate(received, streamMs)} events/s wall-clock, ${rate(received, streamCpuMs)} events per CPU-second (${received} in ${Math.round(streamMs)} ms)`,
    );
  } finally {
    await client.close();
    await emulator.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
