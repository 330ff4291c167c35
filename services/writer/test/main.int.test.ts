import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConnectionRecorder, redisUrl, runNodeScript } from '@tributary/testing';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('writer start-up', () => {
  it('exits 78 naming every bad setting, before contacting Redis or the lake', async () => {
    await using redis = await ConnectionRecorder.listen();
    await using lake = await ConnectionRecorder.listen();
    const result = await runNodeScript(main, {
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      TRIBUTARY_LAKE: 'adls',
      ADLS_ACCOUNT_URL: `http://127.0.0.1:${lake.port}/devstoreaccount1`,
      ADLS_ACCOUNT_KEY: 'key-should-not-print',
      TRIBUTARY_MAX_FILE_BYTES: 'big',
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('Invalid writer configuration (2 problems)');
    expect(result.stderr).toContain('ADLS_FILESYSTEM: is required when TRIBUTARY_LAKE=adls');
    expect(result.stderr).toContain('TRIBUTARY_MAX_FILE_BYTES: expected a whole number');
    expect(result.stderr + result.stdout).not.toContain('key-should-not-print');
    expect(redis.connections).toBe(0);
    expect(lake.connections).toBe(0);
  });
});

describe('writer stop signals', () => {
  it.each([50, 300, 700])(
    'exits 0, promptly, on a SIGTERM that arrives %i ms into start-up',
    async (delayMs) => {
      const child = spawn(process.execPath, [main], {
        env: {
          PATH: process.env.PATH ?? '',
          REDIS_URL: redisUrl(),
          TRIBUTARY_LAKE_DIR: await mkdtemp(join(tmpdir(), 'tributary-signal-')),
          TRIBUTARY_QUEUE_NAME: `signal-${delayMs}-${process.pid}`,
          TRIBUTARY_HEALTH_PORT: '0',
        },
        stdio: 'ignore',
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
        (resolve) => child.on('exit', (code, signal) => resolve({ code, signal })),
      );
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      // Before Node runs any of the service's code the default disposition
      // ends it (nothing was opened); after that, the service exits 0. A
      // signal lost during start-up left the process running until SIGKILL.
      const exit = await exited;
      expect(exit.signal === 'SIGTERM' || exit.code === 0, JSON.stringify(exit)).toBe(true);
      clearTimeout(timer);
    },
  );
});
