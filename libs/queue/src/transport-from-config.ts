import { TRANSPORT_MESSAGE_LIMITS } from '@tributary/core';
import { createBullmqTransport } from './bullmq/bullmq-transport.ts';
import type { QueueError } from './queue-error.ts';
import type { QueueTransport } from './transport.ts';

/** The transport settings both services read (see `sharedSettings` in `@tributary/core`). */
export interface TransportSettings {
  readonly transport: 'bullmq' | 'servicebus';
  readonly redisUrl: string;
  readonly queueName: string;
  readonly partitionCount: number;
  /** BullMQ: how long a partition lease lasts without renewal. */
  readonly leaseTtlMs?: number;
}

/** What a service wants to hear from its transport. */
export interface TransportHooks {
  /**
   * Failures that happen in the background (lease renewals, lost
   * connections), for logs and readiness; the transport has already acted on them.
   */
  readonly onBackgroundError?: (error: QueueError) => void;
}

/**
 * Opens the transport the validated settings name. The one place that
 * knows the adapters: a second transport adds one branch here and touches
 * nothing else outside its folder.
 */
export function createTransportFromConfig(
  settings: TransportSettings,
  hooks: TransportHooks = {},
): QueueTransport {
  switch (settings.transport) {
    case 'bullmq':
      return createBullmqTransport({
        redisUrl: settings.redisUrl,
        queueName: settings.queueName,
        partitionCount: settings.partitionCount,
        maxBatchBytes: TRANSPORT_MESSAGE_LIMITS.bullmq,
        ...(settings.leaseTtlMs === undefined ? {} : { leaseTtlMs: settings.leaseTtlMs }),
        ...(hooks.onBackgroundError ? { onBackgroundError: hooks.onBackgroundError } : {}),
      });
    case 'servicebus':
      // Refused at start-up by the configuration rules; unreachable with a validated config.
      throw new RangeError('The Service Bus transport is not available in this release yet.');
  }
}
