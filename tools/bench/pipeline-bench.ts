/**
 * End-to-end benchmark of the whole pipeline (not a test):
 *
 *   npx node tools/bench/pipeline-bench.ts [--seconds=20] [--writers=1,3] [--rate=2000]
 *                                          [--transport=bullmq,servicebus] [--tracing=off,on]
 *
 * For each transport and writer count: the MongoDB emulator and the ADLS
 * emulator (both in this process), the queue — real Redis for BullMQ, or
 * the Service Bus emulator in this process (durable, as in the e2e suite) —
 * capture and N writers as real processes, wired by `Pipeline` from the
 * end-to-end harness. Both transports are measured in the same run, one
 * after the other, so their figures can be compared. A steady load of ~1 KB documents
 * runs for `--seconds`; the lake is tailed every 100 ms and each line is
 * stamped with the time it first became visible. Reported per run:
 *  - landed events/s: lines that became visible during the load, per second,
 *    counted from the lake itself;
 *  - lag p50/p99/max: visible in the lake − the event's wallTime at the source;
 *  - the lake read back in full against the emulator's oplog: missing and
 *    duplicated must both be 0, or the run fails.
 * The first seconds of the load are ramp-up and are left out of the figures.
 *
 * With `--tracing=off,on` (the default) every configuration runs twice:
 * without tracing, and with every batch traced and exported over OTLP
 * (protobuf, the default protocol) to a receiver in this process — the
 * overhead of tracing is the ratio of the two in the same run.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { requireRedis } from '@tributary/testing';
import { OtlpReceiver } from '../../e2e/src/otlp-receiver.ts';
import { Pipeline } from '../../e2e/src/pipeline.ts';
import { TRANSPORTS, type TransportName } from '../../e2e/src/transports.ts';
import { LakeTail } from './lake-tail.ts';
import { lagStats } from './lag-stats.ts';
import { SteadyLoad } from './steady-load.ts';

/** One run's figures, as the runner's summary reads them from `--result-file`. */
export interface PipelineRun {
  readonly transport: TransportName;
  readonly writers: number;
  /** Whether every batch was traced and exported. */
  readonly tracing: boolean;
  /** OTLP trace exports the receiver took (0 without tracing). */
  readonly traceExports: number;
  readonly offeredPerSecond: number;
  readonly landedPerSecond: number;
  readonly p50LagMs: number;
  readonly p99LagMs: number;
  readonly maxLagMs: number;
  /** After the load stopped, until every event was in the lake. */
  readonly drainMs: number;
  /** Events the oplog recorded (warm-up included). */
  readonly sourceEvents: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly unexpected: number;
  /** Rules of the lake's layout broken (file names, order, directories). */
  readonly problems: number;
}

const RAMP_UP_MS = 2_000;
const POLL_MS = 100;
const WARM_UP_EVENTS = 200;
const DRAIN_TIMEOUT_MS = 60_000;

/**
 * Service settings for throughput: batches up to 1,000 events or 4 MiB,
 * published 250 ms (the default) after their first event at the latest, and
 * routing by document key so one busy collection spreads over all partitions
 * (by namespace it would sit on one partition and one writer). The e2e
 * harness's 50 ms wait suits tests, not throughput: each batch costs an
 * append, a flush, a checkpoint and an ack whatever its size, and at 50 ms
 * with 8 partitions that per-batch cost capped this 2-core machine at ~600
 * events/s with one writer, against ~2,000 at 250 ms.
 */
const SERVICE_ENV = {
  TRIBUTARY_LOG_LEVEL: 'warn',
  TRIBUTARY_PARTITION_KEY: 'namespace+documentKey',
  TRIBUTARY_BATCH_MAX_EVENTS: '1000',
  TRIBUTARY_BATCH_MAX_BYTES: String(4 * 1024 * 1024),
  TRIBUTARY_BATCH_MAX_WAIT_MS: '250',
  TRIBUTARY_MAX_IN_FLIGHT_BATCHES: '16',
};

function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Waits until `done()` holds, failing fast if a service process or the tail died. */
async function waitFor(
  pipeline: Pipeline,
  tail: LakeTail,
  what: string,
  done: () => boolean,
  timeoutMs: number,
): Promise<void> {
  const started = Date.now();
  while (!done()) {
    const dead = pipeline.processes.find((p) => !p.running);
    if (dead)
      throw new Error(`${dead.name} exited during the benchmark:\n${dead.output().slice(-3000)}`);
    if (tail.failure !== undefined)
      throw new Error('reading the lake failed', { cause: tail.failure });
    if (Date.now() - started > timeoutMs) {
      const logs = pipeline.processes.map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`);
      throw new Error(`${what}: not done after ${timeoutMs} ms\n${logs.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The pipeline running now, so that a signal still stops its processes and emulators. */
let running: Pipeline | undefined;

function closeOnSignal(signal: NodeJS.Signals): void {
  console.error(`${signal}: stopping the pipeline`);
  void (running?.close() ?? Promise.resolve())
    .catch((error: unknown) => console.error('clean-up failed:', error))
    .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

/** One run with `writers` writer processes, from start-up to clean-up. */
export async function runPipeline(options: {
  transport: TransportName;
  writers: number;
  seconds: number;
  eventsPerSecond: number;
  tracing: boolean;
}): Promise<PipelineRun> {
  const collector = options.tracing ? await OtlpReceiver.start() : undefined;
  const pipeline = await Pipeline.start({
    transport: options.transport,
    lake: 'adls',
    partitionCount: 8,
    env: collector ? { ...SERVICE_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } : SERVICE_ENV,
  });
  running = pipeline;
  const tail = new LakeTail(() => pipeline.lake());
  try {
    // Capture at info: its only info lines are start-up and queue pause/resume,
    // and the harness waits for "capture starting" before any load is produced.
    await pipeline.startCapture({ TRIBUTARY_LOG_LEVEL: 'info' });
    for (let i = 1; i <= options.writers; i++) pipeline.startWriter(`writer-${i}`);
    tail.start(POLL_MS);
    const run = await measure(pipeline, tail, options);
    return { ...run, tracing: options.tracing, traceExports: collector?.traceExports ?? 0 };
  } finally {
    await tail.stop().catch((error: unknown) => console.error('lake tail failed:', error));
    await pipeline.close();
    await collector?.close();
    running = undefined;
  }
}

/** Warm-up, the timed load with progress each second, the drain, then the figures. */
async function measure(
  pipeline: Pipeline,
  tail: LakeTail,
  options: { transport: TransportName; writers: number; seconds: number; eventsPerSecond: number },
): Promise<Omit<PipelineRun, 'tracing' | 'traceExports'>> {
  const collection = pipeline.client.db('bench').collection('docs');
  // Warm-up: the first events land only once writers hold partitions and
  // have created their files; that start-up is not what is measured.
  await collection.insertMany(
    Array.from({ length: WARM_UP_EVENTS }, (_, i) => ({ warmUp: i, at: new Date() })),
  );
  await waitFor(pipeline, tail, 'warm-up', () => tail.landed >= WARM_UP_EVENTS, 30_000);
  const warmUp = tail.landed;

  const load = new SteadyLoad();
  const loadStart = Date.now();
  let lastLanded = tail.landed;
  const progress = setInterval(() => {
    const second = Math.round((Date.now() - loadStart) / 1000);
    console.log(
      `  ${String(second).padStart(3)} s  produced ${thousands(load.produced).padStart(8)}  landed ${thousands(tail.landed - warmUp).padStart(8)}  (+${thousands(tail.landed - lastLanded)}/s)`,
    );
    lastLanded = tail.landed;
  }, 1000);
  let loadEnd: number;
  let drainMs: number;
  try {
    await load.run(collection, {
      eventsPerSecond: options.eventsPerSecond,
      durationMs: options.seconds * 1000,
      maxBatch: 1000,
    });
    loadEnd = Date.now();
    const expected = warmUp + load.produced;
    await waitFor(pipeline, tail, 'drain', () => tail.landed >= expected, DRAIN_TIMEOUT_MS);
    drainMs = Date.now() - loadEnd;
  } finally {
    clearInterval(progress);
  }
  await tail.stop();

  const stats = lagStats(tail.events().values(), { fromMs: loadStart + RAMP_UP_MS, toMs: loadEnd });
  // The independent record: the whole lake read back against the oplog.
  const { inventory, comparison } = await pipeline.verify();
  return {
    transport: options.transport,
    writers: options.writers,
    offeredPerSecond: load.produced / ((loadEnd - loadStart) / 1000),
    landedPerSecond: stats.landedPerSecond,
    p50LagMs: stats.p50Ms,
    p99LagMs: stats.p99Ms,
    maxLagMs: stats.maxMs,
    drainMs,
    sourceEvents: comparison.produced,
    missing: comparison.missing.length,
    duplicated: comparison.duplicated.length,
    unexpected: comparison.unexpected.length,
    problems: inventory.problems.length,
  };
}

function table(runs: readonly PipelineRun[]): string {
  const header =
    '| transport | tracing | writers | offered ev/s | landed ev/s | lag p50 | lag p99 | lag max | drain |\n' +
    '|-----------|---------|--------:|-------------:|------------:|--------:|--------:|--------:|------:|';
  const rows = runs.map(
    (r) =>
      `| ${r.transport} | ${r.tracing ? 'on' : 'off'} | ${r.writers} | ${thousands(r.offeredPerSecond)} | ${thousands(r.landedPerSecond)} | ${thousands(r.p50LagMs)} ms | ${thousands(r.p99LagMs)} ms | ${thousands(r.maxLagMs)} ms | ${thousands(r.drainMs)} ms |`,
  );
  return [header, ...rows].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      writers: { type: 'string', default: '1,3' },
      rate: { type: 'string', default: '2000' },
      transport: { type: 'string', default: TRANSPORTS.join(',') },
      tracing: { type: 'string', default: 'off,on' },
      'result-file': { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const writerCounts = values.writers.split(',').map(Number);
  const transports = values.transport.split(',');
  const tracings = values.tracing.split(',');
  const known = (name: string): name is TransportName =>
    (TRANSPORTS as readonly string[]).includes(name);
  if (
    !(seconds > 2) ||
    !(rate > 0) ||
    writerCounts.some((n) => !Number.isInteger(n) || n < 1) ||
    !transports.every(known) ||
    !tracings.every((t) => t === 'off' || t === 'on')
  )
    throw new Error(
      `usage: --seconds=<more than 2> --rate=<events/s> --writers=<n>[,<n>…] --transport=<${TRANSPORTS.join('|')}>[,…] --tracing=<off|on>[,…]`,
    );
  if (transports.includes('bullmq')) await requireRedis();
  process.once('SIGINT', closeOnSignal);
  process.once('SIGTERM', closeOnSignal);

  const runs: PipelineRun[] = [];
  let failed = false;
  for (const transport of transports.filter(known))
    for (const writers of writerCounts)
      for (const tracing of tracings.map((t) => t === 'on')) {
        console.log(
          `pipeline on ${transport}${tracing ? ', tracing on' : ''}: ${writers} writer(s), ${thousands(rate)} docs/s of ~1 KB for ${seconds} s (Node ${process.version})`,
        );
        const run = await runPipeline({
          transport,
          writers,
          seconds,
          eventsPerSecond: rate,
          tracing,
        });
        runs.push(run);
        const exact = run.missing === 0 && run.duplicated === 0 && run.unexpected === 0;
        failed ||= !exact || run.problems > 0;
        console.log(
          `  verified against the oplog: ${thousands(run.sourceEvents)} events, missing = ${run.missing}, duplicated = ${run.duplicated}, unexpected = ${run.unexpected}, layout problems = ${run.problems}${exact ? '' : '  <-- FAILED'}${tracing ? `; ${thousands(run.traceExports)} trace exports received` : ''}`,
        );
      }
  console.log('');
  console.log(table(runs));
  if (values['result-file']) writeFileSync(values['result-file'], JSON.stringify(runs));
  if (failed) throw new Error('the lake does not match the oplog exactly');
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
