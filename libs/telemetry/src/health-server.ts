import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the endpoints report. */
export interface HealthChecks {
  /** The process works (its loops run): `/healthz`. A failing liveness check gets the process restarted. */
  live(): boolean;
  /**
   * Why the process cannot do its job now (a dependency missing, a partition
   * stuck), or nothing: `/readyz` answers 200, or 503 with one reason per
   * line. `false` stands for "not ready" without a reason.
   */
  ready(): boolean | readonly string[];
}

/** A running health endpoint. */
export interface HealthServer {
  readonly port: number;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves `/healthz` and `/readyz` (200 or 503, with a one-word body) for
 * Kubernetes probes and Compose health checks, and `/metrics` for
 * Prometheus when `metrics` is given. Port 0 picks a free port.
 * Reasons often quote a dependency's own error text: `redact` (the
 * service's secret redactor) sees every body before it leaves.
 */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  checks: HealthChecks;
  redact?: (text: string) => string;
  /** Answers `/metrics` (see `Telemetry.serveMetrics`). */
  metrics?: (request: IncomingMessage, response: ServerResponse) => void;
}): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === '/metrics' && options.metrics) {
      options.metrics(request, response);
      return;
    }
    const check =
      path === '/healthz'
        ? options.checks.live
        : path === '/readyz'
          ? options.checks.ready
          : undefined;
    if (!check) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const outcome = check();
    const reasons = typeof outcome === 'boolean' ? [] : outcome;
    const ok = typeof outcome === 'boolean' ? outcome : outcome.length === 0;
    const text = ok ? 'ok\n' : ['unavailable', ...reasons].join('\n') + '\n';
    const body = options.redact ? options.redact(text) : text;
    response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', resolve);
  });
  let closed: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closed ??= new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
