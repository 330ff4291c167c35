import type { BackoffPolicy } from '@tributary/core';
import type { Telemetry } from 'bullmq';
import type { QueueError } from '../queue-error.ts';

/** Options of {@link createBullmqTransport}. */
export interface BullmqTransportOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  readonly redisUrl: string;
  /** Base name of the partition queues; partition `n` is the BullMQ queue `${queueName}-p${n}`. */
  readonly queueName: string;
  /** K, the number of partitions capture routes to; every process of a pipeline must agree. */
  readonly partitionCount: number;
  /** BullMQ key prefix. Default `tributary`. */
  readonly prefix?: string;
  /**
   * How long a writer's partition lease lasts without renewal: a dead
   * writer's partitions move after this. Also how long a writer asked to
   * give a partition back may take before it is taken from it. Default 15000.
   */
  readonly leaseTtlMs?: number;
  /**
   * Upper bound on any single Redis command, including time spent waiting for
   * a reconnect. A command that runs out fails with `UNAVAILABLE`. Default 5000.
   */
  readonly operationTimeoutMs?: number;
  /** How often an idle reader looks for a new batch while `next(waitMs)` waits. Default 100. */
  readonly pollIntervalMs?: number;
  /** Larger batch bodies are refused with `TOO_LARGE` before they reach Redis. Default 64 MiB. */
  readonly maxBatchBytes?: number;
  /** Approximate length kept of each partition queue's BullMQ event stream. Default 1000. */
  readonly maxEventStreamLength?: number;
  /** Delays between reconnection attempts; only the interval fields are used (it never gives up). */
  readonly reconnectBackoff?: BackoffPolicy;
  /**
   * Told about failures that happen in the background (lease renewals, BullMQ
   * connection events), for logs and metrics. The transport has already acted
   * on them (for instance by declaring a partition lost).
   */
  readonly onBackgroundError?: (error: QueueError) => void;
  /**
   * BullMQ's own telemetry interface (`bullmq-otel`) for the partition
   * queues: spans of adding (and inspecting) batches, children of the
   * caller's. Unset, BullMQ traces nothing.
   */
  readonly telemetry?: Telemetry | undefined;
}

/** Options with every default applied. */
export type ResolvedBullmqOptions = Required<BullmqTransportOptions>;

const RECONNECT_BACKOFF: BackoffPolicy = {
  maxRetries: Infinity,
  initialIntervalMs: 100,
  maxIntervalMs: 2000,
  maxElapsedMs: Infinity,
  jitter: 0.5,
};

/** Applies defaults and rejects options that cannot work, naming the field. */
export function resolveBullmqOptions(options: BullmqTransportOptions): ResolvedBullmqOptions {
  const resolved: ResolvedBullmqOptions = {
    prefix: 'tributary',
    leaseTtlMs: 15_000,
    operationTimeoutMs: 5000,
    pollIntervalMs: 100,
    maxBatchBytes: 64 * 1024 * 1024,
    maxEventStreamLength: 1000,
    reconnectBackoff: RECONNECT_BACKOFF,
    onBackgroundError: ignoreBackgroundError,
    telemetry: undefined,
    ...definedOnly(options),
  } as ResolvedBullmqOptions;
  const problems: string[] = [];
  if (!Number.isInteger(resolved.partitionCount) || resolved.partitionCount < 1) {
    problems.push(`partitionCount must be a whole number ≥ 1 (got ${resolved.partitionCount})`);
  }
  // BullMQ refuses ':' in queue names because it separates the parts of its keys.
  if (!/^[A-Za-z0-9_.-]+$/.test(resolved.queueName)) {
    problems.push(
      `queueName must use only letters, digits, '_', '.', '-' (got '${resolved.queueName}')`,
    );
  }
  for (const field of ['operationTimeoutMs', 'pollIntervalMs', 'maxBatchBytes'] as const) {
    if (!(resolved[field] > 0)) problems.push(`${field} must be > 0 (got ${resolved[field]})`);
  }
  if (!(resolved.leaseTtlMs >= MIN_LEASE_TTL_MS))
    problems.push(`leaseTtlMs must be ≥ ${MIN_LEASE_TTL_MS} (got ${resolved.leaseTtlMs})`);
  if (problems.length > 0)
    throw new RangeError(`Invalid BullMQ transport options: ${problems.join('; ')}`);
  return resolved;
}

/** Below this a lease cannot be renewed reliably (a third of it between renewals). */
const MIN_LEASE_TTL_MS = 300;

/** Lease timings derived from a writer's lease TTL (see {@link leaseTimings}). */
export interface LeaseTimings {
  readonly leaseTtlMs: number;
  /** Leases, presence and the held job's lock are refreshed this often. */
  readonly renewIntervalMs: number;
  /** BullMQ job lock: shorter than the lease, so a dead owner's job is free before its partition is. */
  readonly lockDurationMs: number;
  /** BullMQ stalled-job check period of the partition's owner. */
  readonly stalledIntervalMs: number;
}

/**
 * Renewing at a third of the TTL survives one missed renewal. The job lock
 * (two thirds) outlives the renewal period, yet expires before the lease of
 * an owner that died right after renewing both, so the next owner finds the
 * job unlocked and BullMQ's stalled check returns it to the front.
 */
export function leaseTimings(leaseTtlMs: number): LeaseTimings {
  if (!Number.isFinite(leaseTtlMs) || leaseTtlMs < MIN_LEASE_TTL_MS) {
    throw new RangeError(`leaseTtlMs must be ≥ ${MIN_LEASE_TTL_MS} (got ${leaseTtlMs})`);
  }
  return {
    leaseTtlMs: Math.round(leaseTtlMs),
    renewIntervalMs: Math.round(leaseTtlMs / 3),
    lockDurationMs: Math.round((leaseTtlMs * 2) / 3),
    stalledIntervalMs: Math.max(50, Math.round(leaseTtlMs / 4)),
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Background errors are optional telemetry; without a listener there is nothing to do with them. */
function ignoreBackgroundError(_error: QueueError): void {}
