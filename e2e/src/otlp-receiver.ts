import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON export carried it. */
export interface ReceivedSpan {
  readonly service: string;
  readonly scope: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startNanos: bigint;
  readonly endNanos: bigint;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  readonly statusCode: number;
}

/** OTLP span kinds (`Span.SpanKind` in the protocol). */
export const OTLP_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

/**
 * A small OTLP/HTTP receiver for tests and benchmarks: accepts `POST
 * /v1/traces` (and `/v1/metrics`, counted only). Spans sent in the JSON
 * encoding (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) are kept; exports in
 * protobuf (the default) are counted, not decoded — what a benchmark needs
 * of a collector is that it answers.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  metricExports = 0;
  traceExports = 0;
  traceBytes = 0;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        try {
          const bytes = Buffer.concat(chunks);
          const json = request.headers['content-type']?.startsWith('application/json') === true;
          if (request.url === '/v1/traces') {
            receiver.traceExports += 1;
            receiver.traceBytes += bytes.length;
            if (json) receiver.#accept(JSON.parse(bytes.toString('utf8')));
          } else if (request.url === '/v1/metrics') receiver.metricExports += 1;
          // An empty ExportTraceServiceResponse, in the request's encoding.
          response
            .writeHead(200, {
              'content-type': json ? 'application/json' : 'application/x-protobuf',
            })
            .end(json ? '{}' : '');
        } catch (error) {
          response.writeHead(400).end(String(error));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** Where exporters send (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Every span of the trace `traceId`. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  /** Waits until `found` returns something for the spans received so far. */
  async until<T>(
    found: (spans: readonly ReceivedSpan[]) => T | undefined,
    timeoutMs = 30_000,
  ): Promise<T> {
    const started = Date.now();
    for (;;) {
      const result = found(this.spans);
      if (result !== undefined) return result;
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `the spans expected did not arrive in ${timeoutMs} ms; received ${this.spans.length}: ${[...new Set(this.spans.map((s) => `${s.service}/${s.name}`))].join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(body: unknown): void {
    const { resourceSpans = [] } = body as { resourceSpans?: unknown[] };
    for (const resourceSpan of resourceSpans as {
      resource?: { attributes?: { key: string; value: AnyValue }[] };
      scopeSpans?: { scope?: { name?: string }; spans?: Record<string, unknown>[] }[];
    }[]) {
      const resource = attributesOf(resourceSpan.resource?.attributes);
      for (const scopeSpan of resourceSpan.scopeSpans ?? []) {
        for (const span of scopeSpan.spans ?? []) {
          this.spans.push({
            service: String(resource['service.name'] ?? ''),
            scope: scopeSpan.scope?.name ?? '',
            traceId: String(span.traceId),
            spanId: String(span.spanId),
            parentSpanId: String(span.parentSpanId ?? ''),
            name: String(span.name),
            kind: Number(span.kind),
            startNanos: BigInt(String(span.startTimeUnixNano)),
            endNanos: BigInt(String(span.endTimeUnixNano)),
            attributes: attributesOf(span.attributes as { key: string; value: AnyValue }[]),
            links: ((span.links ?? []) as { traceId: string; spanId: string }[]).map((l) => ({
              traceId: String(l.traceId),
              spanId: String(l.spanId),
            })),
            statusCode: Number((span.status as { code?: number } | undefined)?.code ?? 0),
          });
        }
      }
    }
  }
}

function attributesOf(
  list: readonly { key: string; value: AnyValue }[] | undefined,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}
