import { fileURLToPath } from 'node:url';
import { startMongoEmulator } from '@tributary/emulator-mongodb';
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConnectionRecorder,
  NodeProcess,
  runNodeScript,
  startPrivateRedis,
} from '@tributary/testing';

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

describe('capture with MongoDB not answering at start', () => {
  it('logs one line naming the host and what to check, keeps retrying, and starts once MongoDB is there', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const lakeDir = await mkdtemp(join(tmpdir(), 'capture-start-'));
    await using redis = await startPrivateRedis();
    const child = NodeProcess.start(main, {
      MONGODB_URI: `mongodb://127.0.0.1:${port}/?replicaSet=rs0&serverSelectionTimeoutMS=300&directConnection=true`,
      REDIS_URL: redis.url,
      TRIBUTARY_QUEUE_NAME: `start-${port}`,
      TRIBUTARY_LAKE_DIR: lakeDir,
      TRIBUTARY_HEALTH_PORT: '0',
    });
    try {
      await child.waitFor(/MongoDB cannot be reached/);
      const line =
        child
          .output()
          .split('\n')
          .find((l) => l.includes('MongoDB cannot be reached')) ?? '';
      const parsed = JSON.parse(line) as { level: number; msg: string };
      expect(parsed.msg).toContain(`127.0.0.1:${port}`);
      expect(parsed.msg).toContain('check MONGODB_URI');
      expect(line).not.toContain('"stack"');
      expect(child.running).toBe(true);
      const mongo = await startMongoEmulator({ port });
      try {
        await child.waitFor(/"msg":"capture starting"/, 30_000);
        expect(child.output()).toMatch(/mongodb works again/);
      } finally {
        await child.stop();
        await mongo.stop();
      }
    } finally {
      await child.stop();
      await rm(lakeDir, { recursive: true, force: true });
    }
  }, 60_000);
});
