import type { TokenCredential } from '@azure/core-auth';
import type { QueueError } from '../queue-error.ts';

/** Options of {@link createServiceBusTransport}. */
export interface ServiceBusTransportOptions {
  /**
   * `Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…` (with
   * `UseDevelopmentEmulator=true` for an emulator). Give this, or
   * `fullyQualifiedNamespace` with `credential`.
   */
  readonly connectionString?: string;
  /** `NAME.servicebus.windows.net`, used with `credential` (Azure identity). */
  readonly fullyQualifiedNamespace?: string;
  /** A Microsoft Entra credential, e.g. `DefaultAzureCredential` from `@azure/identity`. */
  readonly credential?: TokenCredential;
  /**
   * The session-enabled queue carrying change batches; partition `n` is the
   * session `p<n>` on it.
   */
  readonly queueName: string;
  /** K, the number of partitions capture routes to; every process of a pipeline must agree. */
  readonly partitionCount: number;
  /**
   * Upper bound on a batch body. The publisher's `maxBatchBytes` is the
   * smaller of this and what the queue accepts in one message (its
   * `max-message-size`, read when the publisher connects), less room for the
   * message's own properties. Default 100 MiB (Premium's largest).
   */
  readonly maxBatchBytes?: number;
  /**
   * The queue's LockDuration as the writers plan with it: session locks are
   * renewed every third of it, a writer asked to give a partition back has
   * this long to do so, and a writer missing from the registry for twice
   * this long is taken for dead. Must not exceed the queue's LockDuration;
   * a shorter lock seen on the first session accepted wins, with a warning.
   * Default 30000 (the service's default LockDuration is 60 s).
   */
  readonly leaseTtlMs?: number;
  /**
   * How long one Service Bus operation may take, including the SDK's own
   * retries, before it fails with `UNAVAILABLE`. Default 10000.
   */
  readonly operationTimeoutMs?: number;
  /**
   * Told about failures that happen in the background (session lock
   * renewals, the writers' registry), for logs and readiness; the transport
   * has already acted on them.
   */
  readonly onBackgroundError?: (error: QueueError) => void;
}

/** Options with every default applied. */
export interface ResolvedServiceBusOptions extends Required<
  Omit<ServiceBusTransportOptions, 'connectionString' | 'fullyQualifiedNamespace' | 'credential'>
> {
  readonly connectionString: string | undefined;
  readonly fullyQualifiedNamespace: string | undefined;
  readonly credential: TokenCredential | undefined;
}

/** Service Bus Premium's largest message; Standard takes 256 KiB (read from the queue). */
const DEFAULT_MAX_BATCH_BYTES = 100 * 1024 * 1024;

/** Applies defaults and rejects options that cannot work, naming the field. */
export function resolveServiceBusOptions(
  options: ServiceBusTransportOptions,
): ResolvedServiceBusOptions {
  const resolved: ResolvedServiceBusOptions = {
    connectionString: options.connectionString,
    fullyQualifiedNamespace: options.fullyQualifiedNamespace,
    credential: options.credential,
    queueName: options.queueName,
    partitionCount: options.partitionCount,
    maxBatchBytes: options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
    leaseTtlMs: options.leaseTtlMs ?? 30_000,
    operationTimeoutMs: options.operationTimeoutMs ?? 10_000,
    onBackgroundError: options.onBackgroundError ?? ignoreBackgroundError,
  };
  const problems: string[] = [];
  if (!resolved.connectionString && !(resolved.fullyQualifiedNamespace && resolved.credential)) {
    problems.push('give connectionString, or fullyQualifiedNamespace with credential');
  }
  if (!Number.isInteger(resolved.partitionCount) || resolved.partitionCount < 1) {
    problems.push(`partitionCount must be a whole number ≥ 1 (got ${resolved.partitionCount})`);
  }
  // Service Bus entity names: letters, digits, '.', '-', '_' (and '/' for paths, not used here), 1–260.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,259}$/.test(resolved.queueName)) {
    problems.push(
      `queueName must start with a letter or digit and use only letters, digits, '_', '.', '-' (got '${resolved.queueName}')`,
    );
  }
  if (!(resolved.leaseTtlMs >= MIN_LEASE_TTL_MS))
    problems.push(`leaseTtlMs must be ≥ ${MIN_LEASE_TTL_MS} (got ${resolved.leaseTtlMs})`);
  for (const field of ['operationTimeoutMs', 'maxBatchBytes'] as const) {
    if (!(resolved[field] > 0)) problems.push(`${field} must be > 0 (got ${resolved[field]})`);
  }
  if (problems.length > 0)
    throw new RangeError(`Invalid Service Bus transport options: ${problems.join('; ')}`);
  return resolved;
}

/** Below this a session lock cannot be renewed reliably (a third of it between renewals). */
const MIN_LEASE_TTL_MS = 300;

/** Timings of a writer's claims, from the lock duration it plans with. */
export interface SessionTimings {
  readonly lockDurationMs: number;
  /** Session locks are renewed, and the registry beaten, this often. */
  readonly renewIntervalMs: number;
  /** A writer whose registry entry has not changed for this long is taken for dead. */
  readonly presenceTtlMs: number;
}

/**
 * Renewing at a third of the lock survives one missed renewal. A writer's
 * presence outlives two lock durations: one in which the registry may be
 * held by a writer that died holding it, and one of margin.
 */
export function sessionTimings(lockDurationMs: number): SessionTimings {
  const lock = Math.max(MIN_LEASE_TTL_MS, Math.round(lockDurationMs));
  return {
    lockDurationMs: lock,
    renewIntervalMs: Math.round(lock / 3),
    presenceTtlMs: 2 * lock + Math.round(lock / 3),
  };
}

/** Background errors are optional telemetry; without a listener there is nothing to do with them. */
function ignoreBackgroundError(_error: QueueError): void {}
