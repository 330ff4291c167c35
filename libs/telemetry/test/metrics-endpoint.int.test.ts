import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { type HealthServer, startHealthServer } from '../src/index.ts';

describe('the /metrics endpoint of the health server', () => {
  let server: HealthServer | undefined;
  let provider: MeterProvider | undefined;
  afterEach(async () => {
    await server?.close();
    await provider?.shutdown();
    server = undefined;
    provider = undefined;
  });

  it('answers a Prometheus scrape with the counters the process keeps', async () => {
    const prometheus = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [prometheus] });
    const counter = provider.getMeter('tributary-test').createCounter('tributary.events.captured', {
      description: 'Change events read from the change stream',
    });
    counter.add(3, { 'db.namespace': 'shop' });
    counter.add(4, { 'db.namespace': 'shop' });

    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      checks: { live: () => true, ready: () => true },
      metrics: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    });
    const scrape = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    const text = await scrape.text();

    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('# TYPE tributary_events_captured_total counter');
    expect(text).toContain(
      '# HELP tributary_events_captured_total Change events read from the change stream',
    );
    expect(text).toMatch(/^tributary_events_captured_total\{[^}]*db_namespace="shop"[^}]*\} 7\b/m);
  });

  it('serves /metrics with a query string too, and health checks beside it', async () => {
    const prometheus = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [prometheus] });
    provider.getMeter('tributary-test').createCounter('tributary.batches.written').add(1);

    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      checks: { live: () => true, ready: () => true },
      metrics: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    });
    const base = `http://127.0.0.1:${server.port}`;
    const scrape = await fetch(`${base}/metrics?name[]=x`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/^tributary_batches_written_total(\{[^}]*\})? 1\b/m);
    const healthz = await fetch(`${base}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, 'ok\n']);
  });

  it('answers 404 on /metrics when no metrics handler is given', async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      checks: { live: () => true, ready: () => true },
    });
    const scrape = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect([scrape.status, await scrape.text()]).toEqual([404, 'not found\n']);
  });
});
