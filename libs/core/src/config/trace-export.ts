/**
 * Whether spans and metrics are exported, decided from the telemetry
 * settings (see `telemetry-settings.ts`). This file imports nothing: the
 * services' entries load it before anything else, to instrument libraries
 * before those load (`@tributary/core/trace-export`).
 */

/** Environment-like input: variable name to text. */
type Env = Readonly<Record<string, string | undefined>>;

/** The telemetry settings as loaded. */
export interface TelemetryConfig {
  readonly sdkDisabled?: boolean | undefined;
  readonly otlpEndpoint?: string | undefined;
  /** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: traces only, the full URL (…/v1/traces). */
  readonly otlpTracesEndpoint?: string | undefined;
  /** `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`: metrics only, the full URL (…/v1/metrics). */
  readonly otlpMetricsEndpoint?: string | undefined;
  readonly otlpProtocol?: 'http/protobuf' | 'http/json' | 'grpc' | undefined;
  readonly tracesExporter?: 'otlp' | 'console' | 'none' | undefined;
  readonly metricsExporter?: 'otlp' | 'none' | undefined;
  readonly metricExportIntervalMs?: number | undefined;
  readonly azureMonitorConnectionString?: string | undefined;
  readonly tracesSampler?: TraceSamplerName | undefined;
  /** `OTEL_TRACES_SAMPLER_ARG`: the ratio of the ratio samplers, 0 to 1. */
  readonly tracesSamplerArg?: string | undefined;
}

/** The samplers of `OTEL_TRACES_SAMPLER` Tributary supports (the specification's built-in ones). */
export const TRACE_SAMPLERS = [
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'always_on',
  'always_off',
  'traceidratio',
] as const;

/** One of {@link TRACE_SAMPLERS}. */
export type TraceSamplerName = (typeof TRACE_SAMPLERS)[number];

/** Where spans go, or `off`: decided once from the settings. */
export type TraceExport = 'off' | 'otlp' | 'console' | 'azure-monitor';

/**
 * Whether (and where) spans are exported: off unless an endpoint, an
 * exporter or an Azure Monitor connection string asks for them, and off
 * whatever else is set when `OTEL_TRACES_EXPORTER=none` or
 * `OTEL_SDK_DISABLED=true`.
 */
export function traceExportOf(config: TelemetryConfig): TraceExport {
  if (config.sdkDisabled || config.tracesExporter === 'none') return 'off';
  if (config.azureMonitorConnectionString) return 'azure-monitor';
  if (config.tracesExporter === 'console') return 'console';
  if (config.tracesExporter === 'otlp' || config.otlpEndpoint || config.otlpTracesEndpoint)
    return 'otlp';
  return 'off';
}

/** Whether metrics are pushed over OTLP too (Prometheus `/metrics` is always served). */
export function pushesMetrics(config: TelemetryConfig): boolean {
  if (config.sdkDisabled || config.metricsExporter === 'none') return false;
  return (
    config.metricsExporter === 'otlp' ||
    config.otlpEndpoint !== undefined ||
    config.otlpMetricsEndpoint !== undefined
  );
}

/**
 * The same decision from the raw environment, before configuration is
 * validated: a process instruments its libraries before it loads them, so
 * before it can read its configuration (an invalid one stops the process
 * anyway). A value that is not valid counts as unset here.
 */
export function tracingRequested(env: Env): boolean {
  const pick = <T extends string>(name: string, values: readonly T[]): T | undefined => {
    const value = env[name]?.trim().toLowerCase();
    return values.find((v) => v === value);
  };
  const text = (name: string) => env[name]?.trim() || undefined;
  const url = (name: string) => {
    const value = text(name);
    return value && /^https?:\/\/\S/i.test(value) ? value : undefined;
  };
  return (
    traceExportOf({
      sdkDisabled: ['true', '1', 'yes'].includes(env.OTEL_SDK_DISABLED?.trim().toLowerCase() ?? ''),
      otlpEndpoint: url('OTEL_EXPORTER_OTLP_ENDPOINT'),
      otlpTracesEndpoint: url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
      tracesExporter: pick('OTEL_TRACES_EXPORTER', ['otlp', 'console', 'none'] as const),
      azureMonitorConnectionString: text('APPLICATIONINSIGHTS_CONNECTION_STRING'),
    }) !== 'off'
  );
}
