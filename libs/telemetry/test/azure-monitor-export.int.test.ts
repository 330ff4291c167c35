import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { context, propagation, trace } from '@opentelemetry/api';
import { createLogger } from '@tributary/core';
import { afterAll, describe, expect, it } from 'vitest';
import { inSpan } from '../src/otel/in-span.ts';
import { startTelemetry } from '../src/otel/start-telemetry.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url));

/**
 * What an ingestion endpoint was sent: path and decoded body of each
 * request. HTTPS, as the exporter insists on, with a test certificate the
 * process is told to trust.
 */
async function ingestionEndpoint() {
  const received: { path: string; body: string }[] = [];
  const tls = { key: fixture('localhost-key.pem'), cert: fixture('localhost-cert.pem') };
  const server = createServer(tls, (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      received.push({ path: request.url ?? '', body: body.toString('utf8') });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}/`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('tracing to Azure Monitor', () => {
  // The test endpoint's own certificate; this test file runs in its own worker.
  const trusted = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  afterAll(() => {
    if (trusted === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = trusted;
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('sends Tributary’s spans to the ingestion endpoint the connection string names, without the secrets', async () => {
    const endpoint = await ingestionEndpoint();
    const secret = 'sv=2024&sig=DO-NOT-LEAK';
    const lines: string[] = [];
    const telemetry = await startTelemetry({
      serviceName: 'tributary-test',
      config: {
        azureMonitorConnectionString: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=${endpoint.url}`,
      },
      logger: createLogger({ name: 'test', destination: { write: (l: string) => lines.push(l) } }),
      secrets: [secret],
    });
    try {
      expect(telemetry.tracing).toBe(true);
      await inSpan(
        telemetry.tracer,
        'capture batch',
        { attributes: { 'tributary.partition': 3, 'tributary.note': `token ${secret}` } },
        async () => {},
      );
    } finally {
      await telemetry.close();
      await endpoint.close();
    }
    const tracked = endpoint.received.filter((r) => r.path.includes('/track'));
    expect(tracked.map((r) => r.body).join('\n')).toContain('capture batch');
    expect(endpoint.received.map((r) => r.body).join('\n')).not.toContain(secret);
  });
});
