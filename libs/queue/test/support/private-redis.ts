import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '@tributary/testing';
import { Redis } from 'ioredis';

/**
 * A throw-away `redis-server` child process on a free port, without
 * persistence, for tests that must FLUSHALL or restart Redis — never the
 * shared one other test files use at the same time.
 */
export class PrivateRedis {
  readonly port: number;
  #process: ChildProcess;

  private constructor(port: number) {
    this.port = port;
    this.#process = launch(port);
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.#waitUntilServing();
    return redis;
  }

  /** Starts the server again on the same port after {@link PrivateRedis.stop}, empty. */
  async restart(): Promise<void> {
    await this.stop();
    this.#process = launch(this.port);
    await this.#waitUntilServing();
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Deletes every key, as a Redis restarted without persistence would. */
  async flushAll(): Promise<void> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
  }

  /** Kills the server. Idempotent. */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    const exited = once(this.#process, 'exit');
    this.#process.kill('SIGKILL');
    await exited;
  }

  async #waitUntilServing(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', ignoreWhileStarting);
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`redis-server did not start on ${this.port}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        client.disconnect();
      }
    }
  }
}

function launch(port: number): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
}

/** Connection refusals are expected until the server listens; connect() reports them. */
function ignoreWhileStarting(): void {}

/** A port nothing listens on right now: bind to 0, read it, release it. */
