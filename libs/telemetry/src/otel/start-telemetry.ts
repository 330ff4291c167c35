import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Meter, type Tracer, metrics, trace } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { envDetector, detectResources, resourceFromAttributes } from '@opentelemetry/resources';
import {
  type MetricReader,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  type Logger,
  SecretRedactor,
  type TelemetryConfig,
  pushesMetrics,
  traceExportOf,
} from '@tributary/core';
import { samplerOf } from './batch-roots-sampler.ts';
import { RedactingSpanExporter } from './redacting-span-exporter.ts';

/** The instrumentation scope of Tributary's own spans and metrics. */
export const TELEMETRY_SCOPE = 'tributary';

/** What a service traces and measures with. */
export interface Telemetry {
  /** Whether spans are exported; when false the tracer is the API's no-op. */
  readonly tracing: boolean;
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** Answers a Prometheus scrape (text exposition format 0.0.4) of every metric. */
  serveMetrics(request: IncomingMessage, response: ServerResponse): void;
  /** Exports what is buffered (spans, a last metrics push) and stops. Idempotent; never throws. */
  close(): Promise<void>;
}

/** How to start telemetry. */
export interface TelemetryOptions {
  /** `service.name` of every span and metric (`OTEL_SERVICE_NAME` wins when set). */
  readonly serviceName: string;
  readonly config: TelemetryConfig;
  readonly logger: Logger;
  /** Values no exported span may carry (the configuration's credentials). */
  readonly secrets?: Iterable<string>;
}

/**
 * Starts a service's telemetry from its validated configuration:
 *
 * - metrics always, served for Prometheus through {@link Telemetry.serveMetrics}
 *   (the health endpoint's `/metrics`) and pushed over OTLP when an endpoint
 *   is configured;
 * - traces only when asked for (see `traceExportOf`): OTLP (protocol,
 *   headers, sampler and limits from the standard `OTEL_*` variables, read
 *   by the OpenTelemetry SDK), the console, or Azure Monitor. Off, no
 *   tracer provider is registered at all, so every span Tributary or a
 *   library starts is the API's non-recording span, and nothing is loaded
 *   for it.
 *
 * The libraries' own instrumentations are registered earlier, by
 * `instrumentLibraries` in the service's entry.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const { config, logger } = options;
  const resource = resourceFromAttributes({ 'service.name': options.serviceName }).merge(
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, as the specification says.
    detectResources({ detectors: [envDetector] }),
  );
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const readers: MetricReader[] = [prometheus];
  if (pushesMetrics(config))
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: await otlpMetricExporter(config),
        exportIntervalMillis: config.metricExportIntervalMs ?? 60_000,
        exportTimeoutMillis: Math.min(30_000, config.metricExportIntervalMs ?? 60_000),
      }),
    );
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);

  const exportTo = traceExportOf(config);
  const redactor = new SecretRedactor(options.secrets);
  const sdk =
    exportTo === 'off' ? undefined : await startTracing(exportTo, config, resource, redactor);
  if (sdk) logger.info({ traces: exportTo }, 'tracing on');

  let closed: Promise<void> | undefined;
  return {
    tracing: sdk !== undefined,
    tracer: trace.getTracer(TELEMETRY_SCOPE),
    meter: meterProvider.getMeter(TELEMETRY_SCOPE),
    serveMetrics: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    close: () =>
      (closed ??= (async () => {
        for (const [what, stop] of [
          ['tracing', () => sdk?.shutdown()],
          ['metrics', () => meterProvider.shutdown()],
        ] as const) {
          try {
            await stop();
          } catch (error) {
            // The process is stopping; what could not be exported is lost, not the data.
            logger.warn({ err: error }, `telemetry: ${what} could not be exported at shutdown`);
          }
        }
      })()),
  };
}

type Resource = ReturnType<typeof resourceFromAttributes>;

/**
 * The OpenTelemetry Node SDK, for spans only (metrics are set up above,
 * logs stay on standard output). Spans are batched (`OTEL_BSP_*`), sampled
 * (`OTEL_TRACES_SAMPLER`) and redacted before they leave.
 */
async function startTracing(
  exportTo: Exclude<ReturnType<typeof traceExportOf>, 'off'>,
  config: TelemetryConfig,
  resource: Resource,
  redactor: SecretRedactor,
): Promise<{ shutdown(): Promise<void> }> {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    sampler: samplerOf(config),
    // Batched as OTEL_BSP_* say.
    traceExporter: new RedactingSpanExporter(await spanExporter(exportTo, config), redactor),
    // Set up here, not by the SDK from the environment.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return sdk;
}

/** The span exporter asked for; OTLP endpoint, headers and timeout come from the environment. */
async function spanExporter(
  exportTo: Exclude<ReturnType<typeof traceExportOf>, 'off'>,
  config: TelemetryConfig,
) {
  if (exportTo === 'azure-monitor')
    return new (await import('@azure/monitor-opentelemetry-exporter')).AzureMonitorTraceExporter({
      connectionString: config.azureMonitorConnectionString,
    });
  if (exportTo === 'console')
    return new (await import('@opentelemetry/sdk-trace')).ConsoleSpanExporter();
  switch (config.otlpProtocol ?? 'http/protobuf') {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    default:
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  }
}

/** The OTLP metric exporter for the configured protocol (endpoint and headers come from the environment). */
async function otlpMetricExporter(config: TelemetryConfig) {
  switch (config.otlpProtocol ?? 'http/protobuf') {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
    default:
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter();
  }
}
