import type { ConfigProblem } from '../errors/config-error.ts';
import { DEFAULT_PATH_TEMPLATE, pathTemplateProblem } from '../paths/path-template.ts';
import { type EnvSource, loadConfig } from './load-config.ts';
import { SERVICE_BUS_MAX_LOCK_DURATION_MS } from './servicebus-rules.ts';
import { enumSetting, intSetting, textSetting } from './setting.ts';
import { telemetryRule } from './telemetry-settings.ts';
import { batchLimitRule, lakeRule, sharedSettings, transportRule } from './shared-settings.ts';

/** Everything a writer reads at start-up. */
export const writerSettings = {
  pathTemplate: textSetting({
    env: 'TRIBUTARY_PATH_TEMPLATE',
    description:
      'Directory of each file, from event time in UTC: placeholders {db} {coll} {YYYY} {MM} {DD} {HH}.',
    defaultText: DEFAULT_PATH_TEMPLATE,
  }),
  jsonFormat: enumSetting({
    env: 'TRIBUTARY_JSON_FORMAT',
    description:
      'MongoDB Extended JSON mode of each line: relaxed (readable) or canonical (every BSON type exact).',
    values: ['relaxed', 'canonical'] as const,
    defaultText: 'relaxed',
  }),
  maxFileBytes: intSetting({
    env: 'TRIBUTARY_MAX_FILE_BYTES',
    description: 'A file is closed and a new one started before it grows past this size.',
    min: 1024,
    defaultText: String(128 * 1024 * 1024),
  }),
  maxFileAgeMs: intSetting({
    env: 'TRIBUTARY_MAX_FILE_AGE_MS',
    description: 'A file is closed this long after it was opened, whatever its size.',
    min: 1000,
    defaultText: String(15 * 60 * 1000),
  }),
  idleCloseMs: intSetting({
    env: 'TRIBUTARY_IDLE_CLOSE_MS',
    description: 'A file that received nothing for this long is closed.',
    min: 100,
    defaultText: '60000',
  }),
  maxInFlightBatches: intSetting({
    env: 'TRIBUTARY_MAX_IN_FLIGHT_BATCHES',
    description:
      'Batches a writer holds at once across its partitions; room for each is reserved before it is fetched, so the queue keeps the rest.',
    min: 1,
    defaultText: '8',
  }),
  maxBufferedBytes: intSetting({
    env: 'TRIBUTARY_MAX_BUFFERED_BYTES',
    description:
      'Encoded bytes a writer holds at once; each fetch first reserves TRIBUTARY_BATCH_MAX_BYTES of it (shrunk to the batch once in hand).',
    min: 1024 * 1024,
    defaultText: String(64 * 1024 * 1024),
  }),
  leaseTtlMs: intSetting({
    env: 'TRIBUTARY_LEASE_TTL_MS',
    description:
      'How long a writer’s hold on a partition lasts without renewal. BullMQ: the partition lease; a dead writer’s partitions move after this. Service Bus: a partition is held by its session lock, whose length is the queue’s LockDuration; set this to that LockDuration or less (at most 5 minutes): writers renew every third of it. On both, a writer asked to hand a partition over has this long to finish its batch in hand, and /readyz keeps reporting the queue this long after its last background failure.',
    min: 1000,
    defaultText: '15000',
  }),
  maxDeliveryAttempts: intSetting({
    env: 'TRIBUTARY_MAX_DELIVERY_ATTEMPTS',
    description:
      'A batch that fails this many times for a reason of its own goes to the dead letters with its reason; failures of the environment (credentials, throttling, outages) never count.',
    min: 1,
    defaultText: '5',
  }),
  writerId: textSetting({
    env: 'TRIBUTARY_WRITER_ID',
    description: 'This writer’s name in leases and logs; defaults to host name and process id.',
    optional: true,
  }),
  healthPort: intSetting({
    env: 'TRIBUTARY_HEALTH_PORT',
    description: 'Port of /healthz, /readyz and /metrics (Prometheus); 0 disables the endpoint.',
    min: 0,
    max: 65535,
    defaultText: '8082',
  }),
  ...sharedSettings,
};

/** A writer's validated configuration. */
export type WriterConfig = ReturnType<typeof loadWriterConfig>;

/**
 * On Service Bus the writers plan with a lock no longer than the queue's
 * LockDuration, which the service caps at 5 minutes: a longer setting
 * could never be right.
 */
function leaseRule(c: { transport?: string; leaseTtlMs?: number }): ConfigProblem[] {
  if (c.transport !== 'servicebus' || c.leaseTtlMs === undefined) return [];
  if (c.leaseTtlMs <= SERVICE_BUS_MAX_LOCK_DURATION_MS) return [];
  return [
    {
      setting: 'TRIBUTARY_LEASE_TTL_MS',
      message: `is ${c.leaseTtlMs} ms, longer than a Service Bus queue’s LockDuration can be (${SERVICE_BUS_MAX_LOCK_DURATION_MS} ms, 5 minutes); on Service Bus set it to the queue’s LockDuration or less`,
    },
  ];
}

function pathTemplateRule(c: { pathTemplate?: string }): ConfigProblem[] {
  const problem = c.pathTemplate === undefined ? undefined : pathTemplateProblem(c.pathTemplate);
  return problem ? [{ setting: 'TRIBUTARY_PATH_TEMPLATE', message: problem }] : [];
}

/**
 * Validates a writer's configuration from the environment.
 *
 * @throws ConfigError naming every problem, before anything is contacted.
 */
export function loadWriterConfig(env: EnvSource) {
  return loadConfig('writer', writerSettings, env, [
    pathTemplateRule,
    lakeRule,
    transportRule,
    leaseRule,
    batchLimitRule,
    telemetryRule,
  ]);
}
