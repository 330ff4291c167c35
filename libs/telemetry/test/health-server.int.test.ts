import { afterEach, describe, expect, it } from 'vitest';
import { type HealthServer, Readiness, startHealthServer } from '../src/index.ts';

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

  it('passes every answer through the redactor it is given, so a reason quoting a driver error shows no credential', async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      checks: {
        live: () => true,
        ready: () => ['mongodb: cannot reach mongodb://app:s3cret-pw@db.internal:27017'],
      },
      redact: (text) => text.replaceAll('s3cret-pw', '[REDACTED]'),
    });
    const readyz = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    expect(await readyz.text()).toBe(
      'unavailable\nmongodb: cannot reach mongodb://app:[REDACTED]@db.internal:27017\n',
    );
  });

  it('names every reason it is not ready, one per line, and is ready once they clear', async () => {
    const readiness = new Readiness();
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      checks: { live: () => true, ready: () => readiness.reasons() },
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect(readiness.fail('lake', 'ADLS refused the credentials (403); renew the SAS')).toBe(true);
    expect(readiness.fail('lake', 'ADLS refused the credentials (403); renew the SAS')).toBe(false);
    readiness.fail('partition 3', 'waiting for lost batches to be re-sent');
    const notReady = await fetch(`${base}/readyz`);
    expect([notReady.status, await notReady.text()]).toEqual([
      503,
      'unavailable\nlake: ADLS refused the credentials (403); renew the SAS\npartition 3: waiting for lost batches to be re-sent\n',
    ]);
    expect(readiness.recover('lake')).toBe(true);
    expect(readiness.recover('partition 3')).toBe(true);
    expect(readiness.recover('partition 3')).toBe(false);
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ok\n']);
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
