import type { ConfigProblem } from '../errors/config-error.ts';
import { serviceBusProblems } from './servicebus-rules.ts';
import { enumSetting, intSetting, textSetting, urlSetting } from './setting.ts';
import { telemetrySettings } from './telemetry-settings.ts';

/** Settings both services read: transport, Redis, partitions, operations. */
export const sharedSettings = {
  transport: enumSetting({
    env: 'TRIBUTARY_TRANSPORT',
    description:
      'The durable queue between capture and writers: BullMQ on Redis, or Azure Service Bus.',
    values: ['bullmq', 'servicebus'] as const,
    defaultText: 'bullmq',
  }),
  redisUrl: urlSetting({
    env: 'REDIS_URL',
    description: 'Redis for the BullMQ transport and the Redis checkpoint store.',
    schemes: ['redis', 'rediss'],
    defaultText: 'redis://127.0.0.1:6379',
    secret: true,
  }),
  serviceBusConnectionString: textSetting({
    env: 'SERVICEBUS_CONNECTION_STRING',
    description:
      'Service Bus: connection string of a shared access policy on the namespace or on the queue (with UseDevelopmentEmulator=true for an emulator). Give this or SERVICEBUS_NAMESPACE, not both.',
    expected:
      'Endpoint=sb://HOST/ with SharedAccessKeyName=…;SharedAccessKey=… or SharedAccessSignature=…',
    optional: true,
    secret: true,
  }),
  serviceBusNamespace: textSetting({
    env: 'SERVICEBUS_NAMESPACE',
    description:
      'Service Bus: the namespace’s fully qualified host name, authenticated with Azure identity (DefaultAzureCredential: managed identity, workload identity, Azure CLI …). Give this or SERVICEBUS_CONNECTION_STRING, not both.',
    expected: 'a host name such as NAME.servicebus.windows.net (no sb:// or https://, no path)',
    optional: true,
  }),
  queueName: textSetting({
    env: 'TRIBUTARY_QUEUE_NAME',
    description:
      'Name of the queue carrying change batches: a key prefix on BullMQ; on Service Bus the session-enabled queue itself (1–260 letters, digits, ., -, _, from a letter or digit to a letter or digit).',
    defaultText: 'tributary-changes',
  }),
  partitionCount: intSetting({
    env: 'TRIBUTARY_PARTITION_COUNT',
    description:
      'Number K of virtual partitions. Capture and every writer must agree; changing it needs a drained queue.',
    min: 1,
    max: 4096,
    defaultText: '16',
  }),
  batchMaxBytes: intSetting({
    env: 'TRIBUTARY_BATCH_MAX_BYTES',
    description:
      'Largest encoded batch capture publishes; writers reserve this much memory per batch before fetching one. Capped by what the transport carries in one message (BullMQ 64 MiB; Service Bus 256 KiB on Standard, up to 100 MiB on Premium, read from the queue); a single larger event travels by claim check through the lake.',
    min: 1024,
    defaultText: '1048576',
  }),
  checkpointStore: enumSetting({
    env: 'TRIBUTARY_CHECKPOINT_STORE',
    description:
      'Where partition checkpoints live: in the lake itself under _tributary/ (conditional writes; survives Redis restarting empty), or in Redis (faster; only safe when Redis persists its data).',
    values: ['lake', 'redis'] as const,
    defaultText: 'lake',
  }),
  lake: enumSetting({
    env: 'TRIBUTARY_LAKE',
    description:
      'Where JSONL lands: ADLS Gen2 (the DFS endpoint), or a local directory with the same layout.',
    values: ['adls', 'local'] as const,
    defaultText: 'local',
  }),
  lakeDir: textSetting({
    env: 'TRIBUTARY_LAKE_DIR',
    description: 'Root directory of the local lake (TRIBUTARY_LAKE=local).',
    defaultText: '.tributary/lake',
  }),
  adlsAccountUrl: urlSetting({
    env: 'ADLS_ACCOUNT_URL',
    description:
      'DFS endpoint of the storage account, e.g. https://ACCOUNT.dfs.core.windows.net (or the emulator’s http://127.0.0.1:PORT/ACCOUNT).',
    schemes: ['https', 'http'],
    optional: true,
  }),
  adlsFilesystem: textSetting({
    env: 'ADLS_FILESYSTEM',
    description: 'Filesystem (container) that receives the files; created when missing.',
    optional: true,
  }),
  adlsConnectionString: textSetting({
    env: 'ADLS_CONNECTION_STRING',
    description: 'Storage connection string; replaces ADLS_ACCOUNT_URL and the other credentials.',
    optional: true,
    secret: true,
  }),
  adlsAccountKey: textSetting({
    env: 'ADLS_ACCOUNT_KEY',
    description: 'Shared key of the account named in ADLS_ACCOUNT_URL.',
    optional: true,
    secret: true,
  }),
  adlsSasToken: textSetting({
    env: 'ADLS_SAS_TOKEN',
    description:
      'SAS token for ADLS_ACCOUNT_URL. With no key, SAS or connection string, DefaultAzureCredential is used.',
    optional: true,
    secret: true,
  }),
  logLevel: enumSetting({
    env: 'TRIBUTARY_LOG_LEVEL',
    description: 'Least severe log level written.',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    defaultText: 'info',
  }),
  shutdownTimeoutMs: intSetting({
    env: 'TRIBUTARY_SHUTDOWN_TIMEOUT_MS',
    description:
      'On SIGTERM/SIGINT: how long to drain, flush, checkpoint and acknowledge before a hard stop.',
    min: 100,
    defaultText: '30000',
  }),
  ...telemetrySettings,
};

/**
 * The most a transport carries in one message: BullMQ's own limit on a
 * Tributary batch (Redis takes far more, but a batch that size is a mistake),
 * and Service Bus Premium's largest message. Service Bus Standard takes only
 * 256 KiB; capture reads the queue's own limit at start and cuts to it.
 */
export const TRANSPORT_MESSAGE_LIMITS = {
  bullmq: 64 * 1024 * 1024,
  servicebus: 100 * 1024 * 1024,
} as const;

/** A batch limit the transport cannot carry is refused at start-up. */
export function batchLimitRule(config: {
  transport?: 'bullmq' | 'servicebus';
  batchMaxBytes?: number;
}): ConfigProblem[] {
  if (config.transport === undefined || config.batchMaxBytes === undefined) return [];
  const limit = TRANSPORT_MESSAGE_LIMITS[config.transport];
  if (config.batchMaxBytes <= limit) return [];
  return [
    {
      setting: 'TRIBUTARY_BATCH_MAX_BYTES',
      message: `is ${config.batchMaxBytes} bytes, more than the ${config.transport} transport carries in one message (${limit}); lower it (larger single events travel by claim check anyway)`,
    },
  ];
}

/**
 * The transport named must have what it needs to connect: BullMQ only its
 * Redis URL (validated as a setting); Service Bus one way to authenticate,
 * a usable namespace or connection string, and a queue name the service
 * accepts (see {@link serviceBusProblems}). Failing here means failing
 * before any system is contacted, not at first use.
 */
export function transportRule(config: {
  transport?: string;
  serviceBusConnectionString?: string;
  serviceBusNamespace?: string;
  queueName?: string;
}): ConfigProblem[] {
  if (config.transport !== 'servicebus') return [];
  return serviceBusProblems(config);
}

/** ADLS needs a filesystem and an endpoint. */
export function lakeRule(c: {
  lake?: string;
  adlsAccountUrl?: string;
  adlsFilesystem?: string;
  adlsConnectionString?: string;
}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (c.lake !== 'adls') return problems;
  if (!c.adlsFilesystem) {
    problems.push({
      setting: 'ADLS_FILESYSTEM',
      message: 'is required when TRIBUTARY_LAKE=adls; name the filesystem (container) to write to',
    });
  }
  if (!c.adlsAccountUrl && !c.adlsConnectionString) {
    problems.push({
      setting: 'ADLS_ACCOUNT_URL',
      message: 'TRIBUTARY_LAKE=adls needs ADLS_ACCOUNT_URL or ADLS_CONNECTION_STRING',
    });
  }
  return problems;
}
