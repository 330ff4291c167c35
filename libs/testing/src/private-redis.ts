import { freePort } from './free-port.ts';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';

/** A redis-server of one's own, in memory, on a free loopback port. */
export interface PrivateRedis extends AsyncDisposable {
  readonly url: string;
  /** FLUSHALL: Redis losing everything, as after a restart without persistence. */
  flushAll(): Promise<void>;
  /**
   * Stops the server (SIGKILL: no goodbye to its clients) and starts an
   * empty one on the same port once `downForMs` have passed: a real restart
   * without persistence — connections drop, blocked commands fail, clients
   * reconnect to a Redis that knows nothing — which FLUSHALL alone does not
   * show. Resolves once the new server answers.
   */
  restart(options?: { downForMs?: number }): Promise<void>;
  /** SIGKILLs the server: Redis down until {@link PrivateRedis.restart}. */
  kill(): Promise<void>;
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

/** Starts redis-server in memory on `port` and waits until it answers. */
async function spawnRedis(port: number): Promise<ChildProcess> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await redisAnswers(url)); i += 1)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await redisAnswers(url))) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}`);
  }
  return child;
}

/** Sends `signal` unless the process already ended, and resolves once it has. */
function ended(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/**
 * Starts a private redis-server (no persistence) for tests that must flush,
 * restart or stop Redis without disturbing the shared one others use.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child = await spawnRedis(port);
  let stopped: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      // A restart in progress would start a server after the stop otherwise.
      await restarting?.catch(reportedByRestart);
      await ended(child, 'SIGTERM');
    })());
  return {
    url,
    stop,
    [Symbol.asyncDispose]: stop,
    async kill() {
      await ended(child, 'SIGKILL');
    },
    async flushAll() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    restart(options = {}) {
      if (stopped) return Promise.reject(new Error('this private Redis is stopped'));
      if (restarting) return Promise.reject(new Error('this private Redis is already restarting'));
      restarting = (async () => {
        await ended(child, 'SIGKILL');
        await new Promise((r) => setTimeout(r, options.downForMs ?? 0));
        child = await spawnRedis(port);
      })().finally(() => (restarting = undefined));
      return restarting;
    },
  };
}

/** A failed restart rejected its own caller; stopping only needs it to be over. */
function reportedByRestart(): void {}
