export { TributaryError, isTributaryError } from './errors/tributary-error.ts';
export { CoreError, isCoreError, type CoreErrorCode } from './errors/core-error.ts';
export { ConfigError, isConfigError, type ConfigProblem } from './errors/config-error.ts';
export type { Setting, SettingTable, ConfigOf } from './config/setting.ts';
export { loadConfig, secretValues, type EnvSource, type ConfigRule } from './config/load-config.ts';
export { TRANSPORT_MESSAGE_LIMITS, sharedSettings } from './config/shared-settings.ts';
export { captureSettings, loadCaptureConfig, type CaptureConfig } from './config/capture-config.ts';
export { writerSettings, loadWriterConfig, type WriterConfig } from './config/writer-config.ts';
export { cliSettings, loadCliConfig, type CliConfig } from './config/cli-config.ts';
export { exitOnConfigError, EXIT_CONFIG } from './config/exit-on-config-error.ts';
export { renderSettingsTable } from './config/settings-table.ts';
export {
  DEFAULT_PATH_TEMPLATE,
  NO_COLLECTION_SEGMENT,
  NO_DATABASE_SEGMENT,
  PATH_PLACEHOLDERS,
  pathTemplateProblem,
  renderPath,
  type PathPlaceholder,
  type PathValues,
} from './paths/path-template.ts';
export { MAX_SEGMENT_BYTES, encodePathSegment } from './paths/path-segment.ts';
export { SecretRedactor, REDACTED } from './logging/secret-redactor.ts';
export { createLogger, type Logger, type LoggerOptions } from './logging/logger.ts';
export {
  OrderingKeyAssigner,
  eventTimeOfKey,
  formatOrderingKey,
  isOrderingKey,
  keyBefore,
  parseOrderingKey,
  type ClusterTimeLike,
  type OrderingKey,
  type OrderingKeyParts,
} from './events/ordering-key.ts';
export { partitionOf, type PartitionKeyMode, type RoutableEvent } from './events/partitioning.ts';
export {
  BATCH_FORMAT_VERSION,
  batchEntryBytes,
  batchHeaderBytes,
  decodeBatch,
  encodeBatch,
  isClaimed,
  isHeartbeat,
  type BatchEntry,
  type CapturedEvent,
  type ChangeBatch,
  type ClaimedEvent,
  type StreamPosition,
} from './events/change-batch.ts';
export {
  CLAIMS_PREFIX,
  DEAD_LETTER_CLAIMS_PREFIX,
  deadLetteredClaimPath,
  claimDirectory,
  claimPath,
  decodeClaim,
  encodeClaim,
  isClaimPath,
  keyOfClaimPath,
} from './events/claim-check.ts';
export {
  decodeLine,
  encodeLine,
  type DecodedLine,
  type JsonFormat,
  type LineMetadata,
} from './events/jsonl.ts';
export {
  DEFAULT_BACKOFF,
  backoffDelayMs,
  isRetryable,
  retry,
  sleep,
  type BackoffPolicy,
  type RetryOptions,
} from './retry/backoff.ts';
export { telemetrySettings } from './config/telemetry-settings.ts';
export {
  pushesMetrics,
  traceExportOf,
  tracingRequested,
  type TelemetryConfig,
  type TraceExport,
} from './config/trace-export.ts';
export {
  clusterTimeOfResumeToken,
  clusterTimestampOfResumeToken,
} from './events/resume-token-time.ts';
