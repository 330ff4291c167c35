export { startHealthServer, type HealthChecks, type HealthServer } from './health-server.ts';
export { EXIT_FAILURE, EXIT_OK, exitOnSignal, listenForStopSignals } from './graceful-shutdown.ts';
export { closeEach, type Closable } from './close-each.ts';
export { ResourceStack } from './resource-stack.ts';
export { Readiness } from './readiness.ts';
export { watchDependency, type DependencyJudge } from './watched-dependency.ts';
export {
  DependencyWaiter,
  judgeStoreFailure,
  type DependencyFailure,
  type FailureJudge,
} from './dependency-waiter.ts';
export { handleUnhandledRejections, isLibraryRejection } from './library-rejections.ts';
export {
  startTelemetry,
  TELEMETRY_SCOPE,
  type Telemetry,
  type TelemetryOptions,
} from './otel/start-telemetry.ts';
export { traceHeaders, contextOfHeaders } from './otel/trace-headers.ts';
export { traceFieldsOfActiveSpan } from './otel/log-trace-fields.ts';
export { Tally } from './otel/tally.ts';
export { observeProcessMemory } from './otel/process-metrics.ts';
export {
  batchAttributes,
  namespaceAttributes,
  namespaceKey,
  countByNamespace,
  type BatchFacts,
  type NamespaceCounts,
} from './otel/batch-attributes.ts';
export { inSpan } from './otel/in-span.ts';
export {
  LAG_BUCKETS_S,
  LATENCY_BUCKETS_S,
  METRICS,
  gaugeOf,
  histogramOf,
  prometheusName,
  renderMetricsTable,
  tallyOf,
  type MetricDefinition,
} from './otel/metric-catalog.ts';
export { BatchRootsSampler, samplerOf } from './otel/batch-roots-sampler.ts';
