import type { ConfigProblem } from '../errors/config-error.ts';
import { boolSetting, enumSetting, intSetting, textSetting, urlSetting } from './setting.ts';
import { TRACE_SAMPLERS, type TelemetryConfig } from './trace-export.ts';

/**
 * Where traces and metrics go. These are the standard OpenTelemetry
 * variables (and Azure Monitor's), validated at start-up like every other
 * setting; the SDK reads the rest of the `OTEL_*` family (sampler,
 * resource attributes, per-signal endpoints, timeouts) itself. Prometheus
 * metrics are always served on the health port's `/metrics`.
 *
 * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 * @see https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */
export const telemetrySettings = {
  sdkDisabled: boolSetting({
    env: 'OTEL_SDK_DISABLED',
    description:
      'true turns tracing and OTLP export off whatever else is set (the OpenTelemetry switch); /metrics is still served.',
    defaultText: 'false',
  }),
  otlpEndpoint: urlSetting({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    description:
      'OpenTelemetry collector (or Jaeger) receiving traces and metrics over OTLP, e.g. http://127.0.0.1:4318. Setting it turns tracing on; unset, nothing is traced or exported (Prometheus /metrics still works).',
    schemes: ['http', 'https'],
    optional: true,
  }),
  otlpTracesEndpoint: urlSetting({
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    description:
      'Traces only, to this full URL (e.g. http://127.0.0.1:4318/v1/traces); turns tracing on like OTEL_EXPORTER_OTLP_ENDPOINT.',
    schemes: ['http', 'https'],
    optional: true,
  }),
  otlpMetricsEndpoint: urlSetting({
    env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    description: 'Metrics only, pushed to this full URL (e.g. http://127.0.0.1:4318/v1/metrics).',
    schemes: ['http', 'https'],
    optional: true,
  }),
  otlpProtocol: enumSetting({
    env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    description: 'OTLP encoding and transport.',
    values: ['http/protobuf', 'http/json', 'grpc'] as const,
    defaultText: 'http/protobuf',
  }),
  otlpHeaders: textSetting({
    env: 'OTEL_EXPORTER_OTLP_HEADERS',
    description:
      'Headers sent with every OTLP export (key=value,…), e.g. a collector’s API key; kept out of logs.',
    expected: 'key=value pairs separated by commas',
    optional: true,
    secret: true,
  }),
  metricExportIntervalMs: intSetting({
    env: 'OTEL_METRIC_EXPORT_INTERVAL',
    description: 'Milliseconds between two pushes of the metrics over OTLP.',
    min: 100,
    defaultText: '60000',
  }),
  otlpTracesHeaders: textSetting({
    env: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    description: 'Headers of trace exports only (key=value,…); kept out of logs.',
    expected: 'key=value pairs separated by commas',
    optional: true,
    secret: true,
  }),
  otlpMetricsHeaders: textSetting({
    env: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
    description: 'Headers of metric exports only (key=value,…); kept out of logs.',
    expected: 'key=value pairs separated by commas',
    optional: true,
    secret: true,
  }),
  tracesExporter: enumSetting({
    env: 'OTEL_TRACES_EXPORTER',
    description:
      'Trace exporter: otlp (the default once an endpoint is set), console (spans on standard output, for debugging), or none (tracing off whatever else is set).',
    values: ['otlp', 'console', 'none'] as const,
    optional: true,
  }),
  metricsExporter: enumSetting({
    env: 'OTEL_METRICS_EXPORTER',
    description:
      'Also push metrics over OTLP (otlp, the default once an endpoint is set) or not (none). /metrics for Prometheus is served either way.',
    values: ['otlp', 'none'] as const,
    optional: true,
  }),
  tracesSampler: enumSetting({
    env: 'OTEL_TRACES_SAMPLER',
    description:
      'Which batches are traced: parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.1 keeps one in ten (the writer follows capture’s decision, carried in the batch).',
    values: TRACE_SAMPLERS,
    defaultText: 'parentbased_always_on',
  }),
  tracesSamplerArg: textSetting({
    env: 'OTEL_TRACES_SAMPLER_ARG',
    description: 'The ratio of the traceidratio samplers, from 0 to 1.',
    expected: 'a number from 0 to 1',
    optional: true,
  }),
  azureMonitorConnectionString: textSetting({
    env: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
    description:
      'Application Insights connection string: traces go to Azure Monitor (instead of OTLP, which then carries metrics only).',
    expected: 'InstrumentationKey=…;IngestionEndpoint=https://…',
    optional: true,
    secret: true,
  }),
};

/** Asking for OTLP without saying where is a mistake worth naming at start-up. */
export function telemetryRule(c: TelemetryConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (
    c.tracesExporter === 'otlp' &&
    !c.otlpEndpoint &&
    !c.otlpTracesEndpoint &&
    !c.azureMonitorConnectionString
  )
    problems.push({
      setting: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      message:
        'is not set, but OTEL_TRACES_EXPORTER=otlp asks for traces over OTLP; set the collector’s address (e.g. http://127.0.0.1:4318) or unset OTEL_TRACES_EXPORTER',
    });
  if (c.metricsExporter === 'otlp' && !c.otlpEndpoint && !c.otlpMetricsEndpoint)
    problems.push({
      setting: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      message:
        'is not set, but OTEL_METRICS_EXPORTER=otlp asks for metrics over OTLP; set the collector’s address or unset OTEL_METRICS_EXPORTER',
    });
  const arg = c.tracesSamplerArg;
  if (arg !== undefined && !(Number(arg) >= 0 && Number(arg) <= 1))
    problems.push({
      setting: 'OTEL_TRACES_SAMPLER_ARG',
      message: `expected a number from 0 to 1 (the share of batches traced), got ${JSON.stringify(arg)}`,
    });
  return problems;
}
