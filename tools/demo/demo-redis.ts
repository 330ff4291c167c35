import { redisAnswers, redisServerInstalled, startPrivateRedis } from '@tributary/testing';

/** The Redis the demo uses, and how to let go of it. */
export interface DemoRedis {
  readonly url: string;
  /** True when the demo started this Redis itself. */
  readonly own: boolean;
  stop(): Promise<void>;
}

/**
 * The Redis at `REDIS_URL` (default 127.0.0.1:6379). When none answers and
 * none was asked for, and `redis-server` is installed, starts a private
 * in-memory one for the demo's lifetime, so the Quickstart works as written.
 */
export async function demoRedis(log: (line: string) => void): Promise<DemoRedis> {
  const asked = process.env.REDIS_URL;
  const url = asked ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) return { url, own: false, stop: async () => undefined };
  if (asked || !redisServerInstalled()) {
    throw new Error(
      `No Redis answers at ${new URL(url).host}. Start one (\`redis-server --daemonize yes\`) or set REDIS_URL, then run the demo again.`,
    );
  }
  const redis = await startPrivateRedis();
  log(
    `No Redis at ${new URL(url).host}: started a private, in-memory redis-server at ${new URL(redis.url).host} for the demo.`,
  );
  return { url: redis.url, own: true, stop: () => redis.stop() };
}
