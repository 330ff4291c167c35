import { describe, expect, it } from 'vitest';
import { requireRedis } from '../src/index.ts';

describe('the Redis precondition', () => {
  it('passes against the test Redis', async () => {
    await expect(requireRedis()).resolves.toBeUndefined();
  });

  it('fails at once, naming what to do, when Redis is down', async () => {
    const started = Date.now();
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    await expect(requireRedis('redis://127.0.0.1:1')).rejects.toThrow(
      /Redis is not reachable at 127\.0\.0\.1:1 .*redis-server --daemonize yes/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
