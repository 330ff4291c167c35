import { EmulatorError } from '../emulator-error.ts';
import { parseIsoDuration } from './iso-duration.ts';

/**
 * A queue's settings, with the service's defaults. Durations are in ms.
 * Names follow the service's `QueueDescription` (and the `Properties` of
 * Microsoft's emulator `Config.json`).
 */
export interface QueueProperties {
  /** How long a peek-lock (or a session lock) lasts before it expires. Default 1 minute. */
  lockDurationMs: number;
  /** Deliveries after which a message is dead-lettered (`MaxDeliveryCountExceeded`). Default 10. */
  maxDeliveryCount: number;
  /** Only session receivers; every message needs a session id. Default false. */
  requiresSession: boolean;
  /** Time to live of a message that sets none (or a longer one). Default: unlimited. */
  defaultMessageTimeToLiveMs: number;
  /** Expired messages go to the dead-letter subqueue (`TTLExpiredException`) instead of vanishing. */
  deadLetteringOnMessageExpiration: boolean;
  /** Drop a message whose `messageId` was seen within the window. Default false. */
  requiresDuplicateDetection: boolean;
  /** Duplicate detection window. Default 10 minutes. */
  duplicateDetectionHistoryTimeWindowMs: number;
  /**
   * Largest message (or batch) accepted, in bytes, announced as the sender
   * link's `max-message-size`. Default 256 KiB (Standard tier); Premium
   * allows up to 100 MiB.
   */
  maxMessageSizeBytes: number;
}

/** `TimeSpan.MaxValue` in ms, the service's "never expires". */
export const FOREVER_MS = 922_337_203_685_477;

/** The service's defaults for a new queue. */
export const DEFAULT_QUEUE_PROPERTIES: Readonly<QueueProperties> = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  requiresSession: false,
  defaultMessageTimeToLiveMs: FOREVER_MS,
  deadLetteringOnMessageExpiration: false,
  requiresDuplicateDetection: false,
  duplicateDetectionHistoryTimeWindowMs: 600_000,
  maxMessageSizeBytes: 256 * 1024,
};

/** Largest `maxMessageSizeBytes` (100 MiB, the Premium tier's limit). */
export const MAX_MESSAGE_SIZE_LIMIT = 100 * 1024 * 1024;
/** Longest lock the service grants (5 minutes). */
export const MAX_LOCK_DURATION_MS = 300_000;

/**
 * `Properties` of a queue in the `Config.json` shape. Durations are ISO 8601
 * text; `MaxMessageSizeInKilobytes` is the service's Premium property (not in
 * Microsoft's emulator, which is Standard only).
 */
export interface QueuePropertiesJson {
  LockDuration?: string;
  MaxDeliveryCount?: number;
  RequiresSession?: boolean;
  DefaultMessageTimeToLive?: string;
  DeadLetteringOnMessageExpiration?: boolean;
  RequiresDuplicateDetection?: boolean;
  DuplicateDetectionHistoryTimeWindow?: string;
  MaxMessageSizeInKilobytes?: number;
  ForwardTo?: string;
  ForwardDeadLetteredMessagesTo?: string;
}

const KNOWN_JSON_KEYS = new Set([
  'LockDuration',
  'MaxDeliveryCount',
  'RequiresSession',
  'DefaultMessageTimeToLive',
  'DeadLetteringOnMessageExpiration',
  'RequiresDuplicateDetection',
  'DuplicateDetectionHistoryTimeWindow',
  'MaxMessageSizeInKilobytes',
  'ForwardTo',
  'ForwardDeadLetteredMessagesTo',
]);

/**
 * Queue properties the service documents (the Azure Resource Manager queue
 * resource, https://learn.microsoft.com/azure/templates/microsoft.servicebus/namespaces/queues)
 * that the emulator does not model: a `Config.json` may carry them (one
 * written for the service's settings, or a later Microsoft emulator), so they
 * are accepted and ignored with a notice rather than refused.
 */
const DOCUMENTED_UNMODELLED_JSON_KEYS = new Set([
  'AutoDeleteOnIdle',
  'EnableBatchedOperations',
  'EnableExpress',
  'EnablePartitioning',
  'MaxSizeInMegabytes',
  'Status',
  'UserMetadata',
]);

/**
 * Checks programmatic queue settings and fills in defaults; every problem is
 * named in one {@link EmulatorError} (`invalid-configuration`).
 */
export function resolveQueueProperties(
  where: string,
  given: Partial<QueueProperties> = {},
): QueueProperties {
  const p: QueueProperties = { ...DEFAULT_QUEUE_PROPERTIES, ...given };
  const problems: string[] = [];
  const positive = (name: keyof QueueProperties, max = Number.MAX_SAFE_INTEGER): void => {
    const value = p[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
      problems.push(
        `${where}.${name}: expected a whole number from 1 to ${max}, got ${String(value)}`,
      );
  };
  positive('lockDurationMs', MAX_LOCK_DURATION_MS);
  positive('maxDeliveryCount', 2_147_483_647);
  positive('defaultMessageTimeToLiveMs', FOREVER_MS);
  positive('duplicateDetectionHistoryTimeWindowMs', 7 * 86_400_000);
  positive('maxMessageSizeBytes', MAX_MESSAGE_SIZE_LIMIT);
  for (const name of [
    'requiresSession',
    'deadLetteringOnMessageExpiration',
    'requiresDuplicateDetection',
  ] as const) {
    if (typeof p[name] !== 'boolean')
      problems.push(`${where}.${name}: expected true or false, got ${String(p[name])}`);
  }
  if (problems.length > 0) throw new EmulatorError('invalid-configuration', problems.join('\n'));
  return p;
}

/**
 * Converts `Config.json` queue `Properties` to {@link QueueProperties},
 * naming every problem. Documented properties the emulator does not model
 * are ignored and reported through `notice`; a name the service does not
 * document (a typo, most likely) is refused.
 */
export function queuePropertiesFromJson(
  where: string,
  json: unknown,
  notice: (message: string) => void = () => undefined,
): QueueProperties {
  if (json === undefined) return resolveQueueProperties(where);
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new EmulatorError('invalid-configuration', `${where}: expected an object`);
  const source = json as Record<string, unknown>;
  const problems: string[] = [];
  const given: Partial<QueueProperties> = {};
  const ignored: string[] = [];
  for (const key of Object.keys(source)) {
    if (DOCUMENTED_UNMODELLED_JSON_KEYS.has(key)) ignored.push(key);
    else if (!KNOWN_JSON_KEYS.has(key))
      problems.push(
        `${where}.${key}: unknown property (known: ${[...KNOWN_JSON_KEYS].join(', ')}; accepted and ignored: ${[...DOCUMENTED_UNMODELLED_JSON_KEYS].join(', ')})`,
      );
  }
  if (ignored.length > 0) notice(`${where}: not emulated, ignored: ${ignored.join(', ')}`);
  const duration = (key: string, into: keyof QueueProperties): void => {
    const value = source[key];
    if (value === undefined) return;
    const ms = typeof value === 'string' ? parseIsoDuration(value) : undefined;
    if (ms === undefined || ms < 1)
      problems.push(
        `${where}.${key}: expected an ISO 8601 duration such as PT1M, got ${JSON.stringify(value)}`,
      );
    else (given as Record<string, number>)[into] = Math.min(ms, FOREVER_MS);
  };
  const flag = (key: string, into: keyof QueueProperties): void => {
    const value = source[key];
    if (value === undefined) return;
    if (typeof value !== 'boolean')
      problems.push(`${where}.${key}: expected true or false, got ${JSON.stringify(value)}`);
    else (given as Record<string, boolean>)[into] = value;
  };
  duration('LockDuration', 'lockDurationMs');
  duration('DefaultMessageTimeToLive', 'defaultMessageTimeToLiveMs');
  duration('DuplicateDetectionHistoryTimeWindow', 'duplicateDetectionHistoryTimeWindowMs');
  flag('RequiresSession', 'requiresSession');
  flag('DeadLetteringOnMessageExpiration', 'deadLetteringOnMessageExpiration');
  flag('RequiresDuplicateDetection', 'requiresDuplicateDetection');
  if (source['MaxDeliveryCount'] !== undefined)
    given.maxDeliveryCount = source['MaxDeliveryCount'] as number;
  if (source['MaxMessageSizeInKilobytes'] !== undefined) {
    const kb = source['MaxMessageSizeInKilobytes'];
    if (typeof kb !== 'number' || !Number.isInteger(kb) || kb < 1 || kb > 102_400)
      problems.push(
        `${where}.MaxMessageSizeInKilobytes: expected a whole number from 1 to 102400, got ${JSON.stringify(kb)}`,
      );
    else given.maxMessageSizeBytes = kb * 1024;
  }
  for (const key of ['ForwardTo', 'ForwardDeadLetteredMessagesTo']) {
    const value = source[key];
    if (value !== undefined && value !== '' && value !== null)
      problems.push(`${where}.${key}: auto-forwarding is not emulated; leave it empty`);
  }
  if (problems.length > 0) throw new EmulatorError('invalid-configuration', problems.join('\n'));
  try {
    return resolveQueueProperties(where, given);
  } catch (error) {
    // Re-word the programmatic names as the JSON ones the user wrote.
    if (error instanceof EmulatorError)
      throw new EmulatorError(
        'invalid-configuration',
        error.message
          .replace('.lockDurationMs', '.LockDuration')
          .replace('.maxDeliveryCount', '.MaxDeliveryCount')
          .replace('.defaultMessageTimeToLiveMs', '.DefaultMessageTimeToLive')
          .replace(
            '.duplicateDetectionHistoryTimeWindowMs',
            '.DuplicateDetectionHistoryTimeWindow',
          ),
      );
    throw error;
  }
}
