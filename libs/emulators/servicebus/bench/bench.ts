/**
 * Throughput benchmark of the Service Bus emulator through the official SDK
 * over AMQP (not a test):
 *
 *   npx node libs/emulators/servicebus/bench/bench.ts [--seconds 8] [--senders 2] [--receivers 2]
 *     [--batch 100] [--in-flight 4] [--size 1024] [--data-dir DIR] [--cpu-prof-dir DIR]
 *
 * The emulator runs as its own process (the standalone command); the load
 * comes from separate client processes (`load-worker.ts`) using
 * `@azure/service-bus`:
 *
 *  1. send: each sender keeps `--in-flight` batches of `--batch` messages of
 *     `--size` bytes in flight, for `--seconds`;
 *  2. receive: each receiver process runs `--in-flight` peek-lock receive
 *     loops (`receiveMessages(--batch)`, then `completeMessage` for each) on
 *     what the send phase left in the queue, for `--seconds`.
 *
 * Besides the end-to-end rate, the emulator's own CPU time is read from
 * /proc/<pid>/stat and the rate one fully busy emulator core would sustain
 * is reported: messages ÷ emulator CPU-seconds. On a small machine the SDK
 * clients, which spend more CPU per message than the emulator, bound the
 * end-to-end figure.
 */
import { execSync, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulatorProcess } from '../test/support/emulator-process.ts';
import type { DoneMessage, WorkerTask } from './load-worker.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    senders: { type: 'string', default: '2' },
    receivers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '100' },
    'in-flight': { type: 'string', default: '4' },
    size: { type: 'string', default: '1024' },
    'data-dir': { type: 'string' },
    'cpu-prof-dir': { type: 'string' },
  },
});

/** USER_HZ, the unit of /proc/<pid>/stat CPU times (100 on Linux in practice). */
const CLOCK_TICKS_PER_SECOND = 100;

function cpuSecondsOf(pid: number | undefined): number | undefined {
  const file = `/proc/${pid ?? 0}/stat`;
  if (pid === undefined || !existsSync(file)) return undefined;
  const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

interface PhaseResult {
  name: string;
  messages: number;
  seconds: number;
  emulatorCpuSeconds: number | undefined;
  clientCpuSeconds: number;
}

async function runPhase(
  name: string,
  workers: number,
  task: Omit<WorkerTask, 'connectionString' | 'queue'>,
  connectionString: string,
  emulatorPid: number | undefined,
): Promise<PhaseResult> {
  const children = Array.from({ length: workers }, () =>
    fork(
      fileURLToPath(new URL('./load-worker.ts', import.meta.url)),
      [JSON.stringify({ ...task, connectionString, queue: 'bench' })],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: ['--max-semi-space-size=32'],
      },
    ),
  );
  const next = (child: (typeof children)[number], type: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      child.on('message', (m: Record<string, unknown>) => {
        if (m['type'] === 'error') reject(new Error(`worker failed: ${String(m['error'])}`));
        else if (m['type'] === type) resolve(m);
      });
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`worker exited with ${String(code)}`));
      });
    });
  await Promise.all(children.map((c) => next(c, 'ready')));
  const done = children.map((c) => next(c, 'done') as Promise<unknown> as Promise<DoneMessage>);
  const cpuBefore = cpuSecondsOf(emulatorPid);
  const started = Date.now();
  for (const c of children) c.send('go');
  const reports = await Promise.all(done);
  const seconds = (Date.now() - started) / 1000;
  const cpuAfter = cpuSecondsOf(emulatorPid);
  await Promise.all(
    children.map(
      (c) => new Promise((r) => (c.exitCode !== null ? r(undefined) : c.once('exit', r))),
    ),
  );
  return {
    name,
    messages: reports.reduce((n, r) => n + r.count, 0),
    seconds,
    emulatorCpuSeconds:
      cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    clientCpuSeconds: reports.reduce((n, r) => n + r.cpuSeconds, 0),
  };
}

function describe(phase: PhaseResult): string {
  const rate = phase.messages / phase.seconds;
  const lines = [
    `${phase.name}: ${phase.messages} messages in ${phase.seconds.toFixed(1)} s = ${rate.toFixed(0)} msg/s end to end`,
  ];
  if (phase.emulatorCpuSeconds !== undefined && phase.emulatorCpuSeconds > 0) {
    const busy = phase.emulatorCpuSeconds / phase.seconds;
    lines.push(
      `  emulator: ${phase.emulatorCpuSeconds.toFixed(2)} CPU-s (${(busy * 100).toFixed(0)}% of a core) -> ${(phase.messages / phase.emulatorCpuSeconds).toFixed(0)} msg per emulator CPU-second`,
    );
    lines.push(
      `  CPU per message: emulator ${((phase.emulatorCpuSeconds / phase.messages) * 1e6).toFixed(1)} µs, SDK clients ${((phase.clientCpuSeconds / phase.messages) * 1e6).toFixed(1)} µs`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const inFlight = Number(values['in-flight']);
  const batch = Number(values.batch);
  const size = Number(values.size);
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch (error) {
    // Outside a git checkout the commit is simply not known.
    commit = `unknown (${error instanceof Error ? error.message.split('\n')[0] : 'no git'})`;
  }
  const ownDir =
    values['data-dir'] === undefined
      ? undefined
      : mkdtempSync(path.join(values['data-dir'], 'sb-bench-'));
  const args = ['--port', '0', '--queue', 'bench', ...(ownDir ? ['--data-dir', ownDir] : [])];
  const profile = values['cpu-prof-dir'];
  const emulator = await startEmulatorProcess(
    args,
    profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profile}` } : {},
  );
  console.log(
    `${new Date().toISOString()} commit ${commit}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
  );
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${ownDir ? 'durable (data dir)' : 'in memory'}`,
  );
  console.log(
    `${size}-byte messages, batches of ${batch}, ${inFlight} in flight per process, ${seconds} s per phase`,
  );
  try {
    const sendPhase = await runPhase(
      'send (SDK batches)',
      Number(values.senders),
      {
        mode: 'send',
        durationMs: seconds * 1000,
        concurrency: inFlight,
        batchSize: batch,
        messageBytes: size,
      },
      emulator.connectionString,
      emulator.child.pid,
    );
    console.log(describe(sendPhase));
    const receivePhase = await runPhase(
      'receive (peek-lock + complete)',
      Number(values.receivers),
      {
        mode: 'receive',
        durationMs: seconds * 1000,
        concurrency: inFlight,
        batchSize: batch,
        messageBytes: size,
      },
      emulator.connectionString,
      emulator.child.pid,
    );
    console.log(describe(receivePhase));
    console.log(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    emulator.child.kill('SIGTERM');
    await emulator.exited;
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
