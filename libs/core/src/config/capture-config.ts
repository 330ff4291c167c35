import type { ConfigProblem } from '../errors/config-error.ts';
import { type EnvSource, loadConfig } from './load-config.ts';
import { enumSetting, intSetting, listSetting, textSetting, urlSetting } from './setting.ts';
import { telemetryRule } from './telemetry-settings.ts';
import { batchLimitRule, lakeRule, sharedSettings, transportRule } from './shared-settings.ts';

const NAMESPACE_PATTERN = /^[^.\s]+(\.[^\s]+)?$/;

/** Everything the capture service reads at start-up. */
export const captureSettings = {
  mongodbUri: urlSetting({
    env: 'MONGODB_URI',
    description:
      'MongoDB connection string of a replica set or sharded cluster (change streams need one).',
    schemes: ['mongodb', 'mongodb+srv'],
    secret: true,
  }),
  scope: enumSetting({
    env: 'TRIBUTARY_CAPTURE_SCOPE',
    description:
      'What one change stream watches: one collection, one database, or the whole deployment.',
    values: ['collection', 'database', 'deployment'] as const,
    defaultText: 'deployment',
  }),
  database: textSetting({
    env: 'TRIBUTARY_CAPTURE_DATABASE',
    description: 'Database to watch; required when the scope is collection or database.',
    optional: true,
  }),
  collection: textSetting({
    env: 'TRIBUTARY_CAPTURE_COLLECTION',
    description: 'Collection to watch; required when the scope is collection.',
    optional: true,
  }),
  includeNamespaces: listSetting({
    env: 'TRIBUTARY_INCLUDE_NAMESPACES',
    description:
      'Only these namespaces (db or db.coll, * as wildcard) are captured; empty captures everything in scope.',
    item: NAMESPACE_PATTERN,
    itemExpected: 'namespaces such as shop.orders, shop.* or shop',
    defaultText: '',
  }),
  excludeNamespaces: listSetting({
    env: 'TRIBUTARY_EXCLUDE_NAMESPACES',
    description:
      'Namespaces never captured (db or db.coll, * as wildcard); applied after the include list.',
    item: NAMESPACE_PATTERN,
    itemExpected: 'namespaces such as shop.audit or scratch.*',
    defaultText: '',
  }),
  fullDocument: enumSetting({
    env: 'TRIBUTARY_FULL_DOCUMENT',
    description:
      'Post-image on update events: default (none), updateLookup, whenAvailable or required (the last two need changeStreamPreAndPostImages).',
    values: ['default', 'updateLookup', 'whenAvailable', 'required'] as const,
    defaultText: 'updateLookup',
  }),
  fullDocumentBeforeChange: enumSetting({
    env: 'TRIBUTARY_FULL_DOCUMENT_BEFORE_CHANGE',
    description:
      'Pre-image on update, replace and delete events: off, whenAvailable or required (needs changeStreamPreAndPostImages).',
    values: ['off', 'whenAvailable', 'required'] as const,
    defaultText: 'off',
  }),
  partitionKey: enumSetting({
    env: 'TRIBUTARY_PARTITION_KEY',
    description:
      'What routes an event to a partition: its namespace (order per collection), or namespace + documentKey (spreads hot collections; order per document).',
    values: ['namespace', 'namespace+documentKey'] as const,
    defaultText: 'namespace',
  }),
  batchMaxEvents: intSetting({
    env: 'TRIBUTARY_BATCH_MAX_EVENTS',
    description:
      'A batch is published once it holds this many events (at most 5000 on Service Bus, where a dead letter records which of its events reached the lake in its properties).',
    min: 1,
    max: 100_000,
    defaultText: '500',
  }),
  batchMaxWaitMs: intSetting({
    env: 'TRIBUTARY_BATCH_MAX_WAIT_MS',
    description: 'A non-empty batch is published at the latest this long after its first event.',
    min: 1,
    defaultText: '250',
  }),
  queueHighWaterMark: intSetting({
    env: 'TRIBUTARY_QUEUE_HIGH_WATER_MARK',
    description:
      'Capture stops reading the change stream while this many batches wait in the queue, and resumes below it.',
    min: 1,
    defaultText: '1000',
  }),
  gapCheckIntervalMs: intSetting({
    env: 'TRIBUTARY_GAP_CHECK_INTERVAL_MS',
    description:
      'How often capture looks for writers’ reports of batches lost from the queue, and re-sends those partitions from their checkpoints.',
    min: 100,
    defaultText: '2000',
  }),
  heartbeatIntervalMs: intSetting({
    env: 'TRIBUTARY_HEARTBEAT_INTERVAL_MS',
    description:
      'How often idle partitions get a heartbeat carrying capture’s position — the stream’s postBatchResumeToken while nothing happens — so their checkpoints, and the resume point, keep moving.',
    min: 100,
    defaultText: '10000',
  }),
  healthPort: intSetting({
    env: 'TRIBUTARY_HEALTH_PORT',
    description: 'Port of /healthz, /readyz and /metrics (Prometheus); 0 disables the endpoint.',
    min: 0,
    max: 65535,
    defaultText: '8081',
  }),
  ...sharedSettings,
};

/** The capture service's validated configuration. */
export type CaptureConfig = ReturnType<typeof loadCaptureConfig>;

/**
 * The most events a batch may carry on Service Bus. A dead letter records
 * which of its events reached the lake in an application property, and the
 * service caps a message's properties at 64 KiB: 5,000 ordering keys take
 * about 20 KB deflated, leaving room for the rest.
 */
export const SERVICEBUS_MAX_BATCH_EVENTS = 5000;

/** Batches on Service Bus must leave room for a dead letter's record. */
function serviceBusBatchRule(c: { transport?: string; batchMaxEvents?: number }): ConfigProblem[] {
  if (c.transport !== 'servicebus' || c.batchMaxEvents === undefined) return [];
  if (c.batchMaxEvents <= SERVICEBUS_MAX_BATCH_EVENTS) return [];
  return [
    {
      setting: 'TRIBUTARY_BATCH_MAX_EVENTS',
      message: `is ${c.batchMaxEvents}, more than ${SERVICEBUS_MAX_BATCH_EVENTS} events per batch, which is what a dead letter's record of the events in the lake fits in on Service Bus (its properties are capped at 64 KiB); lower it`,
    },
  ];
}

function scopeRule(c: { scope?: string; database?: string; collection?: string }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if ((c.scope === 'collection' || c.scope === 'database') && !c.database) {
    problems.push({
      setting: 'TRIBUTARY_CAPTURE_DATABASE',
      message: `is required when TRIBUTARY_CAPTURE_SCOPE=${c.scope}; name the database to watch`,
    });
  }
  if (c.scope === 'collection' && !c.collection) {
    problems.push({
      setting: 'TRIBUTARY_CAPTURE_COLLECTION',
      message: 'is required when TRIBUTARY_CAPTURE_SCOPE=collection; name the collection to watch',
    });
  }
  return problems;
}

/**
 * Validates the capture service's configuration from the environment.
 *
 * @throws ConfigError naming every problem, before anything is contacted.
 */
export function loadCaptureConfig(env: EnvSource) {
  return loadConfig('capture', captureSettings, env, [
    scopeRule,
    transportRule,
    serviceBusBatchRule,
    lakeRule,
    batchLimitRule,
    telemetryRule,
  ]);
}
