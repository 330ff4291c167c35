/**
 * Throughput benchmark of the ADLS emulator through the official SDK over
 * HTTP (not a test):
 *
 *   npx node libs/emulators/adls/bench/bench.ts [--seconds 8] [--in-process]
 *
 * The emulator runs as its own process (the standalone command), so it gets
 * one core to itself and the SDK client another — "on one core" means the
 * emulator's core. `--in-process` runs both in this process instead.
 *
 * Measures:
 *  1. MB/s of 4 MiB appends (4 in flight, flushed every 64 MiB);
 *  2. append+flush pairs per second with ~200-byte appends (32 files, one
 *     writer each, each pair an append then a flush, as the Tributary writer
 *     does at batch boundaries).
 *
 * On a small machine the SDK client, not the emulator, is what saturates
 * first (one SDK client process manages roughly a thousand pairs a second on
 * a core). So besides the end-to-end rate, the emulator's own CPU time is
 * read from /proc and the rate it could sustain on one fully busy core is
 * reported: work done ÷ emulator CPU-seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DataLakeServiceClient, type DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { startAdlsEmulator, type AdlsEmulator } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    'in-process': { type: 'boolean', default: false },
  },
});
const PHASE_MS = Number(values.seconds) * 1000;
const BIG = 4 * 1024 * 1024;
const BIG_IN_FLIGHT = 4;
const FLUSH_EVERY = 64 * 1024 * 1024;
const SMALL_WRITERS = 32;

function progress(text: string): void {
  process.stdout.write(`\r${text.padEnd(78)}`);
}

/** USER_HZ: the unit of /proc/<pid>/stat CPU times (100 on Linux builds in practice). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by process `pid`, when /proc is there. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  const file = `/proc/${pid ?? 0}/stat`;
  if (pid === undefined || !existsSync(file)) return undefined;
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

interface Phase {
  rate: number;
  emulatorCpuSeconds: number | undefined;
  seconds: number;
}

async function measure(
  pid: number | undefined,
  run: () => Promise<{ work: number; seconds: number }>,
): Promise<Phase> {
  const cpuBefore = cpuSecondsOf(pid);
  const { work, seconds } = await run();
  const cpuAfter = cpuSecondsOf(pid);
  const emulatorCpuSeconds =
    cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return {
    rate: work / seconds,
    emulatorCpuSeconds: emulatorCpuSeconds === undefined ? undefined : emulatorCpuSeconds,
    seconds,
  };
}

function perCore(phase: Phase): string {
  if (phase.emulatorCpuSeconds === undefined || phase.emulatorCpuSeconds <= 0)
    return 'emulator CPU not measured';
  const busy = phase.emulatorCpuSeconds / phase.seconds;
  return `emulator core ${(busy * 100).toFixed(0)}% busy -> ${(phase.rate / busy).toFixed(0)} per fully busy core`;
}

async function startExternal(
  dataDir: string,
): Promise<{ connectionString: string; pid: number | undefined; stop: () => Promise<void> }> {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [cli, '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const connectionString = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^connection string: (\S+)$/m.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`emulator exited: ${output}`)));
  });
  return {
    connectionString,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function bigAppends(
  fs: DataLakeFileSystemClient,
): Promise<{ work: number; seconds: number }> {
  const chunk = Buffer.alloc(BIG, 0x61);
  const deadline = performance.now() + PHASE_MS;
  const start = performance.now();
  let bytes = 0;
  let fileIndex = 0;
  while (performance.now() < deadline) {
    const file = fs.getFileClient(`big/file-${fileIndex++}.bin`);
    await file.create();
    let position = 0;
    while (position < FLUSH_EVERY && performance.now() < deadline) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < BIG_IN_FLIGHT; i++) {
        batch.push(file.append(chunk, position, BIG));
        position += BIG;
      }
      await Promise.all(batch);
      bytes += BIG * BIG_IN_FLIGHT;
      const seconds = (performance.now() - start) / 1000;
      progress(
        `4 MiB appends: ${(bytes / 1024 / 1024).toFixed(0)} MiB in ${seconds.toFixed(1)} s = ${(bytes / 1024 / 1024 / seconds).toFixed(0)} MiB/s`,
      );
    }
    await file.flush(position);
    // Keep the disk footprint small: the data has been measured, drop it.
    await file.delete();
  }
  return { work: bytes / 1024 / 1024, seconds: (performance.now() - start) / 1000 };
}

async function smallPairs(
  fs: DataLakeFileSystemClient,
): Promise<{ work: number; seconds: number }> {
  const line = Buffer.from(
    `${JSON.stringify({ op: 'insert', ns: 'db.coll', doc: { _id: 1, v: 'x'.repeat(120) } })}\n`,
  );
  const deadline = performance.now() + PHASE_MS;
  const start = performance.now();
  let pairs = 0;
  const writers = Array.from({ length: SMALL_WRITERS }, async (_, w) => {
    const file = fs.getFileClient(`small/writer-${w}.jsonl`);
    await file.create();
    let position = 0;
    while (performance.now() < deadline) {
      await file.append(line, position, line.length);
      position += line.length;
      await file.flush(position);
      pairs++;
      if (w === 0 && pairs % 200 < 2) {
        const seconds = (performance.now() - start) / 1000;
        progress(
          `small append+flush pairs: ${pairs} in ${seconds.toFixed(1)} s = ${(pairs / seconds).toFixed(0)} pairs/s`,
        );
      }
    }
  });
  await Promise.all(writers);
  return { work: pairs, seconds: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'adls-bench-'));
  let emulator: AdlsEmulator | undefined;
  let external: Awaited<ReturnType<typeof startExternal>> | undefined;
  try {
    let connectionString: string;
    if (values['in-process']) {
      emulator = await startAdlsEmulator({ dataDir });
      connectionString = emulator.connectionString;
    } else {
      external = await startExternal(dataDir);
      connectionString = external.connectionString;
    }
    console.log(
      `ADLS emulator benchmark (${values['in-process'] ? 'in-process' : 'emulator in its own process'}, ${PHASE_MS / 1000} s per phase, Node ${process.version})`,
    );
    const service = DataLakeServiceClient.fromConnectionString(connectionString, {
      retryOptions: { maxTries: 1 },
      keepAliveOptions: { enable: true },
    });
    const fs = service.getFileSystemClient('bench');
    await fs.create();
    const pid = external?.pid;
    const big = await measure(pid, () => bigAppends(fs));
    progress('');
    console.log(
      `\r4 MiB appends:            ${big.rate.toFixed(0)} MiB/s end to end (${perCore(big)})`,
    );
    const small = await measure(pid, () => smallPairs(fs));
    progress('');
    console.log(
      `\rsmall append+flush pairs: ${small.rate.toFixed(0)} pairs/s end to end, ${SMALL_WRITERS} files in parallel (${perCore(small)})`,
    );
  } finally {
    await emulator?.stop();
    await external?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
