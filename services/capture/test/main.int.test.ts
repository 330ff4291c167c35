import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConnectionRecorder, runNodeScript } from '@tributary/testing';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('capture start-up', () => {
  it('exits 78 naming every bad setting, before contacting MongoDB or Redis', async () => {
    await using mongo = await ConnectionRecorder.listen();
    await using redis = await ConnectionRecorder.listen();
    const result = await runNodeScript(main, {
      MONGODB_URI: `mongodb://app:pw-should-not-print@127.0.0.1:${mongo.port}/?replicaSet=rs0`,
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      TRIBUTARY_BATCH_MAX_EVENTS: 'ten',
      TRIBUTARY_TRANSPORT: 'kafka',
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('Invalid capture configuration (2 problems)');
    expect(result.stderr).toContain('TRIBUTARY_BATCH_MAX_EVENTS: expected a whole number');
    expect(result.stderr).toContain(
      'TRIBUTARY_TRANSPORT: expected one of bullmq, servicebus, got "kafka"',
    );
    expect(result.stderr + result.stdout).not.toContain('pw-should-not-print');
    expect(mongo.connections).toBe(0);
    expect(redis.connections).toBe(0);
  });

  it('names a missing MongoDB URI', async () => {
    const result = await runNodeScript(main, {});
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('MONGODB_URI: is required but not set');
  });
});
