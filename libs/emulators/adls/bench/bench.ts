/**
 * Throughput benchmark of the ADLS emulator through the official SDK over
 * HTTP (not a test):
 *
 *   npx node libs/emulators/adls/bench/bench.ts [--seconds 8] [--clients 2]
 *     [--phase all|big|small] [--in-process] [--null-service] [--cpu-prof-dir DIR]
 *
 * The emulator runs as its own process (the standalone command), so "on one
 * core" means the emulator's core: it is one Node process and uses one core
 * for its work. The load comes from `--clients` separate client processes
 * (`load-worker.ts`), each using the official SDK for every request over
 * keep-alive connections — one SDK process alone saturates its core well
 * before the emulator does. `--in-process` runs the emulator in this
 * (otherwise idle) orchestrating process instead; `--cpu-prof-dir` starts
 * the emulator process with `--cpu-prof` to see where its time goes.
 * `--null-service` drives a do-nothing stand-in (`null-service.ts`) instead
 * of the emulator: the rate the SDK clients alone can reach on this machine.
 *
 * Measures:
 *  1. MiB/s of 4 MiB appends (2 in flight per client, flushed every 64 MiB);
 *  2. append+flush pairs per second with ~200-byte appends (16 files per
 *     client, one writer each, each pair an append then a flush, as the
 *     Tributary writer does at batch boundaries).
 *
 * Besides the end-to-end rate, the emulator's own CPU time is read from
 * /proc and the rate one fully busy emulator core would sustain is reported:
 * work done ÷ emulator CPU-seconds.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DataLakeServiceClient } from '@azure/storage-file-datalake';
import { startAdlsEmulator, type AdlsEmulator } from '../src/index.ts';
import type { DoneMessage, PrepareMessage } from './load-worker.ts';
import { startNullService } from './null-service.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    clients: { type: 'string', default: '2' },
    phase: { type: 'string', default: 'all' },
    'in-process': { type: 'boolean', default: false },
    'null-service': { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
  },
});
const PHASE_MS = Number(values.seconds) * 1000;
const CLIENTS = Number(values.clients);
const BIG_IN_FLIGHT_PER_CLIENT = 2;
const SMALL_WRITERS_PER_CLIENT = 16;
const FILESYSTEM = 'bench';

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
  requests: number;
  clientCpuSeconds: number;
}

function perCore(phase: Phase): string {
  if (phase.emulatorCpuSeconds === undefined || phase.emulatorCpuSeconds <= 0)
    return 'emulator CPU not measured';
  const busy = phase.emulatorCpuSeconds / phase.seconds;
  return `emulator core ${(busy * 100).toFixed(0)}% busy -> ${(phase.rate / busy).toFixed(0)} per fully busy core`;
}

/** CPU per request on each side: where an end-to-end figure on a small machine goes. */
function cpuPerRequest(phase: Phase): string {
  const micros = (seconds: number | undefined): string =>
    seconds === undefined ? '?' : ((seconds / phase.requests) * 1e6).toFixed(0);
  return `CPU per request: emulator ${micros(phase.emulatorCpuSeconds)} µs, SDK clients ${micros(phase.clientCpuSeconds)} µs`;
}

/** A forked `load-worker.ts` and a way to wait for its next message of a type. */
interface Worker {
  child: ChildProcess;
  next<T>(type: string): Promise<T>;
}

function profileArgs(kind: string): string[] {
  const dir = values['cpu-prof-dir'];
  return dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.join(dir, kind)];
}

function startWorker(): Worker {
  const child = fork(fileURLToPath(new URL('./load-worker.ts', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // A larger young generation: the SDK allocates a lot per request, and
    // fewer scavenges leave more of the machine to the emulator.
    execArgv: ['--max-semi-space-size=32', ...profileArgs('client')],
  });
  const next = <T>(type: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: { type: string; error?: string }): void => {
        if (message.type === 'error') reject(new Error(`load worker failed: ${message.error}`));
        else if (message.type === type) resolve(message as T);
        else return;
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onExit = (code: number | null): void =>
        reject(new Error(`load worker exited (${String(code)})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return { child, next };
}

/** Prepares the phase in every worker, then runs it in all of them at once around a CPU reading. */
async function runPhase(
  workers: Worker[],
  emulatorPid: number | undefined,
  order: Omit<PrepareMessage, 'type' | 'prefix'>,
): Promise<Phase> {
  const ready = workers.map((w) => w.next('ready'));
  workers.forEach((w, i) =>
    w.child.send({
      type: 'prepare',
      ...order,
      prefix: `${order.phase}-${i}`,
    } satisfies PrepareMessage),
  );
  await Promise.all(ready);
  const done = workers.map((w) => w.next<DoneMessage>('done'));
  const cpuBefore = cpuSecondsOf(emulatorPid);
  const start = performance.now();
  for (const w of workers) w.child.send({ type: 'go' });
  const results = await Promise.all(done);
  const seconds = (performance.now() - start) / 1000;
  const cpuAfter = cpuSecondsOf(emulatorPid);
  const work = results.reduce((sum, r) => sum + r.work, 0);
  return {
    rate: work / seconds,
    emulatorCpuSeconds:
      cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    seconds,
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    clientCpuSeconds: results.reduce((sum, r) => sum + r.cpuSeconds, 0),
  };
}

async function startExternal(
  dataDir: string,
): Promise<{ connectionString: string; pid: number | undefined; stop: () => Promise<void> }> {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    [...profileArgs('emulator'), cli, '--port', '0', '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
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

async function main(): Promise<void> {
  if (!Number.isInteger(CLIENTS) || CLIENTS < 1) throw new TypeError('--clients must be >= 1');
  if (!['all', 'big', 'small'].includes(values.phase))
    throw new TypeError('--phase must be all, big or small');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'adls-bench-'));
  let emulator: AdlsEmulator | undefined;
  let external: Awaited<ReturnType<typeof startExternal>> | undefined;
  let nullService: Awaited<ReturnType<typeof startNullService>> | undefined;
  const workers: Worker[] = [];
  try {
    let connectionString: string;
    let pid: number | undefined;
    if (values['null-service']) {
      nullService = await startNullService();
      connectionString = nullService.connectionString;
      pid = process.pid;
    } else if (values['in-process']) {
      emulator = await startAdlsEmulator({ dataDir });
      connectionString = emulator.connectionString;
      pid = process.pid;
    } else {
      external = await startExternal(dataDir);
      connectionString = external.connectionString;
      pid = external.pid;
    }
    const load = loadavg()
      .map((n) => n.toFixed(2))
      .join(', ');
    console.log(
      `ADLS emulator benchmark (${values['null-service'] ? 'NULL SERVICE: no emulator, the SDK clients alone' : values['in-process'] ? 'in-process' : 'emulator in its own process'}, ${CLIENTS} SDK client process(es), ${PHASE_MS / 1000} s per phase, Node ${process.version}, load average ${load})`,
    );
    await DataLakeServiceClient.fromConnectionString(connectionString)
      .getFileSystemClient(FILESYSTEM)
      .create();
    for (let i = 0; i < CLIENTS; i++) workers.push(startWorker());
    const common = { connectionString, filesystem: FILESYSTEM, durationMs: PHASE_MS };
    if (values.phase !== 'small') {
      const big = await runPhase(workers, pid, {
        ...common,
        phase: 'big',
        parallelism: BIG_IN_FLIGHT_PER_CLIENT,
      });
      console.log(
        `4 MiB appends:            ${big.rate.toFixed(0)} MiB/s end to end (${perCore(big)})`,
      );
      console.log(`  ${cpuPerRequest(big)}`);
    }
    if (values.phase !== 'big') {
      const small = await runPhase(workers, pid, {
        ...common,
        phase: 'small',
        parallelism: SMALL_WRITERS_PER_CLIENT,
      });
      console.log(
        `small append+flush pairs: ${small.rate.toFixed(0)} pairs/s end to end, ${SMALL_WRITERS_PER_CLIENT * CLIENTS} files in parallel (${perCore(small)})`,
      );
      console.log(`  ${cpuPerRequest(small)}`);
    }
  } finally {
    for (const w of workers) w.child.disconnect();
    await emulator?.stop();
    await external?.stop();
    await nullService?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
