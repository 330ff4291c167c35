import { afterEach, describe, expect, it } from 'vitest';
import { type HealthServer, startHealthServer } from '../src/index.ts';

describe('the health endpoint', () => {
  let server: HealthServer | undefined;
  afterEach(async () => server?.close());

  it('answers liveness and readiness from the checks, as they change', async () => {
    let ready = false;
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      checks: { live: () => true, ready: () => ready },
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    const readyz = await fetch(`${base}/readyz`);
    expect([readyz.status, await readyz.text()]).toEqual([200, 'ok\n']);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('closes idempotently', async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      checks: { live: () => true, ready: () => true },
    });
    await server.close();
    await expect(server.close()).resolves.toBeUndefined();
  });
});
