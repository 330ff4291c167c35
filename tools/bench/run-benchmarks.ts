/**
 * `npm run bench`: every benchmark, one after another, each in its own
 * process so none inherits another's heap or leftovers:
 *
 *   npm run bench [-- --only=mongodb|adls|pipeline] [-- --seconds=20 --writers=1,3 --rate=2000 --transport=bullmq,servicebus --tracing=off,on]
 *
 *  1. the MongoDB emulator (libs/emulators/mongodb/bench/bench.ts);
 *  2. the ADLS emulator (libs/emulators/adls/bench/bench.ts);
 *  3. the whole pipeline on each transport (tools/bench/pipeline-bench.ts; its options pass through).
 *
 * Prints a summary at the end and exits non-zero if any benchmark failed.
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) for the pipeline on BullMQ.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { redisUrl, requireRedis } from '@tributary/testing';
import { runBench } from './bench-process.ts';
import type { PipelineRun } from './pipeline-bench.ts';

const BENCHES = ['mongodb', 'adls', 'pipeline'] as const;
type BenchName = (typeof BENCHES)[number];

function script(relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.url));
}

/** One line of the summary. */
interface Result {
  readonly name: BenchName;
  readonly ok: boolean;
  readonly seconds: number;
  readonly figures: string;
}

/** The figure a benchmark printed after `label`, or "?" when it printed none. */
function figure(stdout: string, pattern: RegExp): string {
  return pattern.exec(stdout)?.[1] ?? '?';
}

function mongodbFigures(stdout: string): string {
  const insert = figure(stdout, /insertMany \(1 KB docs\):\s+([\d,]+ docs\/s)/);
  const insertCpu = figure(stdout, /insertMany \(1 KB docs\):.*?([\d,]+) docs per CPU-second/);
  const stream = figure(stdout, /change stream delivery:\s+([\d,]+ events\/s)/);
  const streamCpu = figure(stdout, /change stream delivery:.*?([\d,]+) events per CPU-second/);
  return `insertMany ${insert} (${insertCpu} per CPU-s); change stream ${stream} (${streamCpu} per CPU-s)`;
}

function adlsFigures(stdout: string): string {
  const big = figure(stdout, /4 MiB appends:\s+(\d+ MiB\/s)/);
  const bigCore = figure(stdout, /4 MiB appends:.*-> (\d+) per fully busy core/);
  const small = figure(stdout, /small append\+flush pairs:\s+(\d+ pairs\/s)/);
  const smallCore = figure(stdout, /small append\+flush pairs:.*-> (\d+) per fully busy core/);
  return `4 MiB appends ${big} (${bigCore} per emulator core); small append+flush ${small} (${smallCore} per emulator core)`;
}

function pipelineFigures(resultFile: string): string {
  let runs: PipelineRun[];
  try {
    runs = JSON.parse(readFileSync(resultFile, 'utf8')) as PipelineRun[];
  } catch (_notWritten) {
    // The benchmark failed before writing its result; its own output says why.
    return 'no result';
  }
  const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')} ms`;
  return runs
    .map(
      (r) =>
        `${r.transport}${r.tracing ? ' traced' : ''}, ${r.writers} writer(s): ${Math.round(r.landedPerSecond).toLocaleString('en-US')} events/s, lag p50 ${ms(r.p50LagMs)} p99 ${ms(r.p99LagMs)}, missing ${r.missing}, duplicated ${r.duplicated}`,
    )
    .join('; ');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      seconds: { type: 'string' },
      writers: { type: 'string' },
      rate: { type: 'string' },
      transport: { type: 'string' },
      tracing: { type: 'string' },
    },
  });
  const only = values.only;
  if (only !== undefined && !(BENCHES as readonly string[]).includes(only)) {
    console.error(`--only must be one of ${BENCHES.join(', ')}, not "${only}"`);
    return 2;
  }
  const selected = BENCHES.filter((name) => only === undefined || only === name);

  if (
    selected.includes('pipeline') &&
    (values.transport ?? 'bullmq,servicebus').includes('bullmq')
  ) {
    try {
      await requireRedis();
    } catch (error) {
      console.error(
        `The pipeline benchmark needs Redis at ${redisUrl()} (set REDIS_URL to use another): ${(error as Error).message}`,
      );
      return 1;
    }
  }

  const pipelineArgs = (['seconds', 'writers', 'rate', 'transport', 'tracing'] as const).flatMap(
    (name) => (values[name] === undefined ? [] : [`--${name}=${values[name]}`]),
  );
  const scratch = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const resultFile = join(scratch, 'pipeline.json');
  const results: Result[] = [];
  try {
    for (const name of selected) {
      console.log(`\n=== ${name} ===`);
      const started = performance.now();
      const outcome =
        name === 'mongodb'
          ? await runBench(script('../../libs/emulators/mongodb/bench/bench.ts'), [], 180_000)
          : name === 'adls'
            ? await runBench(script('../../libs/emulators/adls/bench/bench.ts'), [], 180_000)
            : await runBench(
                script('./pipeline-bench.ts'),
                [...pipelineArgs, `--result-file=${resultFile}`],
                // Both transports, each with every writer count, with and without tracing, one after the other.
                1_200_000,
              );
      const figures =
        name === 'mongodb'
          ? mongodbFigures(outcome.stdout)
          : name === 'adls'
            ? adlsFigures(outcome.stdout)
            : pipelineFigures(resultFile);
      const ok = outcome.code === 0;
      const ended = outcome.timedOut
        ? 'timed out'
        : `exit ${outcome.code ?? outcome.signal ?? '?'}`;
      results.push({
        name,
        ok,
        seconds: (performance.now() - started) / 1000,
        figures: ok ? figures : `FAILED (${ended}) ${figures}`,
      });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  console.log('\n=== summary ===');
  for (const r of results)
    console.log(
      `${r.name.padEnd(9)} ${r.ok ? 'ok    ' : 'FAILED'} ${r.seconds.toFixed(0).padStart(4)} s  ${r.figures}`,
    );
  return results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
