import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A redis-server of one's own, in memory, on a free loopback port. */
export interface PrivateRedis extends AsyncDisposable {
  readonly url: string;
  /** FLUSHALL: Redis losing everything, as after a restart without persistence. */
  flushAll(): Promise<void>;
  /** SIGKILLs the server: Redis down until {@link PrivateRedis.restart}. */
  kill(): Promise<void>;
  /** (Re)starts the server on the same port, empty, as a Redis without persistence comes back. */
  restart(): Promise<void>;
  /** Stops the server; idempotent. */
  stop(): Promise<void>;
}

/** True when `redis-server` is on the PATH. */
export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** True when a Redis answers PING at `url` within a second and a half. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', ignoreProbeError);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A probe's failure is its answer; the connection's error event only repeats it. */
function ignoreProbeError(): void {}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function launch(port: number): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
}

async function untilServing(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 50 && !(await redisAnswers(url)); i += 1)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await redisAnswers(url))) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start at ${url}`);
  }
}

function ended(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Starts a private redis-server (no persistence) for tests that must flush,
 * stop or restart Redis without disturbing the shared one others use.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child = launch(port);
  await untilServing(url, child);
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= ended(child));
  return {
    url,
    stop,
    [Symbol.asyncDispose]: stop,
    async kill() {
      await ended(child);
    },
    async restart() {
      await ended(child);
      child = launch(port);
      await untilServing(url, child);
    },
    async flushAll() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
  };
}
