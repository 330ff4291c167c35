/**
 * `npm run demo`: the whole pipeline on one machine. Starts the MongoDB and
 * ADLS emulators (or uses MONGODB_URI / ADLS_* when given), the queue —
 * Redis from REDIS_URL, or with TRIBUTARY_TRANSPORT=servicebus the Service
 * Bus emulator (or SERVICEBUS_* when given) — capture and two writers as
 * real processes; drives a load of
 * inserts, updates, deletes and transactions across three collections with a
 * progress line; then prints the lake tree and a verification line checked
 * against an independent record (the emulator's oplog, or the driver's own
 * write results against a real MongoDB).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AdlsEmulator, startAdlsEmulator } from '@tributary/emulator-adls';
import { type MongoEmulator, startMongoEmulator } from '@tributary/emulator-mongodb';
import { compareWithSource, createLakeFromConfig, inventoryLake } from '@tributary/lake';
import { MongoClient } from 'mongodb';
import { NAMESPACES, runMixedLoad } from '../../e2e/src/mixed-load.ts';
import { ServiceProcess } from '../../e2e/src/service-process.ts';
import { demoRedis } from './demo-redis.ts';
import { demoServiceBus } from './demo-servicebus.ts';
import { printLakeTree } from './lake-tree.ts';
import { Progress } from './progress.ts';

const ROOT = fileURLToPath(new URL('../../.tributary/demo/', import.meta.url));
const ROUNDS = Number(process.env.DEMO_ROUNDS ?? 30);
const PATH_TEMPLATE = '{db}/{coll}/year={YYYY}/month={MM}/day={DD}/hour={HH}';
/** The services validate TRIBUTARY_TRANSPORT themselves; the demo only picks what to start for it. */
const SERVICE_BUS = process.env.TRIBUTARY_TRANSPORT?.trim() === 'servicebus';
const say = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  say(
    `Tributary demo: MongoDB change streams → ${SERVICE_BUS ? 'Azure Service Bus' : 'BullMQ'} → partitioned JSONL on ADLS Gen2`,
  );
  await rm(ROOT, { recursive: true, force: true });
  await mkdir(ROOT, { recursive: true });
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    // Redis carries the BullMQ transport, and the checkpoints when asked to.
    const redis =
      !SERVICE_BUS || process.env.TRIBUTARY_CHECKPOINT_STORE?.trim() === 'redis'
        ? await demoRedis(say)
        : undefined;
    if (redis) cleanups.push(() => redis.stop());
    const serviceBus = SERVICE_BUS ? await demoServiceBus() : undefined;
    if (serviceBus) cleanups.push(() => serviceBus.stop());
    const mongo: MongoEmulator | undefined = process.env.MONGODB_URI
      ? undefined
      : await startMongoEmulator();
    if (mongo) cleanups.push(() => mongo.stop());
    const mongoUri = process.env.MONGODB_URI ?? mongo?.uri ?? '';
    const adls: AdlsEmulator | undefined =
      process.env.ADLS_ACCOUNT_URL || process.env.ADLS_CONNECTION_STRING
        ? undefined
        : await startAdlsEmulator({ dataDir: join(ROOT, 'adls') });
    if (adls) cleanups.push(() => adls.stop());
    const lakeEnv: Record<string, string> = adls
      ? {
          TRIBUTARY_LAKE: 'adls',
          ADLS_ACCOUNT_URL: adls.url,
          ADLS_ACCOUNT_KEY: adls.accountKey,
          ADLS_FILESYSTEM: 'lake',
        }
      : {
          TRIBUTARY_LAKE: 'adls',
          ADLS_FILESYSTEM: process.env.ADLS_FILESYSTEM ?? 'tributary-demo',
        };
    say(
      `  MongoDB  ${mongo ? `emulator, replica set rs0 at ${new URL(mongoUri).host}` : 'MONGODB_URI (your deployment)'}`,
    );
    say(
      `  ADLS     ${adls ? `emulator at ${adls.url}, filesystem "lake"` : 'your account (ADLS_* settings)'}`,
    );
    if (serviceBus) say(`  Queue    Service Bus: ${serviceBus.description}`);
    if (redis)
      say(
        `  Redis    ${new URL(redis.url).host}${redis.own ? ' (private, started for the demo)' : ''}`,
      );

    const env: Record<string, string> = {
      ...Object.fromEntries(
        Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      MONGODB_URI: mongoUri,
      ...(redis ? { REDIS_URL: redis.url } : {}),
      // A fresh name on a shared Redis; the Service Bus queue is the one that exists.
      TRIBUTARY_QUEUE_NAME: `demo-${Date.now()}`,
      ...serviceBus?.env,
      TRIBUTARY_PARTITION_COUNT: '8',
      TRIBUTARY_INCLUDE_NAMESPACES: NAMESPACES.map(([db, coll]) => `${db}.${coll}`).join(','),
      TRIBUTARY_HEALTH_PORT: '0',
      TRIBUTARY_LOG_LEVEL: 'warn',
      TRIBUTARY_BATCH_MAX_WAIT_MS: '100',
      TRIBUTARY_HEARTBEAT_INTERVAL_MS: '1000',
      ...lakeEnv,
    };
    process.stdout.write('Starting capture and 2 writers … ');
    const capture = ServiceProcess.start('capture', 'capture', {
      ...env,
      TRIBUTARY_LOG_LEVEL: 'info',
    });
    const writers = ['writer-1', 'writer-2'].map((name) =>
      ServiceProcess.start('writer', name, {
        ...env,
        TRIBUTARY_WRITER_ID: name,
        TRIBUTARY_LOG_LEVEL: 'info',
      }),
    );
    const all = [capture, ...writers];
    cleanups.push(() => Promise.all(all.map((p) => p.kill())));
    await capture.waitForLog(/"msg":"capture starting"/);
    await Promise.all(writers.map((w) => w.waitForLog(/"msg":"writer started"/)));
    say('ready');

    const client = new MongoClient(mongoUri);
    await client.connect();
    cleanups.push(() => client.close());
    const lake = await createLakeFromConfig({
      lake: 'adls',
      lakeDir: '',
      adlsAccountUrl: env.ADLS_ACCOUNT_URL,
      adlsAccountKey: env.ADLS_ACCOUNT_KEY,
      adlsConnectionString: env.ADLS_CONNECTION_STRING,
      adlsSasToken: env.ADLS_SAS_TOKEN,
      adlsFilesystem: env.ADLS_FILESYSTEM,
    });
    cleanups.push(() => lake.close());

    say(
      `Load: ${ROUNDS} rounds of inserts, updates, replaces, deletes and transactions over ${NAMESPACES.map(([d, c]) => `${d}.${c}`).join(', ')}`,
    );
    const progress = new Progress(ROUNDS);
    let produced = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      produced += await runMixedLoad(client, { rounds: 1, firstRound: round });
      const landed = (await inventoryLake(lake, PATH_TEMPLATE)).lines;
      progress.update(round + 1, produced, landed);
    }
    progress.done();

    process.stdout.write('Waiting for the lake to catch up … ');
    const started = Date.now();
    const sourceTokens = () => mongo?.oplogEntries().map((r) => r.resumeToken._data);
    let inventory = await inventoryLake(lake, PATH_TEMPLATE);
    while (inventory.lines < produced && Date.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 250));
      inventory = await inventoryLake(lake, PATH_TEMPLATE);
    }
    say(`${((Date.now() - started) / 1000).toFixed(1)} s`);

    say('Lake:');
    await printLakeTree(lake, say);

    process.stdout.write('Stopping capture and writers (SIGTERM) … ');
    const exits = await Promise.all(all.map((p) => p.stop('SIGTERM')));
    say(`exit codes ${exits.map((e) => e.code).join(', ')}`);

    const tokens = sourceTokens();
    const comparison = tokens
      ? compareWithSource(inventory, tokens)
      : {
          produced,
          inLake: inventory.lines,
          missing: Array(Math.max(0, produced - inventory.lines)),
          duplicated: Array(Math.max(0, inventory.lines - produced)),
        };
    const record = tokens ? "the emulator's oplog" : "the driver's write results";
    say(
      `Verification (against ${record}): events produced ${comparison.produced} · lines in the lake ${inventory.lines} · missing ${comparison.missing.length} · duplicated ${comparison.duplicated.length}`,
    );
    if (inventory.problems.length > 0)
      say(`Lake problems:\n  ${inventory.problems.slice(0, 10).join('\n  ')}`);
    const exact =
      comparison.missing.length === 0 &&
      comparison.duplicated.length === 0 &&
      inventory.problems.length === 0;
    const clean = exits.every((e) => e.code === 0);
    if (!exact || !clean) {
      for (const p of all)
        say(`--- last log lines of ${p.name}\n${p.output().split('\n').slice(-8).join('\n')}`);
    }
    return exact && clean ? 0 : 1;
  } finally {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error: unknown) => say(`cleanup: ${String(error)}`));
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  say(`\nDemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
